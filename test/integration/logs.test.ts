// `warden logs TASK [--follow]`: the attempt logs, oldest first, read from state_dir.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CLI } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import { addTask, cleanupAll, cli, makeSandbox, startDaemon, task } from './harness.ts';

after(cleanupAll);

test('warden logs prints each attempt of a task, oldest first; --follow streams a running attempt', async () => {
  const sb = makeSandbox({ worker: { max_attempts: 2, startup_window: '0s' }, 'backoff.exit_nonzero': { base: '0s', max: '0s' } });
  const d = await startDaemon(sb);
  await addTask(sb, 'twice', 'sleep=0.2 exit=3');
  await waitFor('twice dead', async () => (await task(sb, 'twice'))?.state === 'dead', 15_000);
  const r = await cli(sb.configPath, ['logs', 'twice']);
  assert.equal(r.code, 0, r.stderr);
  const a1 = r.stdout.indexOf('==> attempt 1');
  const a2 = r.stdout.indexOf('==> attempt 2');
  assert.ok(a1 >= 0 && a2 > a1, r.stdout);
  assert.equal(r.stdout.match(/\[fake-worker twice\] exiting 3/g)?.length, 2);

  await addTask(sb, 'slow', 'sleep=3 exit=0');
  await waitFor('slow running', async () => (await task(sb, 'slow'))?.state === 'running');
  const follow = spawn(process.execPath, [CLI, 'logs', 'slow', '--follow', '--config', sb.configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  follow.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await waitFor('the end of the attempt streamed', () => out.includes('[fake-worker slow] exiting 0'), 10_000);
  follow.kill('SIGINT');
  await d.stop();
});

test('warden logs refuses a bad ID and says when a task has no logs', async () => {
  const sb = makeSandbox();
  const bad = await cli(sb.configPath, ['logs', '../etc']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid task ID/);
  const none = await cli(sb.configPath, ['logs', 'nothing-here']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no logs for task nothing-here/);
});

test('warden logs into a reader that stops reading (| head): exit 0, nothing on stderr, no stack trace', async () => {
  const sb = makeSandbox();
  const dir = join(sb.stateDir, 'logs', 'big');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '1.log'), 'line of output\n'.repeat(200_000)); // 2.8 MB: far more than a pipe holds
  const child = spawn(process.execPath, [CLI, 'logs', 'big', '--config', sb.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  // read the first chunk, then close the pipe, as head does after its lines
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  console.log(`warden logs into a closed pipe: exit ${code}, signal ${signal}, stderr ${JSON.stringify(stderr)}`);
  assert.equal(signal, null);
  assert.equal(code, 0);
  assert.equal(stderr, '');
});
