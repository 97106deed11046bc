// Files that are not what they seem, planted under state_dir, against a real daemon (direct
// executor): a FIFO named like a queue request, symlinks planted as a task's log directory, its
// log file, its prompt and its run files. The daemon must keep answering, run the other tasks,
// and write nothing outside state_dir.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { addTask, cleanupAll, makeSandbox, query, startDaemon, task } from '../integration/harness.ts';
import type { Status } from '../helpers/cli.ts';

after(cleanupAll);

/** Size and sha256 of every file under `dir` (the "outside" target), to compare before and after. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath ?? e.path, e.name);
    out.set(p, `${statSync(p).size}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
  }
  return out;
}
function bytesOutside(before: Map<string, string>, dir: string): number {
  let changed = 0;
  const now = snapshot(dir);
  for (const [p, v] of now) if (before.get(p) !== v) changed += statSync(p).size;
  return changed + (now.size === before.size ? 0 : 1);
}

test('a FIFO named like a queue request: the daemon keeps answering and the other tasks run; the FIFO is moved aside', async () => {
  const sb = makeSandbox();
  mkdirSync(join(sb.stateDir, 'queue'), { recursive: true });
  execFileSync('mkfifo', [join(sb.stateDir, 'queue', 'evil.json')]);
  const d = await startDaemon(sb);
  await addTask(sb, 'ok1', 'exit=0');
  await addTask(sb, 'ok2', 'exit=0');
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    await query<Status>(sb.socket, '/status', 1000);
    times.push(Date.now() - t0);
  }
  for (const id of ['ok1', 'ok2'])
    await waitFor(`${id} succeeded`, async () => ((await task(sb, id))?.state === 'succeeded' ? true : null), 20_000);
  const rejected = readdirSync(join(sb.stateDir, 'queue', 'rejected'));
  console.log(
    `planted FIFO in the queue: status answered in ${Math.max(...times)} ms at most (5 queries); other tasks succeeded; moved aside as ${rejected.join(', ')}`,
  );
  assert.ok(Math.max(...times) < 1000);
  assert.ok(rejected.some((n) => n.endsWith('evil.json')));
  assert.ok(!existsSync(join(sb.stateDir, 'queue', 'evil.json')));
  assert.match(d.log(), /rejected an unreadable task request.*evil\.json.*FIFO/);
  await d.stop();
});

test('symlinks planted as a task log directory, a log file, a prompt and run files: 0 bytes written outside state_dir, the attempts fail cleanly', async () => {
  const sb = makeSandbox({ worker: { max_attempts: 1 } });
  const outside = join(sb.dir, 'outside');
  mkdirSync(join(outside, 'dir'), { recursive: true });
  writeFileSync(join(outside, 'victim.txt'), 'precious\n');
  writeFileSync(join(outside, 'prompt-target'), 'exit=0 not the prompt warden wrote\n');
  const st = sb.stateDir;
  mkdirSync(join(st, 'logs', 'linkfile'), { recursive: true });
  mkdirSync(join(st, 'run'), { recursive: true });
  mkdirSync(join(st, 'prompts'), { recursive: true });
  symlinkSync(join(outside, 'dir'), join(st, 'logs', 'linkdir')); // the task's log directory
  symlinkSync(join(outside, 'victim.txt'), join(st, 'logs', 'linkfile', '1.log')); // the log file itself
  symlinkSync(join(outside, 'victim.txt'), join(st, 'run', 'runfile.1.exit')); // a run file warden reads
  symlinkSync(join(outside, 'victim.txt'), join(st, 'run', 'runfile.1.pid'));
  const before = snapshot(outside);
  const d = await startDaemon(sb);
  await addTask(sb, 'linkdir', 'exit=0');
  await addTask(sb, 'linkfile', 'exit=0');
  await addTask(sb, 'runfile', 'exit=0');
  const end = async (id: string) =>
    waitFor(`${id} ended`, async () => {
      const t = await task(sb, id);
      return t && t.history.length > 0 ? t : null;
    });
  const linkdir = await end('linkdir');
  const linkfile = await end('linkfile');
  const runfile = await end('runfile');
  // a prompt file swapped for a symlink after intake (the worker's stdin)
  await addTask(sb, 'prompt', 'exit=0');
  await waitFor('prompt ingested', async () => ((await task(sb, 'prompt')) ? true : null));
  const written = bytesOutside(before, outside);
  const logText = d.log();
  console.log(
    `planted symlinks: log dir -> ${linkdir.history[0]?.outcome} (${linkdir.history[0]?.detail}); ` +
      `log file -> ${linkfile.history[0]?.outcome}; run files -> ${runfile.history[0]?.outcome}; bytes written outside state_dir: ${written}`,
  );
  assert.equal(written, 0, 'bytes written outside state_dir');
  assert.equal(readdirSync(join(outside, 'dir')).length, 0, 'nothing created in the symlinked log directory');
  assert.equal(linkdir.history[0]?.outcome, 'spawn_failed');
  assert.match(linkdir.history[0]?.detail ?? '', /symbolic link/);
  assert.equal(linkfile.history[0]?.outcome, 'spawn_failed');
  assert.match(linkfile.history[0]?.detail ?? '', /symbolic link/);
  // the symlinked run files were neither followed nor read: the worker's own wrapper replaced them
  // (it writes as the worker user); the attempt ended by its exit code as usual
  assert.equal(runfile.state, 'succeeded');
  assert.doesNotMatch(logText, /precious/);
  await d.stop();
});

test('a symlink planted as a task prompt: the attempt fails as a spawn failure and the target is not read into the worker', async () => {
  const sb = makeSandbox({ worker: { max_attempts: 1 }, supervisor: { poll_interval: '500ms' } });
  const outside = join(sb.dir, 'outside');
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'secret'), 'exit=0 secret\n');
  const d = await startDaemon(sb);
  await cliPause(sb);
  await addTask(sb, 'p', 'exit=0');
  const promptFile = join(sb.stateDir, 'prompts', 'p.prompt');
  await waitFor('prompt written', () => existsSync(promptFile));
  rmSync(promptFile);
  symlinkSync(join(outside, 'secret'), promptFile);
  const before = snapshot(outside);
  await cliResume(sb);
  const t = await waitFor('p ended', async () => {
    const v = await task(sb, 'p');
    return v && v.history.length > 0 ? v : null;
  });
  console.log(
    `planted prompt symlink: ${t.history[0]?.outcome} (${t.history[0]?.detail}); bytes written outside: ${bytesOutside(before, outside)}`,
  );
  assert.equal(t.history[0]?.outcome, 'spawn_failed');
  assert.match(t.history[0]?.detail ?? '', /prompt file .*symbolic link/);
  await d.stop();
});

async function cliPause(sb: ReturnType<typeof makeSandbox>) {
  const { cliOk } = await import('../integration/harness.ts');
  await cliOk(sb.configPath, ['pause']);
}
async function cliResume(sb: ReturnType<typeof makeSandbox>) {
  const { cliOk } = await import('../integration/harness.ts');
  await cliOk(sb.configPath, ['resume']);
}
