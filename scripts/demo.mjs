#!/usr/bin/env node
// `npm run demo`: watch warden trip its circuit breaker and recover, in well under a minute.
//
// It copies examples/demo.toml to a fresh temporary directory (state_dir there, the worker command
// made absolute), queues a few tasks with `warden task add`, runs `warden run` in the foreground,
// prints warden's log lines as they come, and between phases explains what happened and shows
// `warden status`. It stops warden with SIGTERM and exits 0 once every task is finished and the
// breaker has tripped and closed again; after 90 s, or if that story does not happen, it says so
// and exits 1. No root, no systemd: the direct executor runs scripts/fake-worker.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'smol-toml';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist/cli/main.js');
const fakeWorker = join(root, 'scripts/fake-worker');
const TIME_LIMIT_MS = Number(process.env.DEMO_TIME_LIMIT_MS) || 90_000; // the env override exists to test this path
const t0 = Date.now();

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const elapsed = () => `+${((Date.now() - t0) / 1000).toFixed(1).padStart(4)}s`;
const say = (text) => process.stdout.write(`\n${bold(`[demo ${elapsed()}]`)} ${text.replace(/\n/g, '\n             ')}\n\n`);

if (!existsSync(cli)) {
  console.error(`demo: ${cli} is missing. Run "npm run demo" (it builds first) or "npm run build".`);
  process.exit(1);
}

// --- 1. a private config and state directory ------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'warden-demo-'));
const stateDir = join(dir, 'state');
const configPath = join(dir, 'demo.toml');
const template = readFileSync(join(root, 'examples/demo.toml'), 'utf8');
const configText = template
  .replace(/^state_dir = .*$/m, `state_dir = ${JSON.stringify(stateDir)}`)
  .replace(/^command = .*$/m, `command = ${JSON.stringify([process.execPath, fakeWorker])}`);
const check = parse(configText);
if (check.supervisor?.state_dir !== stateDir || check.worker?.command?.[1] !== fakeWorker) {
  console.error('demo: could not substitute state_dir and worker.command in examples/demo.toml; were those lines renamed?');
  process.exit(1);
}
writeFileSync(configPath, configText);

/** Runs the warden CLI to completion; resolves with its exit code and output. */
function wardenCli(...args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out: out.trimEnd() }));
  });
}

const indent = (text) =>
  text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

async function showStatus(title) {
  const r = await wardenCli('status');
  process.stdout.write(`  ${dim(`$ warden status${title ? `   (${title})` : ''}`)}\n${indent(r.out)}\n\n`);
}

// The tasks: the fake worker obeys `sleep=`, `exit=` and `alloc=` in its prompt.
// fail-at-start has the best priority (1), so it is tried first and fails three times in a row;
// the others (priority 2) take longer than startup_window (2 s), so they count as successes.
// Enough of them are queued that some are still waiting when the breaker opens: one of those
// becomes the half-open probe.
const TASKS = [
  { id: 'fail-at-start', prompt: 'exit=1 sleep=0', priority: 1, what: 'exits 1 at once (like an unauthenticated `claude -p`)' },
  { id: 'ok-1', prompt: 'sleep=3', priority: 2, what: 'works for 3 s, exits 0' },
  { id: 'ok-2', prompt: 'sleep=3', priority: 2, what: 'works for 3 s, exits 0' },
  { id: 'alloc-200m', prompt: 'alloc=200M sleep=3', priority: 2, what: 'allocates and touches 200 MB, works 3 s, exits 0' },
  { id: 'ok-3', prompt: 'sleep=3', priority: 2, what: 'works for 3 s, exits 0' },
  { id: 'ok-4', prompt: 'sleep=3', priority: 2, what: 'works for 3 s, exits 0' },
  { id: 'ok-5', prompt: 'sleep=3', priority: 2, what: 'works for 3 s, exits 0' },
];

say(
  `warden demo. Config: ${configPath} (a copy of examples/demo.toml)\n` +
    `state_dir: ${stateDir}\n` +
    `Shortened for the demo: startup_window 2s, min_spawn_interval 1s, 2 workers at most,\n` +
    `breaker: 3 failures in 1m open it, cooldown 10s; startup_error backoff 1s doubling; max_attempts 3.\n` +
    `Queueing ${TASKS.length} tasks before warden starts (\`warden task add\` works without the daemon):`,
);
for (const t of TASKS) {
  const r = await wardenCli('task', 'add', t.id, '--prompt', t.prompt, '--priority', String(t.priority));
  if (r.code !== 0) {
    console.error(`demo: warden task add ${t.id} failed (exit ${r.code}):\n${r.out}`);
    process.exit(1);
  }
  process.stdout.write(`  ${t.id.padEnd(14)} priority ${t.priority}  prompt ${JSON.stringify(t.prompt).padEnd(22)} ${dim(t.what)}\n`);
}

// --- 2. run warden in the foreground and follow its log --------------------------------------
say(
  `Starting: warden run --config ${configPath}\nwarden's own log lines follow, marked "|". Expect: fail-at-start fails three times, the breaker opens.`,
);
const warden = spawn(process.execPath, [cli, 'run', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
let wardenExited = null;
const wardenDone = new Promise((resolve) => warden.on('exit', (code, signal) => resolve((wardenExited = { code, signal }))));

const seen = { ready: false, opened: false, halfOpen: false, probe: null, closed: false, closedAt: null, alloc: false };
let finished = false;
let checking = false;

for (const stream of [warden.stdout, warden.stderr]) {
  createInterface({ input: stream }).on('line', (line) => {
    // warden stamps lines with an ISO time; the demo shows time since it started instead
    process.stdout.write(`  ${dim(elapsed())} | ${line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, '')}\n`);
    void onLogLine(line);
  });
}

let narrating = Promise.resolve(); // narration runs in order, never two `warden status` at once
const narrate = (fn) => (narrating = narrating.then(fn, fn));

async function onLogLine(line) {
  if (!seen.ready && line.includes('warden ready')) {
    seen.ready = true;
  } else if (!seen.opened && line.includes('breaker OPEN')) {
    seen.opened = true;
    narrate(async () => {
      say(
        'The breaker TRIPPED: three failures inside one minute. This is what the incident lacked.\n' +
          'For the 10 s cooldown warden starts no worker at all, however many tasks wait; workers\n' +
          'already running keep running. The failing task used its 3 attempts and is now dead.',
      );
      await showStatus('breaker open');
    });
  } else if (!seen.halfOpen && line.includes('breaker half-open')) {
    seen.halfOpen = true;
    narrate(() => say('Cooldown over: the breaker is HALF-OPEN. Exactly one probe worker may start; its result decides.'));
  } else if (seen.halfOpen && !seen.probe && line.includes('(breaker probe)')) {
    seen.probe = /spawning (\S+)/.exec(line)?.[1] ?? '?';
    narrate(() =>
      say(
        `${seen.probe} is the probe. If it succeeds the breaker closes; if it failed, the breaker would reopen with the cooldown doubled.`,
      ),
    );
  } else if (!seen.closed && line.includes('breaker closed')) {
    seen.closed = true;
    seen.closedAt = Date.now();
    narrate(async () => {
      say('The probe succeeded: the breaker is CLOSED again, and the remaining tasks are spawned, one per second.');
      await showStatus('breaker closed');
    });
  }
  if (!seen.alloc && /task alloc-200m (succeeded|failed|is dead)/.test(line)) {
    seen.alloc = true;
    narrate(() => say(ALLOC_STORY));
  }
  if (/succeeded on attempt|is dead after|breaker closed/.test(line)) narrate(checkDone);
}

// What alloc-200m is there to show, and what this demo cannot show: the direct executor caps nothing.
const ALLOC_STORY =
  'alloc-200m allocated and touched 200 MB, then exited 0 (its log, shown at the end, says so).\n' +
  'It is the task that shows the memory cap, and here it is NOT capped: this demo uses the direct\n' +
  'executor (no root, no systemd), which runs workers as plain process groups. memory_max = "512M"\n' +
  'is only written down; warden said so at start ("memory_max and cpu_quota are NOT enforced"). On a Pi, with\n' +
  '[executor] kind = "systemd", each worker runs in its own scope with MemoryMax=512M and CPUQuota:\n' +
  'a worker that grows past its cap is OOM-killed inside its scope, warden records it as oom_killed,\n' +
  'and the rest of the host never feels it.';

/** Done when no task is pending, running or waiting for a retry, and the breaker is closed. */
async function checkDone() {
  if (finished || checking || !seen.ready) return;
  checking = true;
  try {
    const r = await wardenCli('status', '--json');
    if (r.code !== 0) return;
    const s = JSON.parse(r.out);
    const open = s.tasks.pending + s.tasks.running + s.tasks.retry_wait;
    if (open === 0 && s.breaker.phase === 'closed') await finish(s);
  } finally {
    checking = false;
  }
}

async function finish(s) {
  if (finished) return;
  finished = true;
  clearTimeout(deadline);
  clearInterval(poller);
  say('Every task has finished. Final state:');
  const t = await wardenCli('tasks');
  process.stdout.write(`  ${dim('$ warden tasks')}\n${indent(t.out)}\n\n`);
  await showStatus('');
  const allocLog = join(stateDir, 'logs', 'alloc-200m', '1.log');
  if (existsSync(allocLog)) process.stdout.write(`  ${dim(`$ cat ${allocLog}`)}\n${indent(readFileSync(allocLog, 'utf8').trimEnd())}\n`);
  say('Stopping warden with SIGTERM (what systemd does on `systemctl stop`).');
  const exit = await stopWarden();
  const story = seen.opened && seen.closed;
  const wall = ((Date.now() - t0) / 1000).toFixed(1);
  if (story) {
    say(
      `Done in ${wall} s: the breaker tripped after 3 failures, paused spawning for the cooldown, let ${seen.probe} through\n` +
        `as a probe, and closed when it succeeded. ${s.tasks.succeeded} tasks succeeded, ${s.tasks.dead} dead.\n` +
        `The demo's files stay in ${dir} (state.json, worker logs under state/logs/); delete them when done.`,
    );
    say(tryNext());
  } else {
    say(
      `Every task finished in ${wall} s, but the breaker did ${seen.opened ? 'trip and did not close' : 'not trip'}: the demo did not show what it should. Please report this.`,
    );
  }
  process.exit(story && exit.code === 0 ? 0 : 1);
}

/** The commands to try next, against this demo's state (warden is stopped: restart it first for `top`). */
function tryNext() {
  const w = `node ${cli}`;
  const c = `--config ${configPath}`;
  return (
    'Try next (in a second terminal, start the daemon again first:\n' +
    `  ${w} run ${c})\n` +
    `  ${w} top ${c}                         a live view of workers, host and queue (q quits)\n` +
    `  ${w} task show fail-at-start ${c}     every attempt of the task that tripped the breaker\n` +
    `  ${w} task retry fail-at-start ${c}    bring the dead task back: pending, attempts reset`
  );
}

async function stopWarden() {
  if (wardenExited) return wardenExited;
  warden.kill('SIGTERM');
  const killer = setTimeout(() => warden.kill('SIGKILL'), 10_000);
  const r = await wardenDone;
  clearTimeout(killer);
  return r;
}

// a slow safety net in case a log line was missed
const poller = setInterval(() => narrate(checkDone), 5000);

const deadline = setTimeout(
  async () => {
    if (finished) return;
    finished = true;
    clearInterval(poller);
    say(
      `TIME LIMIT: the demo has run for ${TIME_LIMIT_MS / 1000} s without finishing ` +
        `(breaker tripped: ${seen.opened ? 'yes' : 'no'}, closed again: ${seen.closed ? 'yes' : 'no'}). Current state:`,
    );
    await showStatus('at the time limit');
    say(`Stopping warden. Its files are in ${dir}.`);
    await stopWarden();
    process.exit(1);
  },
  Math.max(0, TIME_LIMIT_MS - (Date.now() - t0)),
);

warden.on('exit', (code, signal) => {
  if (finished) return;
  finished = true;
  clearTimeout(deadline);
  clearInterval(poller);
  say(`warden exited on its own (code ${code}, signal ${signal}) before the demo finished; see its log above. Files: ${dir}`);
  process.exit(1);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    clearInterval(poller);
    say(`Interrupted (${sig}): stopping warden. Its files are in ${dir}.`);
    await stopWarden();
    process.exit(130);
  });
}
