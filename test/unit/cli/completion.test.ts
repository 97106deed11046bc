// The bash completion script, as `warden completion bash` prints it, run by a real bash: it
// completes every command, subcommand and option of the command table (so the two cannot drift),
// and task IDs from `warden tasks --json` with the --config already on the line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { COMMANDS, subWords, topWords, visibleOptions } from '../../../src/cli/commands.ts';
import { runCliSync } from '../../helpers/cli.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const dir = tempRoot('completion').path;
const script = join(dir, 'warden.bash');

/** `warden tasks --json` as the daemon answers it, from a stand-in that also notes its arguments. */
const FAKE_WARDEN = `warden() {
  printf '%s\\n' "$*" > "${join(dir, 'called')}"
  printf '%s\\n' '[' '  {' '    "id": "gh-12",' '    "state": "dead",' '    "history": [' '      {' '        "id": "not-a-task"' '      }' '    ]' '  },' '  {' '    "id": "gh-7"' '  }' ']'
}`;

/** COMPREPLY for the line `warden WORDS...` with the cursor at the end of the last word. */
function complete(...words: string[]): string[] {
  const line = ['warden', ...words];
  const r = spawnSync(
    'bash',
    [
      '-c',
      `source "$0"; ${FAKE_WARDEN}
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
_warden warden "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`,
      script,
      ...line,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

describe('bash completion from `warden completion bash`', () => {
  before(() => {
    const r = runCliSync(['completion', 'bash']);
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(script, r.stdout);
  });

  test('it registers _warden for warden', () => {
    const r = spawnSync('bash', ['-c', 'source "$0"; complete -p warden', script], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), 'complete -F _warden warden');
  });

  test('the first word completes to every command of the table, and a prefix narrows it', () => {
    assert.deepEqual(complete('').sort(), topWords().sort());
    assert.deepEqual(complete('sta'), ['status']);
    assert.deepEqual(complete('ta').sort(), ['task', 'tasks']);
    assert.deepEqual(complete('--').sort(), ['--config', '--help', '--version']);
  });

  test('a group completes to its subcommands', () => {
    for (const g of topWords().filter((w) => subWords(w).length)) assert.deepEqual(complete(g, '').sort(), subWords(g).sort(), g);
  });

  test("each command completes to exactly its visible options (the table's), also after --config FILE", () => {
    for (const c of COMMANDS) {
      const want = visibleOptions(c)
        .map((o) => `--${o.name}`)
        .sort();
      assert.deepEqual(complete(...c.name.split(' '), '--').sort(), want, c.name);
      assert.deepEqual(complete('--config', '/etc/x.toml', ...c.name.split(' '), '--').sort(), want, `--config F ${c.name}`);
    }
    assert.deepEqual(complete('task', 'add', 'x', '--prompt-'), ['--prompt-file']);
  });

  test('a task argument completes to the IDs of `warden tasks --json`, asked with the same --config', () => {
    assert.deepEqual(complete('logs', ''), ['gh-12', 'gh-7']);
    assert.deepEqual(complete('logs', 'gh-1'), ['gh-12']);
    assert.deepEqual(complete('--config', '/srv/w.toml', 'logs', '--follow', ''), ['gh-12', 'gh-7']);
    const called = readFileSync(join(dir, 'called'), 'utf8').trim();
    assert.equal(called, '--config /srv/w.toml tasks --json');
    assert.deepEqual(complete('logs', 'gh-12', ''), [], 'only one TASK');
    assert.deepEqual(complete('task', 'add', ''), [], 'a new ID is not completed');
  });

  test('a value is not completed as a command: --prompt TEXT gets nothing, --config FILE gets file names', () => {
    assert.deepEqual(complete('task', 'add', 'x', '--prompt', ''), []);
    writeFileSync(join(dir, 'conf-a.toml'), '');
    assert.deepEqual(complete('--config', join(dir, 'conf-')), [join(dir, 'conf-a.toml')]);
  });
});
