import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, NestJsonLogger } from '@sync/observability';

function capture(level: string): { lines: Array<{ level: string; msg: string; context?: string }>; logger: NestJsonLogger } {
  const lines: Array<{ level: string; msg: string; context?: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: string; msg: string });
      done();
    },
  });
  return { lines, logger: new NestJsonLogger(createLogger('test', level, sink)) };
}

describe('Nest messages in the JSON log', () => {
  it('keeps the bootstrap chatter (modules loaded, routes mapped) at debug and everything else at its level', () => {
    const info = capture('info');
    info.logger.log('Starting Nest application...', 'NestFactory');
    info.logger.log('CoreModule dependencies initialized', 'InstanceLoader');
    info.logger.log('Mapped {/metrics, GET} route', 'RouterExplorer');
    info.logger.log('HealthController {/}:', 'RoutesResolver');
    info.logger.log('Nest application successfully started', 'NestApplication');
    info.logger.log('something an app says', 'LegacyImportService');
    info.logger.warn('careful', 'RouterExplorer');
    assert.deepEqual(info.lines.map((l) => [l.level, l.msg]), [['info', 'something an app says'], ['warn', 'careful']]);

    const debug = capture('debug');
    debug.logger.log('Mapped {/metrics, GET} route', 'RouterExplorer');
    assert.deepEqual(debug.lines.map((l) => [l.level, l.context]), [['debug', 'RouterExplorer']]);
  });
});

describe('log level per module (LOG_LEVEL_MODULES)', () => {
  function lines(modules: Record<string, string>): Array<{ level: string; msg: string }> {
    const out: Array<{ level: string; msg: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) out.push(JSON.parse(line) as { level: string; msg: string });
        done();
      },
    });
    const logger = createLogger('test', 'info', sink, modules);
    logger.debug({ component: 'kafkajs' }, 'kafkajs debug');
    logger.warn({ component: 'kafkajs' }, 'kafkajs warn');
    logger.debug({ entity: 'e' }, 'app debug');
    logger.info('app info');
    new NestJsonLogger(logger).warn('nest warn', 'RouterExplorer');
    return out;
  }

  it('lets one module log more or less than LOG_LEVEL while the others keep it', () => {
    assert.deepEqual(lines({}).map((l) => l.msg), ['kafkajs warn', 'app info', 'nest warn']);
    assert.deepEqual(lines({ kafkajs: 'debug' }).map((l) => l.msg), ['kafkajs debug', 'kafkajs warn', 'app info', 'nest warn']);
    assert.deepEqual(lines({ kafkajs: 'error', nest: 'error' }).map((l) => l.msg), ['app info']);
    assert.deepEqual(lines({ app: 'debug', kafkajs: 'error' }).map((l) => l.msg), ['app debug', 'app info', 'nest warn']);
  });
});
