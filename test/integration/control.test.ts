// The health and control API on a real daemon: the socket's mode and group keep other users out,
// pause and resume round-trip, /metrics is read by a Prometheus text parser, the loopback TCP port
// is read-only, and SIGTERM takes the one shutdown path (health 503, workers stopped, socket gone,
// exit 0). Requests from another user run as a real other process (setpriv).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { CLI, FIXTURES } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  addTask,
  cleanupAll,
  cli,
  makeSandbox,
  readStateFile,
  startDaemon,
  status,
  waitForStarts,
  writeConfig,
  type Sandbox,
} from './harness.ts';

after(cleanupAll);

interface Answer {
  status: number;
  body: string;
  json(): any;
}

type Target = { socketPath: string } | { host: string; port: number };

function call(target: Target, method: 'GET' | 'POST', path: string, timeoutMs = 3000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

const sock = (sb: Sandbox): Target => ({ socketPath: sb.socket });

/** A free loopback TCP port (listen on 0, close, reuse the number). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const NOBODY = 65534;
const USERS_GID = 100; // Debian's "users" group
const setpriv = spawnSync('setpriv', ['--version']).status === 0 ? null : 'setpriv (util-linux) is not installed';
const notRoot = process.getuid?.() === 0 ? null : 'not root: cannot run a client as another user';
const skipOtherUser = setpriv ?? notRoot;
if (skipOtherUser) console.log(`### SKIPPED: control socket access by another user (${skipOtherUser})`);

/** Runs a tiny HTTP client on the socket as uid nobody, with the given supplementary groups. */
function asNobody(socket: string, groups: number[]): { status: number | null; stdout: string; stderr: string } {
  const client = `
    const r = require('node:http').request({ socketPath: ${JSON.stringify(socket)}, path: '/status' }, (res) => { console.log('HTTP ' + res.statusCode); res.resume(); });
    r.on('error', (e) => { console.log(e.code); process.exitCode = 1; });
    r.end();`;
  const groupArgs = groups.length ? [`--groups=${groups.join(',')}`] : ['--clear-groups'];
  const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, ...groupArgs, process.execPath, '-e', client], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

describe('the control socket keeps out everyone but root and its group', { skip: skipOtherUser ?? false }, () => {
  test('mode 0660, group from [control] group; nobody is refused, nobody in the group is served', async () => {
    const sb = makeSandbox({ control: { group: 'users' } });
    chmodSync(sb.dir, 0o711); // only the socket's own mode may stand in the way
    const d = await startDaemon(sb);
    const st = statSync(sb.socket);
    assert.equal(st.mode & 0o777, 0o660, `mode ${(st.mode & 0o777).toString(8)}`);
    assert.equal(st.gid, USERS_GID);
    assert.equal(statSync(sb.stateDir).mode & 0o777, 0o711, 'the state directory can be traversed, so the refusal is the socket');

    const outsider = asNobody(sb.socket, []);
    assert.equal(outsider.stdout, 'EACCES', JSON.stringify(outsider));
    const member = asNobody(sb.socket, [USERS_GID]);
    assert.equal(member.stdout, 'HTTP 200', JSON.stringify(member));

    // and the real CLI, as that outsider: one line naming the group, exit 77 (if that user can read this checkout)
    const readable =
      spawnSync('setpriv', [
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        '--clear-groups',
        process.execPath,
        '-e',
        `require('fs').accessSync(${JSON.stringify(CLI)})`,
      ]).status === 0;
    if (!readable) {
      console.log(`### SKIPPED: warden status as nobody (${CLI} is not readable by nobody in this checkout)`);
      assert.equal((await d.stop()).code, 0);
      return;
    }
    const cli = spawnSync(
      'setpriv',
      [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, CLI, 'status', '--config', sb.configPath],
      { encoding: 'utf8', timeout: 15_000 },
    );
    assert.equal(cli.status, 77, cli.stderr);
    assert.match(
      cli.stderr.trim(),
      /^warden: permission denied: cannot connect to the daemon on \S+warden\.sock; add yourself to group users: sudo usermod -aG users \$USER \(then log in again\)$/,
    );
    assert.equal((await d.stop()).code, 0);
  });

  test('an unknown [control] group stops the daemon with exit 78', async () => {
    const sb = makeSandbox({ control: { group: 'no-such-group-xyz' } });
    const r = spawnSync(process.execPath, [CLI, 'run', '--config', sb.configPath], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /control\.group: no group named "no-such-group-xyz" in \/etc\/group/);
  });
});

test('pause and resume round-trip over the socket; /readyz follows, /healthz stays up', async () => {
  const sb = makeSandbox();
  const d = await startDaemon(sb);
  assert.deepEqual([(await call(sock(sb), 'GET', '/healthz')).status, (await call(sock(sb), 'GET', '/readyz')).status], [200, 200]);
  const p = await call(sock(sb), 'POST', '/pause');
  assert.deepEqual([p.status, p.json()], [200, { paused: ['manual'] }]);
  const notReady = await call(sock(sb), 'GET', '/readyz');
  assert.equal(notReady.status, 503);
  assert.deepEqual(notReady.json().error, { reason: 'paused: manual' });
  assert.equal((await call(sock(sb), 'GET', '/healthz')).status, 200, 'paused is not dead');
  const s = (await call(sock(sb), 'GET', '/status')).json();
  assert.deepEqual(s.pause.reasons, ['manual']);
  const r = await call(sock(sb), 'POST', '/resume');
  assert.deepEqual([r.status, r.json()], [200, { paused: [] }]);
  assert.equal((await call(sock(sb), 'GET', '/readyz')).status, 200);
  assert.equal((await call(sock(sb), 'GET', '/nope')).status, 404);
  assert.equal((await d.stop()).code, 0);
});

test('warden reload: a good config is applied at once (exit 0); a bad one prints its problem lines, exits 78 and changes nothing; SIGHUP still reloads', async () => {
  const sb = makeSandbox();
  const d = await startDaemon(sb);
  const hash = async () => (await status(sb)).config.sha256;
  const first = await hash();
  const good = readFileSync(sb.configPath, 'utf8');

  writeFileSync(sb.configPath, good + '\n[alerts]\nrepeat_after = "5m"\n');
  const ok = await cli(sb.configPath, ['reload']);
  assert.equal(ok.code, 0, ok.stderr);
  const second = await hash();
  assert.notEqual(second, first, 'applied before the command returned');
  assert.equal(ok.stdout, `reloaded ${sb.configPath} (sha256 ${second.slice(0, 12)})\n`);

  writeFileSync(sb.configPath, good.replace(/^memory_max = .*$/m, 'memory_max = "lots"') + '\n[supervisor2]\nx = 1\n');
  const bad = await cli(sb.configPath, ['reload']);
  assert.equal(bad.code, 78, bad.stdout + bad.stderr);
  const lines = bad.stderr.trim().split('\n');
  assert.equal(lines.length, 3, bad.stderr);
  assert.match(lines[0]!, /warden\.toml:\d+:\d+: worker\.memory_max: /);
  assert.match(lines[1]!, /supervisor2: unknown/);
  assert.equal(lines[2], `warden: reload rejected: the daemon keeps running the config it had (sha256 ${second.slice(0, 12)})`);
  assert.doesNotMatch(bad.stderr, /^\s+at /m);
  assert.equal(await hash(), second, 'still the config it had');
  const answer = await call(sock(sb), 'POST', '/reload');
  assert.equal(answer.status, 422);
  assert.equal(answer.json().problems.length, 2);

  writeFileSync(sb.configPath, good.replace('max_concurrent_workers = 1', 'max_concurrent_workers = 2'));
  process.kill(d.pid, 'SIGHUP');
  await waitFor('SIGHUP applied the config', async () => ((await hash()) !== second ? true : null));
  assert.equal((await status(sb)).summary.startsWith('0/2 workers'), true);
  assert.equal((await d.stop()).code, 0);
});

test('warden reload with no daemon: one line, exit 3', async () => {
  const sb = makeSandbox();
  const r = await cli(sb.configPath, ['reload']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /^warden: warden is not running \(no daemon on /);
});

type Family = { name: string; type: string; metrics: { value: string; labels?: Record<string, string> }[] };

test('/metrics parses as Prometheus text and follows spawns, failures by kind, tasks and the breaker', async () => {
  const sb = makeSandbox({ worker: { max_attempts: 1, startup_window: '1s' } });
  const d = await startDaemon(sb);
  await addTask(sb, 'ok', `sleep=1.2 exit=0 count=${sb.countFile}`);
  await addTask(sb, 'bad', `sleep=0 exit=1 count=${sb.countFile}`);
  await waitFor('both tasks to end', async () => {
    const s = (await call(sock(sb), 'GET', '/status')).json();
    return s.tasks.succeeded === 1 && s.tasks.dead === 1;
  });
  const res = await call(sock(sb), 'GET', '/metrics');
  assert.equal(res.status, 200);
  const families = new Map((parsePrometheusTextFormat(res.body) as Family[]).map((f) => [f.name, f]));
  const v = (name: string, labels: Record<string, string> = {}) => {
    const f = families.get(name);
    assert.ok(f, `${name} present`);
    const m = f.metrics.find((x) => Object.entries(labels).every(([k, val]) => x.labels?.[k] === val));
    assert.ok(m, `${name} ${JSON.stringify(labels)}`);
    return Number(m.value);
  };
  for (const f of families.values()) assert.ok(['GAUGE', 'COUNTER'].includes(f.type), `${f.name}: ${f.type}`);
  assert.equal(v('warden_spawns_total'), 2);
  assert.equal(v('warden_attempt_failures_total', { kind: 'startup_error' }), 1);
  assert.equal(v('warden_attempt_failures_total', { kind: 'exit_nonzero' }), 0);
  assert.equal(v('warden_tasks', { state: 'succeeded' }), 1);
  assert.equal(v('warden_tasks', { state: 'dead' }), 1);
  assert.equal(v('warden_tasks', { state: 'pending' }), 0);
  assert.equal(v('warden_workers'), 0);
  assert.equal(v('warden_breaker_state', { state: 'closed' }), 1);
  assert.equal(v('warden_ready'), 1);
  assert.ok(v('warden_host_memory_available_bytes') > 0);
  assert.ok(v('warden_host_load1') >= 0);
  await d.stop();
});

test('the loopback TCP port serves the read-only routes and refuses pause and resume', async () => {
  const port = await freePort();
  const sb = makeSandbox({ control: { port } });
  const d = await startDaemon(sb);
  const tcp = { host: '127.0.0.1', port };
  assert.equal((await call(tcp, 'GET', '/healthz')).status, 200);
  assert.equal((await call(tcp, 'GET', '/status')).json().daemon.pid, d.pid);
  assert.match((await call(tcp, 'GET', '/metrics')).body, /^# HELP warden_build_info/m);
  const p = await call(tcp, 'POST', '/pause');
  assert.equal(p.status, 403);
  assert.match(p.json().error, /only accepted on the unix socket/);
  assert.equal((await call(sock(sb), 'GET', '/readyz')).status, 200, 'the refused pause did nothing');
  assert.match(d.log(), new RegExp(`control API also on loopback TCP \\(read-only\\) address=127\\.0\\.0\\.1 port=${port}`));
  assert.equal((await d.stop()).code, 0);
  await assert.rejects(call(tcp, 'GET', '/healthz', 1000), /ECONNREFUSED/, 'the TCP port is closed at shutdown');
});

describe('SIGTERM and SIGINT take the one shutdown path (terminus -> Supervisor.shutdown -> exit 0)', () => {
  test('SIGTERM: health 503 at once while the stubborn worker gets its grace, then socket removed, clean state, exit 0', async () => {
    const STOP_GRACE_MS = 2000;
    const sb = makeSandbox();
    writeConfig(sb, {
      worker: { command: [process.execPath, join(FIXTURES, 'ignore-sigterm.mjs'), sb.countFile], stop_grace: `${STOP_GRACE_MS}ms` },
    });
    const d = await startDaemon(sb);
    await addTask(sb, 'stubborn', 'anything');
    await waitForStarts(sb.countFile);
    await sleep(200);
    const t0 = Date.now();
    d.proc.kill('SIGTERM');
    const health = await waitFor(
      '/healthz to answer 503',
      async () => {
        const a = await call(sock(sb), 'GET', '/healthz');
        return a.status === 503 ? a : null;
      },
      1500,
      20,
    );
    const healthMs = Date.now() - t0;
    assert.equal(health.json().status, 'error');
    assert.equal((await call(sock(sb), 'GET', '/readyz')).status, 503);
    const during = await call(sock(sb), 'GET', '/status');
    assert.equal(during.status, 200, '`warden status` still answers while workers are being stopped');
    const exit = await d.exited;
    const ms = exit.at - t0;
    console.log(`SIGTERM: /healthz 503 after ${healthMs} ms; exit ${exit.code} after ${ms} ms (stop_grace ${STOP_GRACE_MS} ms)`);
    assert.equal(exit.code, 0, d.log());
    assert.equal(exit.signal, null, 'exits, does not die by the re-sent signal');
    assert.ok(ms >= STOP_GRACE_MS - 100 && ms < STOP_GRACE_MS + 2000, `${ms} ms`);
    assert.ok(!existsSync(sb.socket), 'the socket file is removed');
    assert.equal(readStateFile(sb).cleanShutdown, true);
    const log = d.log();
    const order = ['warden stopping signal=SIGTERM', 'warden stopped cleanly', 'control socket closed; warden exits'].map((m) =>
      log.indexOf(m),
    );
    assert.ok(order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!, `one path, in order:\n${log}`);
    assert.equal(log.match(/warden stopping/g)?.length, 1, 'the shutdown ran once');
  });

  test('SIGINT (Ctrl-C in the foreground) exits 0 the same way; a second signal during shutdown changes nothing', async () => {
    const sb = makeSandbox();
    const d = await startDaemon(sb);
    d.proc.kill('SIGINT');
    await waitFor('the shutdown to begin', () => /warden stopping/.test(d.log()), 5000, 5);
    d.proc.kill('SIGTERM');
    const exit = await d.exited;
    assert.equal(exit.code, 0, d.log());
    assert.match(d.log(), /warden stopping signal=SIGINT/);
    assert.equal(d.log().match(/warden stopping/g)?.length, 1);
  });
});

test('a wedged supervisor loop fails /healthz (as it fails the systemd watchdog)', async () => {
  const sb = makeSandbox();
  // startDaemon strips WARDEN_DEBUG_STALL from the environment, so this daemon is started by hand
  const proc = spawn(process.execPath, [CLI, 'run', '--config', sb.configPath], {
    env: { ...process.env, WARDEN_DEBUG_STALL: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (b: Buffer) => (log += b.toString()));
  try {
    await waitFor('the daemon to answer', async () => (await call(sock(sb), 'GET', '/healthz')).status === 200);
    proc.kill('SIGUSR2');
    const t0 = Date.now();
    const sick = await waitFor(
      '/healthz to fail',
      async () => {
        const a = await call(sock(sb), 'GET', '/healthz');
        return a.status === 503 ? a : null;
      },
      20_000,
      250,
    );
    console.log(`wedged loop: /healthz 503 after ${Date.now() - t0} ms (poll_interval 500 ms, floor 10 s)`);
    assert.match(sick.json().error.reason, /the supervisor loop has not turned for \d+s/);
    assert.equal((await call(sock(sb), 'GET', '/status')).status, 200, 'the API itself still answers');
  } finally {
    proc.kill('SIGKILL');
  }
  assert.match(log, /wedging the supervisor loop/);
});
