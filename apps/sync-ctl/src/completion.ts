import type { Command } from './command';

/** Options the dispatcher takes for every command (see dispatcher.ts COMMON_HELP). */
export const COMMON_OPTIONS = ['--json', '--connect-timeout', '--help'] as const;

/** Every option of a command as typed on the command line, common ones included, sorted. */
export function commandOptions(command: Command): string[] {
  return [...new Set([...Object.keys(command.options).map((o) => `--${o}`), ...COMMON_OPTIONS])].sort();
}

/** The machine-readable description the scripts are generated from (`sync-ctl completion --json`). */
export function completionSpec(commands: readonly Command[]): { commands: Array<{ path: string[]; summary: string; words: string[]; options: Array<{ name: string; type: string; values?: string[]; file?: true }> }> } {
  return {
    commands: commands.map((c) => ({
      path: [...c.path],
      summary: c.summary,
      words: [...(c.complete?.words ?? [])],
      options: Object.entries(c.options).map(([name, spec]) => ({
        name: `--${name}`,
        type: spec.type,
        ...(c.complete?.values?.[name] ? { values: [...c.complete.values[name]] } : {}),
        ...(c.complete?.files?.includes(name) ? { file: true as const } : {}),
      })),
    })),
  };
}

const quote = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** A bash completion script: `source <(sync-ctl completion bash)`. */
export function bashCompletion(commands: readonly Command[]): string {
  const firsts = [...new Set(commands.map((c) => c.path[0]!))];
  const groups = firsts.filter((w) => commands.some((c) => c.path.length > 1 && c.path[0] === w));
  const valueCases: string[] = [];
  const optionCases: string[] = [];
  const wordCases: string[] = [];
  for (const c of commands) {
    const name = c.path.join(' ');
    for (const [option, spec] of Object.entries(c.options)) {
      if (spec.type !== 'string') continue;
      const values = c.complete?.values?.[option];
      const reply = values ? `COMPREPLY=($(compgen -W ${quote(values.join(' '))} -- "$cur"))` : c.complete?.files?.includes(option) ? 'COMPREPLY=($(compgen -f -- "$cur"))' : 'COMPREPLY=()';
      valueCases.push(`    ${quote(`${name}|--${option}`)}) ${reply}; return ;;`);
    }
    optionCases.push(`    ${quote(name)}) opts=${quote(commandOptions(c).join(' '))} ;;`);
    if (c.complete?.words?.length) wordCases.push(`    ${quote(name)}) words=${quote(c.complete.words.join(' '))} ;;`);
  }
  return `# bash completion for sync-ctl, generated from its command definitions by \`sync-ctl completion bash\`.
# Install: source <(sync-ctl completion bash)   or   sync-ctl completion bash > /etc/bash_completion.d/sync-ctl
_sync_ctl() {
  local cur prev cmd opts words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  if (( COMP_CWORD >= 2 )); then cmd="\${COMP_WORDS[1]}"; fi
  case "$cmd" in
${groups.map((g) => `    ${quote(g)}) if (( COMP_CWORD >= 3 )); then cmd="$cmd \${COMP_WORDS[2]}"; else COMPREPLY=($(compgen -W ${quote(commands.filter((c) => c.path[0] === g).map((c) => c.path[1]).join(' '))} -- "$cur")); return; fi ;;`).join('\n')}
    '') COMPREPLY=($(compgen -W ${quote([...firsts, 'help', '--help', '--connect-timeout'].join(' '))} -- "$cur")); return ;;
  esac
  case "$prev" in
    --connect-timeout) COMPREPLY=(); return ;;
  esac
  case "$cmd|$prev" in
${valueCases.join('\n')}
  esac
  opts=""
  words=""
  case "$cmd" in
${optionCases.join('\n')}
  esac
  case "$cmd" in
${wordCases.join('\n')}
  esac
  local -a parts
  read -ra parts <<< "$cmd"
  if [[ "$cur" != -* && -n "$words" ]] && (( COMP_CWORD == \${#parts[@]} + 1 )); then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  fi
}
complete -F _sync_ctl sync-ctl
`;
}

/** A zsh completion script: the bash one through zsh's bashcompinit (same definitions, one generator). */
export function zshCompletion(commands: readonly Command[]): string {
  return `# zsh completion for sync-ctl, generated from its command definitions by \`sync-ctl completion zsh\`.
# Install: source <(sync-ctl completion zsh)   (add it to ~/.zshrc)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(commands).split('\n').slice(2).join('\n')}`;
}
