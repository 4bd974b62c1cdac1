import type { Command } from '../command';
import { completionCommand } from './completion.command';

/**
 * A command whose module is loaded on first use: `sync-ctl status` then does not load the SQL
 * Server driver, TypeORM or JSONata (seconds of start-up on a busy host, which counted against the
 * connect timeout an operator waits for). `sync-ctl --help` and completion load them all.
 */
function lazy(path: readonly string[], load: () => Command): Command {
  let command: Command | undefined;
  const get = (): Command => {
    command ??= load();
    if (command.path.join(' ') !== path.join(' ')) throw new Error(`commands/index.ts: ${path.join(' ')} loads ${command.path.join(' ')}`);
    return command;
  };
  return {
    path,
    get summary() {
      return get().summary;
    },
    get help() {
      return get().help;
    },
    get options() {
      return get().options;
    },
    get complete() {
      return get().complete;
    },
    run: (args, io) => get().run(args, io),
  };
}

/* eslint-disable @typescript-eslint/no-require-imports -- deferred loading, see lazy() */
const control = (): typeof import('./control.command') => require('./control.command') as typeof import('./control.command');
const dlq = (): typeof import('./dlq.command') => require('./dlq.command') as typeof import('./dlq.command');

/** Every sync-ctl command; add new ones here. */
export const COMMANDS: readonly Command[] = [
  lazy(['status'], () => control().statusCommand),
  lazy(['pause'], () => control().pauseCommand),
  lazy(['resume'], () => control().resumeCommand),
  lazy(['enable'], () => control().enableCommand),
  lazy(['disable'], () => control().disableCommand),
  lazy(['resnapshot'], () => control().resnapshotCommand),
  lazy(['history'], () => control().historyCommand),
  lazy(['schema'], () => (require('./schema.command') as typeof import('./schema.command')).schemaCommand),
  lazy(['map'], () => (require('./map.command') as typeof import('./map.command')).mapCommand),
  lazy(['ids'], () => (require('./ids.command') as typeof import('./ids.command')).idsCommand),
  lazy(['verify'], () => (require('./verify.command') as typeof import('./verify.command')).verifyCommand),
  lazy(['acls'], () => (require('./acls.command') as typeof import('./acls.command')).aclsCommand),
  lazy(['validate'], () => (require('./validate.command') as typeof import('./validate.command')).validateCommand),
  lazy(['dlq', 'list'], () => dlq().dlqListCommand),
  lazy(['dlq', 'show'], () => dlq().dlqShowCommand),
  lazy(['dlq', 'replay'], () => dlq().dlqReplayCommand),
  lazy(['dlq', 'purge'], () => dlq().dlqPurgeCommand),
  completionCommand(() => COMMANDS),
];
/* eslint-enable @typescript-eslint/no-require-imports */
