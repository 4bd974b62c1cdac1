import { ConfigValidationError } from '@sync/config';
import { EXIT, UsageError, type Command, type CommandIo } from './command';

function matches(command: Command, argv: readonly string[]): boolean {
  return command.path.every((word, i) => argv[i] === word);
}

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
    'Exit codes: 0 ok, 1 the command found a problem, 2 bad arguments or configuration, 3 a database or Kafka unreachable.',
  ].join('\n');
}

/** Picks the command named by argv (longest path wins), runs it, and maps errors to exit codes. */
export async function dispatch(commands: readonly Command[], argv: readonly string[], io: CommandIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(overview(commands));
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const command = [...commands].sort((a, b) => b.path.length - a.path.length).find((c) => matches(c, argv));
  if (!command) {
    io.err(`sync-ctl: unknown command "${argv.join(' ')}"\n\n${overview(commands)}`);
    return EXIT.usage;
  }
  const rest = argv.slice(command.path.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigValidationError) {
      io.err(`sync-ctl ${command.path.join(' ')}: ${err.message}`);
      return EXIT.usage;
    }
    io.err(`sync-ctl ${command.path.join(' ')}: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
}
