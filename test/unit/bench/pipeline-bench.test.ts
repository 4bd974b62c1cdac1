import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { parsePipeline } from '@sync/config';
import { cpuSecondsFromStat, machineBusySeconds, memoryBreakdown, parsePipelineBenchArgs, pipelineBenchYaml, Timeline } from '../../../scripts/bench/pipeline-bench.support';

describe('bench:pipeline support (scripts/bench/pipeline-bench.support.ts)', () => {
  it('reads rows and options, and refuses what it does not understand with the usage', () => {
    assert.deepEqual(parsePipelineBenchArgs([]), { rows: 100_000, partitions: 2, timeoutS: 300, cpuProf: [], appEnv: {}, debezium: false, keep: false });
    assert.deepEqual(parsePipelineBenchArgs(['1_000_000', '--partitions', '4', '--cpu-prof', 'domain-transform,new-service']), {
      rows: 1_000_000,
      partitions: 4,
      timeoutS: 2500,
      cpuProf: ['domain-transform', 'new-service'],
      appEnv: {},
      debezium: false,
      keep: false,
    });
    const withEnv = parsePipelineBenchArgs(['--app-env', 'NODE_OPTIONS=--max-old-space-size=128 --max-semi-space-size=4', '--app-env', 'MALLOC_ARENA_MAX=2']);
    assert.deepEqual(withEnv !== 'help' && withEnv.appEnv, { NODE_OPTIONS: '--max-old-space-size=128 --max-semi-space-size=4', MALLOC_ARENA_MAX: '2' });
    assert.throws(() => parsePipelineBenchArgs(['--app-env', 'NODE_OPTIONS']), /--app-env needs NAME=VALUE, got 'NODE_OPTIONS'/);
    assert.throws(() => parsePipelineBenchArgs(['--app-env', '=1']), /--app-env needs NAME=VALUE/);
    assert.equal(parsePipelineBenchArgs(['--help']), 'help');
    assert.throws(() => parsePipelineBenchArgs(['--partitions', '0']), /--partitions must be an integer from 1 to 64, got '0'/);
    assert.throws(() => parsePipelineBenchArgs(['--cpu-prof', 'sync-ctl']), /unknown app 'sync-ctl'/);
    assert.throws(() => parsePipelineBenchArgs(['--rows']), /unknown option '--rows'[\s\S]*Usage:/);
    assert.throws(() => parsePipelineBenchArgs(['12k']), /ROWS must be an integer/);
  });

  it('its pipeline is valid: one table mapped to one event type, topics with the partitions asked for', () => {
    const yaml = pipelineBenchYaml({ system: 'bp_x', orderAggregate: 'bporder_x', userAggregate: 'bpuser_x', prefix: 'benchpipe_x', partitions: 3 });
    const config = parsePipeline(yaml, 'bench.yaml');
    assert.deepEqual([...config.systems.keys()], ['bp_x']);
    assert.match(yaml, /partitions: 3/);
    assert.match(yaml, /type: OrderPlaced/);
  });

  it('a timeline gives when a count was reached and the rate between 10% and 90% of it', () => {
    const t = new Timeline();
    t.add(0, 0);
    t.add(1000, 0);
    t.add(2000, 100);
    t.add(3000, 500);
    t.add(4000, 900);
    t.add(5000, 1000);
    assert.equal(t.started(), 2000);
    assert.equal(t.reached(1000), 5000);
    assert.equal(t.reached(1001), undefined);
    assert.equal(t.sustainedRate(1000), 400); // 100 -> 900 rows in 2 s
    assert.equal(t.last(), 1000);
    assert.equal(new Timeline().sustainedRate(10), undefined);
  });

  it('reads CPU time from /proc/<pid>/stat, whatever the command name holds', () => {
    const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 12345 1000000 5000 18446744073709551615';
    assert.equal(cpuSecondsFromStat(stat), 3);
    assert.equal(machineBusySeconds('cpu  100 0 100 1000 50 0 0 0 0 0\ncpu0 1 2 3'), 2);
    assert.equal(cpuSecondsFromStat(readFileSync('/proc/self/stat', 'utf8')) >= 0, true);
  });

  it('breaks an app RSS down from its /metrics: heap spaces, external, and the native rest', () => {
    const metrics = [
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      'process_resident_memory_bytes{app="id-translation"} 314572800',
      'nodejs_heap_size_total_bytes{app="id-translation"} 209715200',
      'nodejs_heap_size_used_bytes{app="id-translation"} 104857600',
      'nodejs_external_memory_bytes{app="id-translation"} 20971520',
      'nodejs_heap_space_size_total_bytes{space="new",app="id-translation"} 33554432',
      'nodejs_heap_space_size_total_bytes{space="old",app="id-translation"} 167772160',
    ].join('\n');
    assert.deepEqual(memoryBreakdown(metrics), { rss: 300, heapTotal: 200, heapUsed: 100, newSpace: 32, oldSpace: 160, external: 20, other: 80 });
    assert.equal(memoryBreakdown('service_events_applied_total 5'), undefined);
  });
});
