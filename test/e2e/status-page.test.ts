import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Topics } from '@sync/contracts';
import { statusKey, type VerifySummary } from '@sync/control';
import { DLQ_HEADERS, KafkaConnection, silentLog } from '@sync/kafka';
import { AppProcess, freePort } from '../support/app-process';
import { launchChromium } from '../support/chromium';
import { repoRoot, testBrokers } from '../support/test-env';
import { TwoWayStack } from '../support/two-way-stack';
import { waitFor } from '../support/wait-for';

const run = promisify(execFile);
/** Where the run leaves the page as a person would see it (test-output/ is not committed). */
export const SCREENSHOT = path.join(repoRoot, 'test-output', 'status-page.png');

describe('status console: the page in real Chromium shows live figures per entity', () => {
  let stack: TwoWayStack;
  let consoleApp: AppProcess;
  let adminToken: string;
  let browser: Browser;
  let page: Page;
  let users: string;
  const kafka = new KafkaConnection({ brokers: testBrokers(), clientId: 'test-status-page' }, silentLog);
  const producer = kafka.producer();

  async function cell(entity: string, field: string): Promise<string> {
    return (await page.locator(`tr[data-entity="${entity}"] td[data-field="${field}"]`).textContent({ timeout: 5000 })) ?? '';
  }

  async function pageShows(what: string, entity: string, field: string, expected: (text: string) => boolean): Promise<string> {
    let seen = '';
    try {
      return await waitFor(what, async () => {
        seen = await cell(entity, field).catch(() => '(no such cell)');
        return expected(seen) ? seen : undefined;
      }, 45_000, 250);
    } catch (err) {
      const row = await page.locator(`tr[data-entity="${entity}"]`).textContent({ timeout: 1000 }).catch(() => '(no row)');
      throw new Error(`${(err as Error).message}: ${field} shows "${seen}"; row: ${row}; page: ${(await page.locator('body').textContent())?.slice(0, 600)}`);
    }
  }

  before(async () => {
    // The four apps as separate processes, and the console reading their /metrics.
    stack = await TwoWayStack.create();
    adminToken = stack.env()['ADMIN_TOKEN']!;
    users = `${stack.system}.public.users`;
    // Three rows before the start: legacy-import's initial snapshot reads them.
    await stack.legacy.exec(`INSERT INTO users (id, name, email, street, city, zip) SELECT g, 'user ' || g, 'u' || g || '@example.org', g || ' Main St', 'City', '0000' || g FROM generate_series(101, 103) g`);
    await stack.startApps({ CONSUMER_LAG_REFRESH_MS: '1000' });
    const metricsUrls = [...stack.apps.values()].map((app) => `${app.app}=${app.url('')}`);
    // One more source where nothing listens: the page must say it is down rather than show stale figures.
    metricsUrls.push(`nothing-here=http://127.0.0.1:${await freePort()}`);
    consoleApp = await AppProcess.start('console', { ...stack.env(), CONSOLE_METRICS_URLS: metricsUrls.join(',') });
    await waitFor('console ready', async () => (await consoleApp.status('/health/ready')) === 200 || (consoleApp.isRunning() ? undefined : Promise.reject(new Error(consoleApp.logs()))), 60_000, 200);
    await producer.connect();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1800, height: 420 } });
  });

  after(async () => {
    await browser?.close();
    await producer.disconnect().catch(() => undefined);
    await consoleApp?.stop('SIGKILL').catch(() => undefined);
    await stack?.close();
  });

  it('refuses the figures without the admin token, as every admin endpoint does', async () => {
    assert.equal((await consoleApp.json('/admin/status')).status, 401);
    const wrong = await fetch(consoleApp.url('/admin/status'), { headers: { authorization: 'Bearer not-the-token' } });
    assert.equal(wrong.status, 401);
    const html = await fetch(consoleApp.url('/'));
    assert.equal(html.status, 200, 'the page itself holds no data');
    assert.doesNotMatch(await html.text(), new RegExp(stack.system), 'no entity name in the static page');
  });

  it('renders the entity table and follows changes, switches, dead letters and verify results without a reload', async () => {
    await page.goto(`${consoleApp.url('/')}?refresh=1000#token=${adminToken}`);
    await pageShows('entity row', users, 'legacyEvents', (t) => t === '3');
    assert.equal(await cell(users, 'capture'), 'streaming');
    assert.equal(await cell(users, 'legacyToNew'), 'enabled');
    assert.equal(await cell(users, 'lastVerify'), 'never');
    assert.match((await page.locator('[data-app="nothing-here"]').textContent()) ?? '', /DOWN/);
    for (const app of ['legacy-import', 'id-translation', 'domain-transform', 'legacy-writeback']) assert.match((await page.locator(`[data-app="${app}"]`).textContent()) ?? '', /up$/);
    assert.equal(page.url().includes(adminToken), false, 'the token leaves the address bar');

    // A change in the legacy table: the page's figures follow by themselves.
    await stack.legacy.exec(`INSERT INTO users (id, name, email, street, city, zip) SELECT g, 'user ' || g, 'u' || g || '@example.org', g || ' Main St', 'City', '0000' || g FROM generate_series(1, 7) g`);
    await pageShows('3 + 7 legacy events', users, 'legacyEvents', (t) => t === '10');
    await pageShows('a last change time', users, 'lastChange', (t) => /s ago$/.test(t));
    assert.match(await cell(users, 'captureLag'), /^\d+\.\d s$/);
    assert.equal(await cell(`${stack.system}.public.orders`, 'legacyEvents'), '0', 'the other entity is untouched');
    // The consumers of the entity's topics report their lag (caught up: 0).
    await pageShows('consumer lag of id-translation and domain-transform', users, 'consumerLag', (t) => /domain-transform \d+/.test(t) && /id-translation \d+/.test(t));

    // A switch made with sync-ctl.
    const paused = await run(process.execPath, [path.join(repoRoot, 'dist', 'apps', 'sync-ctl', 'src', 'main.js'), 'pause', users, '--direction', 'new-to-legacy', '--reason', 'status page test', '--by', 'tester'], {
      env: { PATH: process.env['PATH'] ?? '', ...stack.env() },
      timeout: 60_000,
    });
    assert.match(paused.stdout, /paused/);
    await pageShows('the pause', users, 'newToLegacy', (t) => t === 'paused');
    assert.equal(await cell(users, 'legacyToNew'), 'enabled');

    // A dead letter of the entity and a verify outcome, as the apps and sync-ctl verify write them.
    await producer.send([
      { topic: Topics.dlq('legacy-import'), key: '{"id":3}', value: '{}', headers: { [DLQ_HEADERS.sourceTopic]: Topics.legacy({ system: stack.system, schema: 'public', table: 'users' }), [DLQ_HEADERS.errorKind]: 'poison', [DLQ_HEADERS.reason]: 'test' } },
    ]);
    const summary: VerifySummary = { kind: 'verify', entity: users, at: new Date().toISOString(), by: 'tester', agree: false, differences: 2, legacyRows: 7, newRows: 5 };
    await producer.send([{ topic: Topics.status, key: statusKey(summary), value: JSON.stringify(summary) }]);
    await pageShows('the dead letter', users, 'deadLetters', (t) => t === 'legacy-import: poison 1');
    await pageShows('the verify result', users, 'lastVerify', (t) => t.startsWith('2 difference(s)'));

    // The JSON behind the page: the snapshot's progress figure counted the three rows it read.
    const report = (await (await fetch(consoleApp.url('/admin/status'), { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { entities: Array<{ entity: string; capture: { snapshotRows: number | null } }> };
    assert.equal(report.entities.find((e) => e.entity === users)?.capture.snapshotRows, 3);

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    process.stdout.write(`status page screenshot: ${SCREENSHOT}\n`);
  });
});
