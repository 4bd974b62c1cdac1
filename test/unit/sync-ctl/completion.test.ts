import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../../apps/sync-ctl/src/commands';
import { bashCompletion, commandOptions, completionSpec, zshCompletion } from '../../../apps/sync-ctl/src/completion';
import { commandHelp } from '../../../apps/sync-ctl/src/dispatcher';

/** What the generated bash function offers for a command line, the last word being completed. */
function complete(words: ReadonlyArray<readonly string[]>): string[][] {
  const dir = mkdtempSync(path.join(tmpdir(), 'sync-ctl-completion-'));
  const script = path.join(dir, 'sync-ctl.bash');
  writeFileSync(script, bashCompletion(COMMANDS));
  const calls = words.map((w) => `COMP_WORDS=(${w.map((x) => `'${x}'`).join(' ')}); COMP_CWORD=${w.length - 1}; COMPREPLY=(); _sync_ctl; echo "\${COMPREPLY[*]}"`);
  // complete -F needs an interactive-like shell only for `complete` itself; the function runs anywhere.
  const out = execFileSync('bash', ['-c', `source '${script}'\n${calls.join('\n')}`], { encoding: 'utf8' });
  return out.split('\n').slice(0, words.length).map((line) => line.split(' ').filter(Boolean).sort());
}

describe('sync-ctl completion', () => {
  it('bash: the first word offers every command (groups once), a group offers its sub-commands', () => {
    const [first, dlq] = complete([['sync-ctl', ''], ['sync-ctl', 'dlq', '']]);
    const firsts = [...new Set(COMMANDS.map((c) => c.path[0]!))];
    for (const word of firsts) assert.ok(first!.includes(word), `top level offers ${word}`);
    assert.ok(firsts.includes('completion') && firsts.includes('verify') && firsts.includes('status'));
    assert.deepEqual(dlq, COMMANDS.filter((c) => c.path[0] === 'dlq').map((c) => c.path[1]!).sort());
  });

  it('bash: every command offers exactly its options plus --json, --connect-timeout and --help', () => {
    const lines = complete(COMMANDS.map((c) => ['sync-ctl', ...c.path, '--']));
    COMMANDS.forEach((c, i) => {
      const expected = [...new Set([...Object.keys(c.options).map((o) => `--${o}`), '--json', '--connect-timeout', '--help'])].sort();
      assert.deepEqual(lines[i], expected, `sync-ctl ${c.path.join(' ')}`);
      assert.deepEqual(commandOptions(c), expected);
    });
  });

  it('bash: option values and fixed words complete', () => {
    const [direction, app, idsAction, shell, reason] = complete([
      ['sync-ctl', 'pause', 'crm.public.users', '--direction', ''],
      ['sync-ctl', 'dlq', 'replay', '--app', 'legacy-'],
      ['sync-ctl', 'ids', ''],
      ['sync-ctl', 'completion', ''],
      ['sync-ctl', 'pause', 'x', '--reason', ''],
    ]);
    assert.deepEqual(direction, ['both', 'legacy-to-new', 'new-to-legacy']);
    assert.deepEqual(app, ['legacy-import', 'legacy-writeback']);
    assert.deepEqual(idsAction, ['lookup', 'migrate']);
    assert.deepEqual(shell, ['bash', 'zsh']);
    assert.deepEqual(reason, [], 'free text: nothing offered');
  });

  it('zsh: the same function through bashcompinit', () => {
    const zsh = zshCompletion(COMMANDS);
    assert.match(zsh, /bashcompinit/);
    assert.ok(zsh.includes('_sync_ctl()') && zsh.includes('complete -F _sync_ctl sync-ctl'));
    for (const c of COMMANDS) for (const o of commandOptions(c)) assert.ok(zsh.includes(o), `${c.path.join(' ')} ${o}`);
  });

  it('--json spec lists every command with its options', () => {
    const spec = completionSpec(COMMANDS);
    assert.deepEqual(spec.commands.map((c) => c.path.join(' ')), COMMANDS.map((c) => c.path.join(' ')));
    const pause = spec.commands.find((c) => c.path[0] === 'pause')!;
    assert.deepEqual(pause.options.find((o) => o.name === '--direction'), { name: '--direction', type: 'string', values: ['legacy-to-new', 'new-to-legacy', 'both'] });
  });

  it('every command\'s --help names each of its options, --json and the exit codes', () => {
    for (const c of COMMANDS) {
      const help = commandHelp(c);
      for (const o of commandOptions(c)) assert.ok(help.includes(o), `sync-ctl ${c.path.join(' ')} --help mentions ${o}`);
      assert.match(help, /3 Kafka or a database unreachable, 4 internal error/);
    }
  });
});
