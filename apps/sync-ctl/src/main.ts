import 'reflect-metadata';
import { loadEnv, type AppEnv } from '@sync/config';
import { EXIT } from './command';
import { COMMANDS } from './commands';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './dependency';
import { dispatch } from './dispatcher';

/** Exits once stdout and stderr are flushed: client libraries may still hold timers (kafkajs retries). */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

let env: AppEnv;
let connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
try {
  env = loadEnv();
  connectTimeoutMs = env.syncCtl.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`sync-ctl: ${message}\n`);
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ ok: false, error: { code: EXIT.usage, kind: 'usage', message } })}\n`);
  process.exit(EXIT.usage);
}
void dispatch(COMMANDS, process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  pipelineFile: env.pipelineFile,
  env,
  connectTimeoutMs,
}).then(exit, (err: unknown) => {
  process.stderr.write(`sync-ctl: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  exit(EXIT.internal);
});
