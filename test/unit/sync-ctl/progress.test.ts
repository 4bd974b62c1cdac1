import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandProgress, formatDuration, formatProgress, NO_PROGRESS, ProgressReporter } from '../../../apps/sync-ctl/src/progress';
import { parseSample, parseSince } from '../../../apps/sync-ctl/src/commands/verify.command';
import type { CommandIo } from '../../../apps/sync-ctl/src/command';
import { IdHashSet, sampleSelector, timestampOf } from '../../../apps/sync-ctl/src/verify/reconcile';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('progress: the line', () => {
  it('shows done/total, percentage, average rate, elapsed time and ETA', () => {
    assert.equal(
      formatProgress({ label: 'verify users', unit: 'rows', done: 120_000, total: 1_000_000, elapsedMs: 5000 }),
      'verify users: 120,000/1,000,000 rows (12.0%), 24,000 rows/s, 5s, ETA 37s',
    );
  });

  it('leaves out percentage and ETA without a total, and the ETA once done or before any rate', () => {
    assert.equal(formatProgress({ label: 'x', unit: 'messages', done: 10, total: undefined, elapsedMs: 2000 }), 'x: 10 messages, 5 messages/s, 2s');
    assert.equal(formatProgress({ label: 'x', unit: 'rows', done: 50, total: 50, elapsedMs: 1000 }), 'x: 50/50 rows (100.0%), 50 rows/s, 1s');
    assert.equal(formatProgress({ label: 'x', unit: 'rows', done: 0, total: 50, elapsedMs: 0 }), 'x: 0/50 rows (0.0%), 0 rows/s, 0s');
  });

  it('formats durations to the second, minutes and hours', () => {
    assert.deepEqual([formatDuration(400), formatDuration(59_400), formatDuration(185_000), formatDuration(3_720_000)], ['0s', '59s', '3m05s', '1h02m']);
  });
});

describe('progress: throttling', () => {
  it('prints at most one line per interval, and always the last one on finish', () => {
    const c = clock();
    const lines: string[] = [];
    const p = new ProgressReporter({ label: 'verify users', total: 100, write: (l) => void lines.push(l), now: c.now, intervalMs: 1000 });
    for (let i = 0; i < 10; i++) {
      c.advance(300);
      p.add(10);
    }
    // 3 s of adds every 300 ms: lines at 1.2 s, 2.4 s (not at every add).
    assert.deepEqual(lines, ['verify users: 40/100 rows (40.0%), 33 rows/s, 1s, ETA 2s\n', 'verify users: 80/100 rows (80.0%), 33 rows/s, 2s, ETA 1s\n']);
    p.finish();
    assert.equal(lines.length, 3);
    assert.equal(lines[2], 'verify users: 100/100 rows (100.0%), 33 rows/s, 3s\n');
  });

  it('also prints after every N units (dlq replay --progress-every), and rewrites one line on a terminal', () => {
    const c = clock();
    const lines: string[] = [];
    const p = new ProgressReporter({ label: 'dlq replay', unit: 'messages', everyUnits: 500, rewrite: true, write: (l) => void lines.push(l), now: c.now });
    p.setTotal(1200);
    c.advance(10);
    p.add(400);
    c.advance(10);
    p.add(400);
    assert.equal(lines.length, 1, 'the 500th message passed');
    assert.ok(lines[0]!.startsWith('\r\x1b[Kdlq replay: 800/1,200 messages (66.7%)'), JSON.stringify(lines[0]));
    p.finish();
    assert.equal(lines.at(-1), '\n', 'the rewritten line is ended');
  });

  it('is off with --json, and off when stderr is not a terminal unless forced', () => {
    const io = { out: () => undefined, err: () => undefined } as unknown as CommandIo;
    assert.equal(commandProgress(io, { label: 'x', json: true, force: true, isTTY: true }), NO_PROGRESS);
    assert.equal(commandProgress(io, { label: 'x', isTTY: false }), NO_PROGRESS);
    assert.notEqual(commandProgress(io, { label: 'x', isTTY: false, force: true }), NO_PROGRESS);
    assert.notEqual(commandProgress(io, { label: 'x', isTTY: true }), NO_PROGRESS);
  });

  it('forced into a log, writes whole lines through io.err', () => {
    const errs: string[] = [];
    const io = { out: () => undefined, err: (t: string) => void errs.push(t) } as unknown as CommandIo;
    const p = commandProgress(io, { label: 'verify users', isTTY: false, force: true });
    p.setTotal(3);
    p.add(3);
    p.finish();
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /^verify users: 3\/3 rows \(100\.0%\), \d+ rows\/s, 0s$/);
  });
});

describe('verify: --sample and --since arguments', () => {
  it('reads a fraction, a percentage or a row count, and refuses anything else', () => {
    assert.deepEqual(parseSample('0.05', 's'), { fraction: 0.05, seed: 's' });
    assert.deepEqual(parseSample('5%', 's'), { fraction: 0.05, seed: 's' });
    assert.deepEqual(parseSample('10000', 's'), { rows: 10000, seed: 's' });
    for (const bad of ['0', '0.0', '1.5', '150%', 'x', '-1', '']) assert.throws(() => parseSample(bad, 's'), /--sample/, bad);
  });

  it('reads an ISO-8601 time (no zone = UTC) or an age', () => {
    const now = Date.parse('2026-12-06T12:00:00Z');
    assert.equal(parseSince('2026-12-06T10:00:00Z', now).toISOString(), '2026-12-06T10:00:00.000Z');
    assert.equal(parseSince('2026-12-06T10:00:00', now).toISOString(), '2026-12-06T10:00:00.000Z');
    assert.equal(parseSince('2026-12-06T10:00:00+02:00', now).toISOString(), '2026-12-06T08:00:00.000Z');
    assert.equal(parseSince('2026-12-06', now).toISOString(), '2026-12-06T00:00:00.000Z');
    assert.equal(parseSince('90s', now).toISOString(), '2026-12-06T11:58:30.000Z');
    assert.equal(parseSince('12h', now).toISOString(), '2026-12-06T00:00:00.000Z');
    for (const bad of ['yesterday', '12', '2026-13-45T00:00:00Z', '5w']) assert.throws(() => parseSince(bad, now), /--since/, bad);
  });

  it('takes legacy timestamps with or without zone, and dates, as instants', () => {
    assert.equal(timestampOf('2026-01-01T00:00:01.123456+00:00'), Date.parse('2026-01-01T00:00:01.123Z'));
    assert.equal(timestampOf('2026-01-01T00:00:01'), Date.parse('2026-01-01T00:00:01Z'));
    assert.equal(timestampOf('2026-01-01'), Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(timestampOf(null), undefined);
    assert.equal(timestampOf('not a time'), undefined);
  });

  it('samples about the fraction, the same ids for the same seed, other ids for another', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `id-${i}`);
    const a = ids.filter(sampleSelector(0.1, 'a'));
    assert.ok(a.length > 900 && a.length < 1100, `${a.length}`);
    assert.deepEqual(ids.filter(sampleSelector(0.1, 'a')), a);
    const b = ids.filter(sampleSelector(0.1, 'b'));
    assert.ok(b.filter((id) => a.includes(id)).length < 200);
    assert.equal(ids.filter(sampleSelector(1, 'a')).length, ids.length);
  });

  it('remembers ids seen in 8 bytes each', () => {
    const set = new IdHashSet();
    for (let i = 0; i < 5000; i++) set.add(`seen-${i}`);
    for (let i = 0; i < 5000; i += 7) assert.ok(set.has(`seen-${i}`));
    for (let i = 0; i < 5000; i += 7) assert.ok(!set.has(`other-${i}`));
  });
});
