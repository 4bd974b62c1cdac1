import 'reflect-metadata';
import { loadEnv, type AppEnv } from '@sync/config';
import { EXIT } from './command';
import { COMMANDS } from './commands';
import { dispatch } from './dispatcher';

let env: AppEnv;
try {
  env = loadEnv();
} catch (err) {
  process.stderr.write(`sync-ctl: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(EXIT.usage);
}
void dispatch(COMMANDS, process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  pipelineFile: env.pipelineFile,
  env,
}).then((code) => {
  process.exitCode = code;
});
