// `warden top` for real, in tmux: a terminal of 80x24 that the test types into (send-keys) and
// reads (capture-pane). It must show a running worker's task ID and memory, quit on q, and give
// the terminal back (alternate screen left, cursor shown), also when it gets SIGTERM.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { CLI } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import { addTask, cleanupAll, cli, makeSandbox, startDaemon, status } from './harness.ts';

const SOCKET = `warden-top-test-${process.pid}`; // tmux -L: a tmux server of this test's own
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', env: { ...process.env, TERM: 'xterm-256color' } });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const screen = () => tmux('capture-pane', '-p', '-t', 'top');
const paneFlag = (flag: string) => tmux('display-message', '-p', '-t', 'top', `#{${flag}}`).trim();

/** The pane's shell's child: the `warden top` process. */
function topPid(): number {
  const shell = Number(tmux('display-message', '-p', '-t', 'top', '#{pane_pid}').trim());
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === shell) return Number(name);
    } catch {
      continue;
    }
  }
  throw new Error('no warden top process under the pane shell');
}

after(async () => {
  if (hasTmux) spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  await cleanupAll();
});

test('warden top in tmux: the running worker with its memory; q quits and restores the terminal; SIGTERM too', async (t) => {
  if (!hasTmux) {
    console.log('SKIPPED: warden top in tmux (no tmux; Debian: apt-get install --no-install-recommends tmux)');
    t.skip('no tmux');
    return;
  }
  const sb = makeSandbox({ worker: { memory_max: '256M' } });
  const d = await startDaemon(sb);
  await addTask(sb, 'top-worker-1', 'alloc=48M sleep=60');
  await waitFor('the worker to run', async () => ((await status(sb)).workers.length === 1 ? true : null), 15_000);

  tmux('new-session', '-d', '-s', 'top', '-x', '80', '-y', '24', 'bash --norc --noprofile');
  const command = `${process.execPath} ${CLI} top --config ${sb.configPath}; echo TOP-EXIT=$?`;
  tmux('send-keys', '-t', 'top', command, 'Enter');
  const frame = await waitFor(
    'a frame with the worker and its memory',
    () => {
      const s = screen();
      return /top-worker-1/.test(s) && /mem \[[█░]+\] \d+(\.\d)?M\/256M/.test(s) ? s : null;
    },
    20_000,
    100,
  );
  assert.match(frame, /warden top/);
  assert.match(frame, /^host +MemAvailable/m);
  assert.equal(paneFlag('alternate_on'), '1', 'top draws on the alternate screen');
  for (const line of frame.split('\n')) assert.ok([...line].length <= 80);

  tmux('send-keys', '-t', 'top', 'q');
  await waitFor('top to exit 0 on q', () => (/TOP-EXIT=0/.test(screen()) ? true : null), 10_000, 100);
  assert.equal(paneFlag('alternate_on'), '0', 'the alternate screen was left');
  assert.equal(paneFlag('cursor_flag'), '1', 'the cursor is shown again');
  assert.match(screen(), /top --config/, 'the shell screen is back, with the command line typed before');

  tmux('send-keys', '-t', 'top', 'clear', 'Enter');
  tmux('send-keys', '-t', 'top', command, 'Enter');
  await waitFor('a second top frame', () => (/top-worker-1/.test(screen()) && paneFlag('alternate_on') === '1' ? true : null), 20_000, 100);
  process.kill(topPid(), 'SIGTERM');
  await waitFor('top to exit on SIGTERM', () => (/TOP-EXIT=143/.test(screen()) ? true : null), 10_000, 100);
  assert.equal(paneFlag('alternate_on'), '0');
  assert.equal(paneFlag('cursor_flag'), '1');
  await d.stop();
});

test('warden top without a terminal: one frame, no escape sequences, exit 0', async () => {
  const sb = makeSandbox();
  const d = await startDaemon(sb);
  const r = await cli(sb.configPath, ['top']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^warden top/);
  assert.match(r.stdout, /^queue +pending 0/m);
  assert.ok(!r.stdout.includes('\x1b'), 'no escape sequence in a pipe');
  await d.stop();
  const down = await cli(sb.configPath, ['top']);
  assert.equal(down.code, 3, 'daemon not running: exit 3, like status');
  assert.doesNotMatch(down.stderr, / {4}at /);
});
