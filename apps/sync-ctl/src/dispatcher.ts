import { ConfigValidationError } from '@sync/config';
import { DependencyUnreachableError, EXIT, UsageError, type Command, type CommandIo } from './command';
import { CONNECT_TIMEOUT_ENV, DEFAULT_CONNECT_TIMEOUT_MS, parseConnectTimeout } from './dependency';

function matches(command: Command, argv: readonly string[]): boolean {
  return command.path.every((word, i) => argv[i] === word);
}

export const EXIT_CODES_HELP = 'Exit codes: 0 ok, 1 the command found a problem (differences, dead letters, refused replays, not found),\n2 bad arguments or configuration (nothing was connected to), 3 Kafka or a database unreachable, 4 internal error.';

/** Options every command takes; appended to each command's --help. */
export const COMMON_HELP = `Common options:
  --json                     machine-readable output on stdout; on failure (exit 2, 3, 4) stdout holds
                             {"ok":false,"error":{"code":N,"kind":...,"message":...}} instead
  --connect-timeout SECONDS  give up on Kafka or a database that does not answer within this time and
                             exit 3 (default 5; environment: ${CONNECT_TIMEOUT_ENV})
  -h, --help                 this help

${EXIT_CODES_HELP}`;

export function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  return [
    'Usage: sync-ctl <command> [options]',
    '',
    'Operate legacy-sync: install change capture, try mappings, look up ids.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Run `sync-ctl <command> --help` for a command\'s options.',
    '',
    COMMON_HELP,
  ].join('\n');
}

/** A command's full --help: its own text, then the options and exit codes every command shares. */
export function commandHelp(command: Command): string {
  return `${command.help}\n\n${COMMON_HELP}`;
}

/** The JSON document printed on stdout (with --json) when a command fails with exit code 2, 3 or 4. */
export interface JsonFailure {
  ok: false;
  error: {
    code: number;
    kind: 'usage' | 'unreachable' | 'internal';
    message: string;
    command?: string;
    dependency?: string;
    address?: string;
  };
}

/** Takes --connect-timeout out of argv (before or after the command words). */
function globalOptions(argv: readonly string[]): { argv: string[]; connectTimeoutMs?: number } {
  const rest: string[] = [];
  let connectTimeoutMs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--connect-timeout' || arg.startsWith('--connect-timeout=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (value === undefined) throw new UsageError('--connect-timeout needs a number of seconds');
      connectTimeoutMs = parseConnectTimeout(value, '--connect-timeout');
    } else rest.push(arg);
  }
  return { argv: rest, ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }) };
}

/** Picks the command named by argv (longest path wins), runs it, and maps errors to exit codes. */
export async function dispatch(commands: readonly Command[], rawArgv: readonly string[], io: Omit<CommandIo, 'connectTimeoutMs'> & { connectTimeoutMs?: number }): Promise<number> {
  const json = rawArgv.includes('--json');
  let name = 'sync-ctl';
  const fail = (code: number, kind: JsonFailure['error']['kind'], message: string, extra: Partial<JsonFailure['error']> = {}): number => {
    io.err(`${name}: ${message}`);
    if (json) {
      const failure: JsonFailure = { ok: false, error: { code, kind, message, ...(name === 'sync-ctl' ? {} : { command: name.slice('sync-ctl '.length) }), ...extra } };
      io.out(JSON.stringify(failure));
    }
    return code;
  };
  let argv: string[];
  let connectTimeoutMs: number;
  try {
    const global = globalOptions(rawArgv);
    argv = global.argv;
    connectTimeoutMs = global.connectTimeoutMs ?? io.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  } catch (err) {
    return fail(EXIT.usage, 'usage', (err as Error).message);
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    if (argv.length === 0) {
      io.err(overview(commands));
      return json ? fail(EXIT.usage, 'usage', 'name a command') : EXIT.usage;
    }
    io.out(overview(commands));
    return EXIT.ok;
  }
  const command = [...commands].sort((a, b) => b.path.length - a.path.length).find((c) => matches(c, argv));
  if (!command) {
    if (!json) io.err(overview(commands));
    return fail(EXIT.usage, 'usage', `unknown command "${argv.filter((a) => a !== '--json').join(' ')}" (sync-ctl --help lists them)`);
  }
  name = `sync-ctl ${command.path.join(' ')}`;
  const rest = argv.slice(command.path.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandHelp(command));
    return EXIT.ok;
  }
  try {
    return await command.run(rest, { ...io, connectTimeoutMs });
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigValidationError) return fail(EXIT.usage, 'usage', err.message);
    if (err instanceof DependencyUnreachableError) return fail(EXIT.unavailable, 'unreachable', err.message, { dependency: err.dependency, address: err.address });
    return fail(EXIT.internal, 'internal', `internal error: ${err instanceof Error ? err.message.replace(/\s+/g, ' ') : String(err)}`);
  }
}
