import { EXIT, UsageError, type Command } from '../command';
import { bashCompletion, completionSpec, zshCompletion } from '../completion';
import { maxPositionals, parseOptions } from './pipeline-args';

const OPTIONS = { json: { type: 'boolean' } } as const;

/** `sync-ctl completion bash|zsh`: the script is generated from `commands()`, the list it is part of. */
export function completionCommand(commands: () => readonly Command[]): Command {
  return {
    path: ['completion'],
    summary: 'print a shell completion script (bash or zsh) generated from the commands',
    options: OPTIONS,
    complete: { words: ['bash', 'zsh'] },
    help: `Usage: sync-ctl completion bash|zsh
       sync-ctl completion --json

Prints a completion script for the shell: commands, sub-commands, every option of each command and
the fixed values of options such as --direction and --app. --json prints the description the
scripts are generated from ({"commands":[{"path","summary","words","options":[{"name","type"}]}]}).

Examples:
  source <(sync-ctl completion bash)                        # this shell; add to ~/.bashrc to keep it
  sync-ctl completion bash > /etc/bash_completion.d/sync-ctl
  source <(sync-ctl completion zsh)                         # in ~/.zshrc`,
    run(args, io) {
      const { values, positionals } = parseOptions(args, OPTIONS);
      maxPositionals(positionals, 1, 'one shell');
      const shell = positionals[0];
      if (shell !== undefined && shell !== 'bash' && shell !== 'zsh') throw new UsageError(`unknown shell "${shell}": use bash or zsh`);
      if (values.json) {
        if (positionals.length > 0) throw new UsageError('--json prints the description for every shell: drop the shell name');
        io.out(JSON.stringify(completionSpec(commands())));
        return Promise.resolve(EXIT.ok);
      }
      if (shell === 'bash') io.out(bashCompletion(commands()));
      else if (shell === 'zsh') io.out(zshCompletion(commands()));
      else throw new UsageError('name the shell: bash or zsh');
      return Promise.resolve(EXIT.ok);
    },
  };
}
