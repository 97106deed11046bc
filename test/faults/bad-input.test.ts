// Issue 16, item 6: input that passes a check and then fails later. Each bad input is refused at
// the entry point with its exit code and exactly one line of stderr, never a stack trace, and what
// `task add` accepts the daemon accepts too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cliEnv, runCliSync, type CliResult } from '../helpers/cli.ts';
import { writeConfigFile } from '../helpers/config-file.ts';
import { CLI } from '../helpers/paths.ts';
import { tempRoot } from '../helpers/tmp.ts';
import { addTask, cleanupAll, makeSandbox, startDaemon, task } from '../integration/harness.ts';

const tmp = tempRoot('bad-input');
after(() => cleanupAll());

const EX_USAGE = 2;
const EX_CONFIG = 78;

function assertOneLine(what: string, r: CliResult, code: number, pattern: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  console.log(`${what}: exit ${r.code}, ${lines.length} stderr line(s), ${r.ms} ms: ${lines[0] ?? ''}`);
  assert.equal(r.signal, null, `${what}: ended by itself`);
  assert.equal(r.code, code, `${what}\n${r.stderr}`);
  assert.equal(lines.length, 1, `${what}: exactly one line\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: no stack trace`);
  assert.match(lines[0] ?? '', pattern, what);
}

/** A config in its own directory with the given [supervisor]/[control] values. */
function config(supervisor: Record<string, string>, control: Record<string, string> = {}): string {
  const dir = tmp.fresh('c');
  const path = join(dir, 'warden.toml');
  writeConfigFile(path, { supervisor, executor: { kind: 'direct' }, ...(Object.keys(control).length ? { control } : {}) });
  return path;
}

test('task add: a priority out of range, /dev/zero, a FIFO, an oversized file, invalid UTF-8 (file and argv), an empty prompt', () => {
  const dir = tmp.fresh('q');
  const cfg = config({ state_dir: join(dir, 'state') });
  const add = (...args: string[]) => runCliSync(['task', 'add', 't1', ...args, '--config', cfg], { timeoutMs: 10_000 });
  assertOneLine(
    '--priority 99999999999999999999',
    add('--prompt', 'x', '--priority', '99999999999999999999'),
    EX_USAGE,
    /integer from -1000 to 1000/,
  );
  assertOneLine('--priority 1001', add('--prompt', 'x', '--priority', '1001'), EX_USAGE, /integer from -1000 to 1000/);
  assertOneLine('--prompt-file /dev/zero', add('--prompt-file', '/dev/zero'), EX_USAGE, /not a regular file/);
  const fifo = join(dir, 'fifo');
  spawnSync('mkfifo', [fifo]);
  assertOneLine('--prompt-file FIFO', add('--prompt-file', fifo), EX_USAGE, /not a regular file/);
  const big = join(dir, 'big.txt');
  writeFileSync(big, Buffer.alloc(256 * 1024 + 1, 0x61));
  assertOneLine('--prompt-file of 256 KiB + 1', add('--prompt-file', big), EX_USAGE, /over the prompt limit of 262144 bytes/);
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, Buffer.from([0x66, 0x69, 0x78, 0xff, 0x0a]));
  assertOneLine('--prompt-file with invalid UTF-8', add('--prompt-file', bad), EX_USAGE, /not valid UTF-8/);
  // argv cannot carry raw bytes from Node: a shell passes them
  const started = Date.now();
  const sh = spawnSync(
    'sh',
    ['-c', `exec "$0" "$1" task add t1 --prompt "$(printf 'fix\\377it')" --config "$2"`, process.execPath, CLI, cfg],
    {
      encoding: 'utf8',
      env: cliEnv(),
      timeout: 10_000,
    },
  );
  assertOneLine(
    '--prompt with invalid UTF-8',
    { code: sh.status, signal: sh.signal, stdout: sh.stdout, stderr: sh.stderr, ms: Date.now() - started },
    EX_USAGE,
    /not valid UTF-8/,
  );
  assertOneLine('--prompt "   "', add('--prompt', '   '), EX_USAGE, /the prompt is empty/);
  assertOneLine('--priority -5 (needs --priority=-5)', add('--prompt', 'x', '--priority', '-5'), EX_USAGE, /--priority=-XYZ/);
});

test('config: state_dir "/", a NUL in state_dir, a control socket over 107 bytes, a derived socket over 107 bytes: check and run both exit 78 in one line', () => {
  const long = join(tmp.path, 's'.repeat(Math.max(1, 110 - tmp.path.length)));
  const cases: [string, string, RegExp][] = [
    ['state_dir = "/"', config({ state_dir: '/' }), /shared with the rest of the system/],
    ['state_dir with NUL', config({ state_dir: '/var/lib/w\u0000x' }), /cannot contain a NUL byte/],
    ['socket of 108+ bytes', config({ state_dir: join(tmp.fresh('s'), 'state') }, { socket: long + '.sock' }), /over the 107-byte limit/],
    ['derived socket of 108+ bytes', config({ state_dir: long }), /over the 107-byte limit .*shorten state_dir/],
  ];
  for (const [what, cfg, pattern] of cases) {
    assertOneLine(`config check, ${what}`, runCliSync(['config', 'check', '--config', cfg]), EX_CONFIG, pattern);
    assertOneLine(`run, ${what}`, runCliSync(['run', '--config', cfg], { timeoutMs: 15_000 }), EX_CONFIG, pattern);
  }
});

test('a corrupt state file without a backup: run exits 78, and its one refusal line names no missing .bak', () => {
  const stateDir = join(tmp.fresh('st'), 'state');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'state.json'), '{"version": 1, "tas');
  const r = runCliSync(['run', '--config', config({ state_dir: stateDir })], { timeoutMs: 15_000 });
  // the daemon logs its start first; the refusal itself is one line
  const refusal = r.stderr.split('\n').filter((l) => l.startsWith('warden: '));
  console.log(`corrupt state, no .bak: exit ${r.code}: ${refusal.join(' | ')}`);
  assert.equal(r.code, EX_CONFIG, r.stderr);
  assert.equal(refusal.length, 1, r.stderr);
  assert.match(refusal[0] ?? '', /state file is corrupt.*There is no \S+state\.json\.bak to restore from/);
  assert.doesNotMatch(r.stderr, /Restore it from|^\s+at /m);
});

test('what task add accepts, the daemon takes in: the extreme priorities and a prompt of exactly 256 KiB', async () => {
  const sb = makeSandbox({ supervisor: { poll_interval: '300ms' } });
  await startDaemon(sb);
  const file = join(sb.dir, 'max.txt');
  writeFileSync(file, 'sleep=0 ' + 'a'.repeat(256 * 1024 - 8));
  await addTask(sb, 'hi', 'sleep=0', 1000);
  for (const args of [
    ['lo', '--prompt', 'sleep=0', '--priority=-1000'],
    ['max', '--prompt-file', file],
  ]) {
    const r = runCliSync(['task', 'add', ...args, '--config', sb.configPath]);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const id of ['lo', 'hi', 'max']) {
    const deadline = Date.now() + 10_000;
    while (!(await task(sb, id)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    assert.ok(await task(sb, id), `the daemon took ${id} in`);
  }
  console.log('accepted by task add and taken in by the daemon: priorities -1000 and 1000, a 262144-byte prompt');
});

test('an error nobody foresaw (state_dir under a regular file) is one line and exit 1, with no stack trace even with WARDEN_DEBUG=1', () => {
  const dir = tmp.fresh('notdir');
  writeFileSync(join(dir, 'file'), '');
  const cfg = config({ state_dir: join(dir, 'file', 'state') });
  assertOneLine('run with state_dir under a file', runCliSync(['run', '--config', cfg], { timeoutMs: 10_000 }), 1, /ENOTDIR/);
  const debug = runCliSync(['run', '--config', cfg], { timeoutMs: 10_000, env: { WARDEN_DEBUG: '1' } });
  assertOneLine('the same with WARDEN_DEBUG=1', debug, 1, /ENOTDIR/);
});
