import 'reflect-metadata';
import { loadEnv } from '@sync/config';
import { COMMANDS } from './commands';
import { dispatch } from './dispatcher';

const env = loadEnv();
void dispatch(COMMANDS, process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  pipelineFile: env.pipelineFile,
}).then((code) => {
  process.exitCode = code;
});
