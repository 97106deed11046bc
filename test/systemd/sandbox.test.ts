// Issue 18: sandboxed workers (`[executor] sandbox = true`) under a real systemd. A hostile worker
// tries every escape of the issue and does its legitimate work (edit, commit, push to a local bare
// repository, a pull request through the fake gh, its HOME); the counts are printed. The same
// worker in a plain scope is the control: it must get out, or the test proves nothing. Then the
// scope executor's guarantees for the sandboxed one: OOM, CPUQuota, adoption after kill -9, stop
// with no process left, and the real claude CLI classified auth_failed.
//
// cgroup v1 (this machine's nspawn harness) cannot enforce IPAddressDeny: there the loopback port
// is reachable, and the test asserts the documented partial sandbox and its loud line instead. On
// cgroup v2 (the VM) it asserts the denial.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxedExecutor } from '../../src/executors/systemd-service.ts';
import { sandboxGaps } from '../../src/executors/sandbox.ts';
import { unitName } from '../../src/executors/systemd-unit.ts';
import { lookupUser } from '../../src/host/users.ts';
import { FAKE_WORKER, FIXTURES, ROOT } from '../helpers/paths.ts';
import { killMarked, processesWithMarker, uniqueMarker } from '../helpers/procs.ts';
import {
  addTask,
  cli,
  cpuShare,
  ensureWorkerUser,
  freshDir,
  inHarness,
  installService,
  journal,
  nowForJournal,
  release,
  sh,
  status,
  stopService,
  tasks,
  unitProps,
  untilReleased,
  waitFor,
  writeConfig,
} from './harness.ts';

const skip = inHarness() ? false : 'needs the real-systemd harness (scripts/with-systemd.sh)';
const HOSTILE = join(FIXTURES, 'hostile-worker.mjs');
const FAKE_GH = join(FIXTURES, 'fake-gh');
const STRAY_CHILD = join(FIXTURES, 'stray-child.mjs');
const CLAUDE = join(ROOT, 'node_modules/.bin/claude');
const SUID_HELPER = '/opt/warden-sandbox-test/id';
const ETC_CONFIG = '/etc/warden/config.toml';
const OTHER_HOME = '/home/warden-sbx-other/notes.txt';
const HOST_TMP = '/tmp/warden-sbx-host-secret';
const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
const SANDBOX = { kind: 'systemd', sandbox: true };
const markers: string[] = [];
// The worktree's .git file and the clone are root's, the worker is not: git would refuse them as
// "dubious ownership". Config from the environment counts as command-line config, where
// safe.directory is honoured (README: the worker's env_file).
const GIT_TRUSTS_ALL = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'safe.directory', GIT_CONFIG_VALUE_0: '*' };

interface Attempt {
  kind: 'escape' | 'legit';
  name: string;
  ok: boolean;
  detail: string;
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', '-c', 'safe.directory=*', ...args], { cwd, encoding: 'utf8' });

/** A clone with one commit, its bare remote as origin, and a victim task's worktree, as warden makes them. */
function repoWithRemote(dir: string): { repo: string; remote: string; trees: string; victim: string } {
  const repo = `${dir}/repo`;
  const remote = `${dir}/remote.git`;
  const trees = `${dir}/trees`;
  mkdirSync(repo);
  // root's clone (root's git refuses a repository another user owns), its git directory writable
  // for the worker user by mode; not core.sharedRepository, whose setgid directories
  // RestrictSUIDSGID= refuses (EPERM)
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(`${repo}/README.md`, 'the project\n');
  git(repo, 'add', 'README.md');
  git(repo, 'commit', '-q', '-m', 'init');
  execFileSync('git', ['init', '-q', '--bare', remote]);
  git(repo, 'remote', 'add', 'origin', remote);
  mkdirSync(trees);
  const victim = `${trees}/victim`;
  git(repo, 'worktree', 'add', '-q', victim, '-b', 'warden/victim');
  execFileSync('chmod', ['-R', 'a+rwX', `${repo}/.git`]);
  // the remote stands for GitHub: the worker's, since git trusts no config but its own for a
  // local remote (it drops GIT_CONFIG_* when it runs the remote's side)
  execFileSync('chown', ['-R', 'warden:', remote]);
  execFileSync('chown', ['-R', 'warden:', victim]); // as warden gives a worktree to the worker user
  return { repo, remote, trees, victim };
}

/** Runs the hostile worker as task `id` (sandboxed or not) and returns its report. */
async function runHostile(label: string, sandbox: boolean): Promise<{ config: string; dir: string; results: Attempt[]; remote: string }> {
  const dir = freshDir(label);
  const { repo, remote, trees, victim } = repoWithRemote(dir);
  const ghDir = `${dir}/gh`;
  mkdirSync(ghDir, { mode: 0o777 });
  chmodSync(ghDir, 0o777);
  const port = 20_000 + (process.pid % 10_000);
  const state = `${dir}/state`;
  mkdirSync(`${dir}/report`, { mode: 0o777 });
  chmodSync(`${dir}/report`, 0o777);
  const plan = {
    report: `${dir}/report/hostile.json`,
    outside: `${dir}/out`, // mode 0777: only the sandbox keeps the worker out
    configs: [ETC_CONFIG, `${dir}/config.toml`, `${dir}/worker.env`],
    stateFiles: [`${state}/state.json`],
    otherHome: OTHER_HOME,
    hostTmp: HOST_TMP,
    otherWorktree: victim,
    suidHelper: SUID_HELPER,
    socket: `${state}/warden.sock`,
    tcpPort: port,
    tasksMax: 32,
    fileSizeMax: 1024 * 1024,
    gh: FAKE_GH,
  };
  writeFileSync(`${dir}/plan.json`, JSON.stringify(plan));
  // the worker's secrets file: root's, mode 0600, read by systemd before the sandbox starts
  const env = { FAKE_GH_DIR: ghDir, ...GIT_TRUSTS_ALL };
  writeFileSync(
    `${dir}/worker.env`,
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o600 },
  );
  const config = writeConfig(dir, {
    executor: { kind: 'systemd', sandbox },
    control: { port },
    worktree: { repo, base_dir: trees, min_free_disk: '0' },
    worker: {
      command: [process.execPath, HOSTILE, `${dir}/plan.json`],
      max_attempts: 1,
      startup_window: '0s',
      tasks_max: 32,
      file_size_max: '1M',
      env_file: `${dir}/worker.env`,
      writable_paths: [remote, ghDir, `${dir}/report`],
      stall_after: '2m',
    },
  });
  chmodSync(`${dir}/plan.json`, 0o644);
  // a scope does not read env_file: the control run gets FAKE_GH_DIR from warden's environment
  installService(config, sandbox ? {} : { env });
  assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
  addTask(config, 'hostile', 'escape if you can');
  const t = await waitFor('the hostile task ended', () => tasks(config).find((x) => x.id === 'hostile' && x.history.length > 0), 60_000);
  assert.equal(t.history[0]?.exitCode, 0, JSON.stringify(t.history));
  if (!existsSync(plan.report)) throw new Error(`no report; the attempt log:\n${cli(config, 'logs', 'hostile').stdout}`);
  const results = JSON.parse(readFileSync(plan.report, 'utf8')) as Attempt[];
  return { config, dir, results, remote };
}

const isLoopbackTcp = (r: Attempt) => r.name === "connect to warden's loopback TCP port";

describe('sandboxed workers (executor.sandbox = true)', { skip }, () => {
  let createdEtc = false;
  before(() => {
    ensureWorkerUser();
    // a setuid-root helper the worker could use to become root, were setuid honoured
    mkdirSync('/opt/warden-sandbox-test', { recursive: true });
    copyFileSync('/usr/bin/id', SUID_HELPER);
    chmodSync(SUID_HELPER, 0o4755);
    // another user's file in their home, and one in the host's /tmp, both readable by anyone
    mkdirSync('/home/warden-sbx-other', { recursive: true, mode: 0o755 });
    writeFileSync(OTHER_HOME, 'notes', { mode: 0o644 });
    writeFileSync(HOST_TMP, 'secret', { mode: 0o644 });
    if (!existsSync(ETC_CONFIG)) {
      mkdirSync('/etc/warden', { recursive: true });
      writeFileSync(ETC_CONFIG, '[alerts]\nntfy_url = "https://ntfy.sh/secret-topic"\n', { mode: 0o644 });
      createdEtc = true;
    }
  });
  after(() => {
    stopService();
    for (const m of markers) killMarked(m);
    rmSync('/opt/warden-sandbox-test', { recursive: true, force: true });
    rmSync('/home/warden-sbx-other', { recursive: true, force: true });
    rmSync(HOST_TMP, { force: true });
    if (createdEtc) rmSync('/etc/warden', { recursive: true, force: true });
  });

  test('control: the same hostile worker in a plain scope gets out', async () => {
    const { results } = await runHostile('sbx-control', false);
    const escaped = results.filter((r) => r.kind === 'escape' && r.ok);
    console.log(`# control (scope, no sandbox): escapes ${escaped.length} of ${results.filter((r) => r.kind === 'escape').length}`);
    for (const r of results.filter((x) => x.kind === 'escape')) console.log(`#   ${r.ok ? 'ESCAPED' : 'blocked'}  ${r.name}: ${r.detail}`);
    // without the sandbox these succeed: the test below can fail
    for (const name of [
      'write outside its worktree',
      "read another task's worktree",
      "write another task's worktree",
      `read ${ETC_CONFIG}`,
      "read another user's home",
      "read the host's /tmp",
    ])
      assert.ok(
        escaped.some((r) => r.name === name),
        `the control run should escape: ${name}`,
      );
    stopService();
  });

  test('a hostile worker escapes 0 times while its legitimate work all succeeds', async () => {
    const since = nowForJournal();
    const { config, dir, results, remote } = await runHostile('sbx-hostile', true);
    const escapes = results.filter((r) => r.kind === 'escape');
    const legit = results.filter((r) => r.kind === 'legit');
    // cgroup v1: IPAddressDeny is not enforced, documented and reported as a partial sandbox
    const escaped = escapes.filter((r) => r.ok && (v2 || !isLoopbackTcp(r)));
    for (const r of results)
      console.log(`#   ${r.kind === 'escape' ? (r.ok ? 'ESCAPED' : 'blocked') : r.ok ? 'done   ' : 'FAILED '}  ${r.name}: ${r.detail}`);
    console.log(
      `# sandbox: escapes ${escaped.length} of ${escapes.length} tried; legitimate actions ${legit.filter((r) => r.ok).length} of ${legit.length} succeeded` +
        (v2 ? '' : ` (cgroup v1: loopback TCP ${escapes.find(isLoopbackTcp)?.ok ? 'reachable, as documented' : 'blocked'})`),
    );
    assert.deepEqual(
      escaped.map((r) => r.name),
      [],
    );
    assert.equal(escapes.length, 14, 'every escape of the issue was tried');
    assert.deepEqual(
      legit.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`),
      [],
    );
    // what the legitimate work left, seen from outside
    assert.match(git(remote, 'log', '--format=%s', 'warden/hostile'), /work of hostile/, 'the push reached the bare remote');
    assert.ok(existsSync(`${dir}/gh/prs/warden__hostile.json`), 'the fake gh recorded the pull request');
    assert.ok(existsSync(`${dir}/state/homes/hostile/.claude/state.json`), 'the per-task HOME was written');
    assert.ok(!existsSync(`${dir}/out/escaped-hostile`), 'nothing written outside');
    assert.ok(!existsSync(`${dir}/trees/victim/planted-by-hostile`), "nothing planted in the other task's worktree");
    // the sandbox is stated, loudly when partial: in status and once in the log
    const s = status(config);
    const expected = v2 ? 'sandbox: on' : 'sandbox: partial: IPAddressDeny needs cgroup v2';
    assert.ok(s?.executor.sandbox.startsWith(expected), `status: ${s?.executor.sandbox}`);
    const text = cli(config, 'status').stdout;
    assert.ok(text.includes(expected), text);
    const log = journal('warden.service', since);
    assert.equal(log.split('\n').filter((l) => l.includes(expected)).length, 1, log);
    if (!v2) assert.ok(escapes.find(isLoopbackTcp)?.ok, 'on cgroup v1 the loopback port is reachable, as the partial line says');
    stopService();
  });

  test('warden doctor scores the sandbox with systemd-analyze security: exposure under 2.5', async () => {
    const dir = freshDir('sbx-doctor');
    const config = writeConfig(dir, { executor: SANDBOX });
    const r = cli(config, 'doctor', '--json');
    const check = (
      JSON.parse(r.stdout) as { checks: { id: string; status: string; summary: string; data?: { exposure?: number } }[] }
    ).checks.find((c) => c.id === 'sandbox');
    console.log(`# doctor: ${check?.status} ${check?.summary}`);
    assert.ok(check?.data?.exposure !== undefined, JSON.stringify(check));
    assert.ok(check.data.exposure < 2.5, `exposure ${check.data.exposure}`);
    assert.equal(check.status, v2 ? 'pass' : 'warn');
    await sleep(0);
  });

  test('a sandboxed worker allocating 2x memory_max is OOM-killed and classified oom_killed; warden keeps running', async () => {
    const dir = freshDir('sbx-oom');
    const config = writeConfig(dir, { executor: SANDBOX, worker: { memory_max: '64M' } });
    installService(config);
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    const mainPid = unitProps('warden.service', 'MainPID').MainPID;
    addTask(config, 'hog', 'alloc=128M sleep=5');
    const hog = await waitFor('hog classified', () => tasks(config).find((t) => t.id === 'hog' && t.history.length > 0), 30_000);
    assert.equal(hog.history[0]?.outcome, 'oom_killed', JSON.stringify(hog.history[0]));
    assert.equal(unitProps('warden.service', 'MainPID').MainPID, mainPid, 'warden was not restarted');
    stopService();
  });

  test('a sandboxed busy-loop worker with cpu_quota = "20%" uses at most about 25% of a core over 3 s', async () => {
    const dir = freshDir('sbx-cpu');
    const state = `${dir}/state`;
    mkdirSync(`${state}/worktrees/busy`, { recursive: true });
    mkdirSync(`${state}/prompts`, { recursive: true });
    writeFileSync(`${state}/prompts/busy`, 'busy=1 sleep=8');
    const user = lookupUser('warden');
    const ex = new SandboxedExecutor(
      { user, maxRuntimeMs: 60_000, stopGraceMs: 1000, memoryEnforced: true },
      {
        stateDir: state,
        worktreeBase: null,
        repo: null,
        writable: [],
        inaccessible: ['/etc/warden'],
        limits: { fileSizeMax: 1024 ** 3, denyNetworks: [], envFile: null },
        gaps: sandboxGaps(v2 ? 'v2' : 'hybrid'),
      },
    );
    const h = await ex.spawn({
      taskId: 'busy',
      attempt: 1,
      argv: [FAKE_WORKER],
      cwd: `${state}/worktrees/busy`,
      stdinFile: `${state}/prompts/busy`,
      logFile: `${state}/logs/busy/1.log`,
      runBase: `${state}/run/busy.1`,
      memoryMax: 256 * 1024 ** 2,
      cpuQuota: 20,
      tasksMax: 64,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    assert.equal(h.unit, unitName('busy', 'service'));
    assert.equal(
      unitProps(unitName('busy', 'service'), 'MainPID').MainPID,
      String(h.pid),
      "the handle's PID is the service's main process",
    );
    await sleep(1000);
    const { share, throttled } = await cpuShare(unitName('busy', 'service'), 3000);
    console.log(`# sandboxed busy worker under CPUQuota=20%: ${(share * 100).toFixed(1)}% of one core over 3 s`);
    assert.ok(share <= 0.25, `used ${(share * 100).toFixed(1)}% of a core`);
    assert.ok(share >= 0.1, `the busy loop really ran (${(share * 100).toFixed(1)}%)`);
    if (throttled !== null) assert.ok(throttled, 'the cgroup reports CFS throttling');
    await h.stop(1000);
    assert.notEqual(unitProps(unitName('busy', 'service'), 'ActiveState').ActiveState, 'active');
  });

  test('after kill -9 of warden the sandboxed worker is adopted, not spawned again, and its success recorded', async () => {
    const dir = freshDir('sbx-adopt');
    const config = writeConfig(dir, { executor: SANDBOX });
    installService(config);
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    // runs until adopted, however slow the restart (a fixed sleep=25 ended first in the v2 VM)
    addTask(config, 'adoptee', `sleep=0 ${untilReleased(dir)}`);
    const running = await waitFor('worker running', () => status(config)?.workers.find((w) => w.taskId === 'adoptee'));
    assert.equal(running.unit, 'warden-adoptee.service');
    const mainPid = unitProps('warden.service', 'MainPID').MainPID;
    const since = nowForJournal();
    assert.equal(sh('kill', ['-9', String(mainPid)]).code, 0);
    await waitFor('warden restarted', () => {
      const p = unitProps('warden.service', 'MainPID', 'ActiveState');
      return p.ActiveState === 'active' && p.MainPID !== mainPid && p.MainPID !== '0';
    });
    const after = await waitFor(
      'adopted worker shown',
      () => status(config)?.workers.find((w) => w.taskId === 'adoptee'),
      20_000,
      100,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}\n${journal('warden.service', since)}\n${sh('systemctl', ['status', 'warden-adoptee.service']).stdout}`,
      );
    });
    assert.equal(after.pid, running.pid, 'the same worker, adopted');
    release(dir);
    const done = await waitFor('adoptee succeeded', () => tasks(config).find((t) => t.id === 'adoptee' && t.state === 'succeeded'), 60_000);
    assert.equal(done.history.length, 1, JSON.stringify(done.history));
    assert.equal(status(config)?.totalSpawns, 1, 'no second spawn');
    assert.match(journal('warden.service', since), /adopted running worker/);
    stopService();
  });

  test('systemctl stop warden: the sandboxed service is gone and no process of it is left', async () => {
    const dir = freshDir('sbx-stop');
    const marker = uniqueMarker('sbx-stop');
    markers.push(marker);
    const config = writeConfig(dir, {
      executor: SANDBOX,
      worker: {
        command: [process.execPath, STRAY_CHILD, 'run', marker, `${dir}/out/pids`],
        writable_paths: [`${dir}/out`],
        stop_grace: '1s',
      },
    });
    installService(config);
    assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
    addTask(config, 'sst', 'stray child, warden stops');
    await waitFor('the child runs', () => existsSync(`${dir}/out/pids`) && processesWithMarker(marker).length >= 2);
    await sleep(500);
    assert.equal(sh('systemctl', ['stop', 'warden.service']).code, 0);
    const left = processesWithMarker(marker).length;
    const active = sh('systemctl', ['is-active', 'warden-sst.service']).stdout.trim();
    console.log(`# sandbox stop: service ${active}, processes left ${left}`);
    assert.notEqual(active, 'active');
    assert.equal(left, 0);
    stopService();
  });

  test(
    'the real claude CLI starts inside the sandbox and is classified auth_failed, not a crash',
    { skip: existsSync(CLAUDE) ? false : `SKIPPED: ${CLAUDE} is missing (npm ci installs @anthropic-ai/claude-code)` },
    async () => {
      const dir = freshDir('sbx-claude');
      const config = writeConfig(dir, {
        executor: SANDBOX,
        worker: {
          command: [CLAUDE, '-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', '{permission_mode}'],
          startup_window: '10s',
          memory_max: '1G',
          stall_after: '2m',
          env_file: `${dir}/no-such-env`,
        },
      });
      installService(config);
      assert.equal(sh('systemctl', ['start', 'warden.service']).code, 0);
      addTask(config, 'hi', 'say hi');
      const s = await waitFor(
        'paused for worker_auth',
        () => {
          const st = status(config);
          return st?.pause.reasons.includes('worker_auth') ? st : null;
        },
        90_000,
      );
      const t = tasks(config).find((x) => x.id === 'hi');
      console.log(`# real claude in the sandbox: outcomes ${JSON.stringify(t?.history.map((h) => h.outcome))}; ${s.summary}`);
      assert.deepEqual(
        t?.history.map((h) => h.outcome),
        ['auth_failed'],
      );
      assert.ok(
        existsSync(`${dir}/state/homes/hi/.claude.json`) || existsSync(`${dir}/state/homes/hi/.claude`),
        'claude wrote its state into the per-task HOME',
      );
      stopService();
    },
  );
});
