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
import { ADMIN_TOKEN, ImportHarness } from '../integration/legacy-import/import-harness';
import { AppProcess, freePort } from '../support/app-process';
import { launchChromium } from '../support/chromium';
import { repoRoot, testBrokers } from '../support/test-env';
import { waitFor } from '../support/wait-for';

const run = promisify(execFile);
/** Where the run leaves the page as a person would see it (test-output/ is not committed). */
export const SCREENSHOT = path.join(repoRoot, 'test-output', 'status-page.png');

describe('status console: the page in real Chromium shows live figures per entity', () => {
  let h: ImportHarness;
  let importer: AppProcess;
  let consoleApp: AppProcess;
  let browser: Browser;
  let page: Page;
  let users: string;
  const kafka = new KafkaConnection({ brokers: testBrokers(), clientId: 'test-status-page' }, silentLog);
  const producer = kafka.producer();

  async function cell(entity: string, field: string): Promise<string> {
    return (await page.locator(`tr[data-entity="${entity}"] td[data-field="${field}"]`).textContent({ timeout: 5000 })) ?? '';
  }

  async function pageShows(what: string, entity: string, field: string, expected: (text: string) => boolean): Promise<string> {
    return waitFor(what, async () => {
      const text = await cell(entity, field).catch(() => '');
      return expected(text) ? text : undefined;
    }, 45_000, 250);
  }

  before(async () => {
    h = await ImportHarness.create(
      'CREATE TABLE users (id int PRIMARY KEY, name text); CREATE TABLE orders (id int PRIMARY KEY, total int)',
      `      - name: users\n        key: [id]\n        capture: { mode: trigger, pollIntervalMs: 100 }\n      - name: orders\n        key: [id]\n        capture: { mode: trigger, pollIntervalMs: 100 }\n`,
    );
    users = `${h.system}.public.users`;
    importer = await h.startImporter();
    const closedPort = await freePort();
    consoleApp = await AppProcess.start('console', {
      KAFKA_BROKERS: testBrokers().join(','),
      PIPELINE_FILE: h.pipelineFile,
      ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      // legacy-writeback is not running: the page must say so rather than show stale figures.
      CONSOLE_METRICS_URLS: `legacy-import=${importer.url('')},legacy-writeback=http://127.0.0.1:${closedPort}`,
    });
    await waitFor('console ready', async () => (await consoleApp.status('/health/ready')) === 200 || (consoleApp.isRunning() ? undefined : Promise.reject(new Error(consoleApp.logs()))), 60_000, 200);
    await producer.connect();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1800, height: 420 } });
  });

  after(async () => {
    await browser?.close();
    await producer.disconnect().catch(() => undefined);
    await consoleApp?.stop('SIGKILL').catch(() => undefined);
    await h?.close();
  });

  it('refuses the figures without the admin token, as every admin endpoint does', async () => {
    assert.equal((await consoleApp.json('/admin/status')).status, 401);
    const wrong = await fetch(consoleApp.url('/admin/status'), { headers: { authorization: 'Bearer not-the-token' } });
    assert.equal(wrong.status, 401);
    const html = await fetch(consoleApp.url('/'));
    assert.equal(html.status, 200, 'the page itself holds no data');
    assert.doesNotMatch(await html.text(), new RegExp(h.system), 'no entity name in the static page');
  });

  it('renders the entity table and follows changes, switches, dead letters and verify results without a reload', async () => {
    await page.goto(`${consoleApp.url('/')}?refresh=1000#token=${ADMIN_TOKEN}`);
    await pageShows('entity row', users, 'legacyEvents', (t) => t === '0');
    assert.equal(await cell(users, 'capture'), 'streaming');
    assert.equal(await cell(users, 'legacyToNew'), 'enabled');
    assert.equal(await cell(users, 'lastVerify'), 'never');
    assert.match((await page.locator('[data-app="legacy-writeback"]').textContent()) ?? '', /DOWN/);
    assert.match((await page.locator('[data-app="legacy-import"]').textContent()) ?? '', /up/);
    assert.equal(page.url().includes(ADMIN_TOKEN), false, 'the token leaves the address bar');

    // A change in the legacy table: the page's figures follow by themselves.
    await h.db.exec(`INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 7) g`);
    await pageShows('7 legacy events', users, 'legacyEvents', (t) => t === '7');
    await pageShows('a last change time', users, 'lastChange', (t) => /s ago$/.test(t));
    assert.match(await cell(users, 'captureLag'), /^\d+\.\d s$/);
    assert.equal(await cell(`${h.system}.public.orders`, 'legacyEvents'), '0', 'the other entity is untouched');

    // A switch made with sync-ctl.
    const paused = await run(process.execPath, [path.join(repoRoot, 'dist', 'apps', 'sync-ctl', 'src', 'main.js'), 'pause', users, '--direction', 'new-to-legacy', '--reason', 'status page test', '--by', 'tester'], {
      env: { PATH: process.env['PATH'] ?? '', PIPELINE_FILE: h.pipelineFile, KAFKA_BROKERS: testBrokers().join(','), LEGACY_DATABASE_URL: h.db.url },
      timeout: 60_000,
    });
    assert.match(paused.stdout, /paused/);
    await pageShows('the pause', users, 'newToLegacy', (t) => t === 'paused');
    assert.equal(await cell(users, 'legacyToNew'), 'enabled');

    // A dead letter of the entity and a verify outcome, as the apps and sync-ctl verify write them.
    await producer.send([
      { topic: Topics.dlq('legacy-import'), key: '{"id":3}', value: '{}', headers: { [DLQ_HEADERS.sourceTopic]: h.topic('users'), [DLQ_HEADERS.errorKind]: 'poison', [DLQ_HEADERS.reason]: 'test' } },
    ]);
    const summary: VerifySummary = { kind: 'verify', entity: users, at: new Date().toISOString(), by: 'tester', agree: false, differences: 2, legacyRows: 7, newRows: 5 };
    await producer.send([{ topic: Topics.status, key: statusKey(summary), value: JSON.stringify(summary) }]);
    await pageShows('the dead letter', users, 'deadLetters', (t) => t === 'legacy-import: poison 1');
    await pageShows('the verify result', users, 'lastVerify', (t) => t.startsWith('2 difference(s)'));

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    process.stdout.write(`status page screenshot: ${SCREENSHOT}\n`);
  });
});
