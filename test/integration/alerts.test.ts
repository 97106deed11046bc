// Alerts from a real daemon to a real HTTP server on loopback that speaks ntfy's publish API, and
// to the command hook: every event kind, the exact request, no repeats within repeat_after (even
// across a kill -9), and a receiver that is down, failing or hanging never holds up spawning.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MIN_SYSTEM_MEMORY } from '../../src/admission/fit.ts';
import { readMemTotal } from '../../src/config/suggest.ts';
import { type ConfigSections } from '../helpers/config-file.ts';
import { FIXTURES } from '../helpers/paths.ts';
import { waitFor } from '../helpers/wait.ts';
import { measureSlowdown } from '../helpers/slowdown.ts';
import {
  addTask,
  cleanupAll,
  cli,
  cliOk,
  countLines,
  makeSandbox,
  startDaemon,
  tasks,
  waitForStarts,
  writeConfig,
  type Sandbox,
} from './harness.ts';
import { decodeTitle, startNtfyReceiver, type NtfyReceiver, type Published } from './ntfy-receiver.ts';

after(cleanupAll);

const ALERT_WORKER = join(FIXTURES, 'alert-worker.mjs');
const ALERT_HOOK = join(FIXTURES, 'alert-hook.mjs');
const HOST = hostname();
const TOKEN = 'tk_warden_test_0123456789abcdef';

const receivers: NtfyReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});

async function receiver(mode: Parameters<typeof startNtfyReceiver>[0] = 'ok'): Promise<NtfyReceiver> {
  const r = await startNtfyReceiver(mode);
  receivers.push(r);
  return r;
}

function waitForPublished(r: NtfyReceiver, what: string, pred: (p: Published) => boolean, timeoutMs = 10_000): Promise<Published> {
  return waitFor(`ntfy to receive ${what}`, () => r.requests.find(pred) ?? null, timeoutMs, 25);
}

const titled = (title: string) => (p: Published) => decodeTitle(p.headers.title) === `${HOST}: ${title}`;

/** `since_event_ms` of each delivery the daemon logged for `channel`. */
function deliveryLatencies(log: string, channel: string): number[] {
  return [...log.matchAll(new RegExp(`alert delivered .*channel=${channel} .*since_event_ms=(\\d+)`, 'g'))].map((m) => Number(m[1]));
}

describe('every alert kind reaches a real ntfy server and the command hook, once', () => {
  let sb: Sandbox;
  let ntfy: NtfyReceiver;
  let hookFile: string;
  let sections: ConfigSections;
  const log: string[] = [];

  test('setup: a daemon with ntfy (token from a file) and a command hook', async () => {
    ntfy = await receiver();
    sb = makeSandbox();
    hookFile = join(sb.dir, 'hook.jsonl');
    const tokenFile = join(sb.dir, 'ntfy-token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    sections = {
      worker: { command: [process.execPath, ALERT_WORKER], max_attempts: 1, startup_window: '1s' },
      breaker: { failures: 2, window: '1m', cooldown: '1h' },
      alerts: {
        ntfy_url: ntfy.url('warden-test'),
        ntfy_token_file: tokenFile,
        command: [process.execPath, ALERT_HOOK, hookFile],
        repeat_after: '1h',
        retry_base: '200ms',
      },
    };
    writeConfig(sb, sections);
  });

  test('pause and resume (manual), with their reason', async () => {
    const d = await startDaemon(sb);
    await cliOk(sb.configPath, ['pause']);
    const p = await waitForPublished(ntfy, 'paused: manual', titled('paused: manual'));
    assert.equal(p.method, 'POST');
    assert.equal(p.path, '/warden-test');
    assert.equal(p.headers.authorization, `Bearer ${TOKEN}`);
    assert.match(String(p.headers['content-type']), /^text\/plain/);
    assert.equal(p.headers.priority, '2');
    assert.equal(p.headers.tags, 'pause_button,paused');
    assert.match(p.body, /warden resume/);
    await cliOk(sb.configPath, ['resume']);
    const r = await waitForPublished(ntfy, 'resumed: manual', titled('resumed: manual pause ended'));
    assert.equal(r.headers.priority, '3');
    assert.equal(r.headers.tags, 'arrow_forward,resumed');
    await d.stop();
    log.push(d.log());
  });

  test('task dead, then the breaker opening, then closing by resume', async () => {
    const d = await startDaemon(sb);
    await addTask(sb, 'doomed', 'exit=1');
    const dead = await waitForPublished(ntfy, 'task doomed is dead', titled('task doomed is dead'));
    assert.equal(dead.headers.priority, '4');
    assert.equal(dead.headers.tags, 'skull,task_dead');
    assert.match(dead.body, /Gave up after 1 attempts\. Last: startup_error/);
    await addTask(sb, 'doomed2', 'exit=1');
    const open = await waitForPublished(ntfy, 'breaker OPEN', titled('breaker OPEN, spawning paused'));
    assert.equal(open.headers.priority, '4');
    assert.equal(open.headers.tags, 'rotating_light,breaker_opened');
    assert.match(open.body, /2 failures in 60s, last: doomed2: startup_error/);
    await waitForPublished(ntfy, 'task doomed2 is dead', titled('task doomed2 is dead'));
    await cliOk(sb.configPath, ['resume']);
    const closed = await waitForPublished(ntfy, 'breaker closed', titled('breaker closed, spawning resumed'));
    assert.equal(closed.headers.tags, 'white_check_mark,breaker_closed');
    assert.match(closed.body, /Closed by `warden resume`/);
    await d.stop();
    log.push(d.log());
  });

  test('task blocked, with the reason the worker wrote', async () => {
    const d = await startDaemon(sb);
    await addTask(sb, 'stuck', 'blocked=1 reason: the tests need a database password');
    const b = await waitForPublished(ntfy, 'task stuck is blocked', titled('task stuck is blocked'));
    assert.equal(b.headers.tags, 'construction,task_blocked');
    assert.match(b.body, /the tests need a database password/);
    await d.stop();
    log.push(d.log());
  });

  test('config reload failed: alerted once for two SIGHUPs with the same broken file', async () => {
    const d = await startDaemon(sb);
    const good = readFileSync(sb.configPath, 'utf8');
    writeFileSync(sb.configPath, good.replace(/max_concurrent_workers = 1/, 'max_concurrent_workers = 0'));
    process.kill(d.pid, 'SIGHUP');
    const f = await waitForPublished(ntfy, 'config reload failed', titled('config reload failed, old config kept'));
    assert.match(f.body, /supervisor\.max_concurrent_workers: expected an integer between 1 and 64/);
    assert.equal(f.headers.tags, 'gear,config_reload_failed');
    process.kill(d.pid, 'SIGHUP');
    await waitFor('the second reload failure to be logged as a repeat', () => /alert not sent again.*config_reload_failed/.test(d.log()));
    writeFileSync(sb.configPath, good);
    await d.stop();
    log.push(d.log());
  });

  test('pressure pause and its end, by reloading thresholds', async () => {
    const d = await startDaemon(sb);
    // the most headroom that still fits this host (MemTotal minus the system's 128M minus the 64M
    // worker): more than MemAvailable, so a pause, but one that could lift (a config that can never
    // fit, such as "1000G", is the pause that cannot lift, with its own alert: small-pi.test.ts)
    const headroom = (readMemTotal() ?? 0) - MIN_SYSTEM_MEMORY - 64 * 1024 ** 2;
    writeConfig(sb, { ...sections, admission: { min_available_memory: String(headroom) } });
    process.kill(d.pid, 'SIGHUP');
    const p = await waitForPublished(ntfy, 'paused: pressure', titled('paused: pressure'));
    assert.equal(p.headers.priority, '4');
    assert.match(p.body, /MemAvailable/);
    writeConfig(sb, sections);
    process.kill(d.pid, 'SIGHUP');
    await waitForPublished(ntfy, 'resumed: pressure', titled('resumed: pressure pause ended'));
    await d.stop();
    log.push(d.log());
  });

  test('unclean restart: alerted after a kill -9, and not again for a second one within repeat_after', async () => {
    const d1 = await startDaemon(sb);
    await d1.kill9();
    const d2 = await startDaemon(sb);
    const u = await waitForPublished(ntfy, 'unclean restart', titled('restarted after an unclean stop'));
    assert.equal(u.headers.tags, 'boom,unclean_restart');
    await waitFor('both deliveries logged', () => (d2.log().match(/alert delivered alert=unclean_restart/g) ?? []).length === 2);
    await d2.kill9();
    const d3 = await startDaemon(sb);
    await waitFor('the repeat to be logged', () => /alert not sent again.*unclean_restart/.test(d3.log()));
    await d3.stop();
    log.push(d2.log(), d3.log());
  });

  test('each alert arrived exactly once, at ntfy and at the command hook', async () => {
    await sleep(300); // any stray repeat would have arrived by now
    const titles = ntfy.requests.map((p) => decodeTitle(p.headers.title).replace(`${HOST}: `, ''));
    const expected = [
      'paused: manual',
      'resumed: manual pause ended',
      'task doomed is dead',
      'breaker OPEN, spawning paused',
      'task doomed2 is dead',
      'breaker closed, spawning resumed',
      'task stuck is blocked',
      'config reload failed, old config kept',
      'paused: pressure',
      'resumed: pressure pause ended',
      'restarted after an unclean stop',
    ];
    // alerts raised by one event (breaker open + task dead) are delivered concurrently: any order
    assert.deepEqual([...titles].sort(), [...expected].sort());
    assert.ok(
      ntfy.requests.every((p) => p.method === 'POST' && p.path === '/warden-test' && p.headers.authorization === `Bearer ${TOKEN}`),
    );
    const hook = readFileSync(hookFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; title: string; key: string; host: string; priority: number; atIso: string });
    assert.deepEqual(
      hook.map((a) => a.title.replace(`${HOST}: `, '')).sort(),
      [...expected].sort(),
      'the command hook got the same alerts, as JSON on stdin',
    );
    assert.deepEqual(
      hook.map((a) => a.kind).sort(),
      [
        'paused',
        'resumed',
        'task_dead',
        'breaker_opened',
        'task_dead',
        'breaker_closed',
        'task_blocked',
        'config_reload_failed',
        'paused',
        'resumed',
        'unclean_restart',
      ].sort(),
    );
    assert.ok(hook.every((a) => a.host === HOST && !Number.isNaN(Date.parse(a.atIso))));
    const all = log.join('\n');
    assert.ok(!all.includes(TOKEN), 'the ntfy token never appears in the log');
    const ms = deliveryLatencies(all, 'ntfy').sort((a, b) => a - b);
    assert.equal(ms.length, expected.length);
    console.log(`event -> ntfy receiver: median ${ms[Math.floor(ms.length / 2)]} ms, max ${ms[ms.length - 1]} ms over ${ms.length} alerts`);
  });
});

test('repeat_after for real: the same key within 1.5 s is suppressed, after it is sent again', async () => {
  const ntfy = await receiver();
  const sb = makeSandbox({ alerts: { ntfy_url: ntfy.url('t'), repeat_after: '1500ms' } });
  const d = await startDaemon(sb);
  const good = readFileSync(sb.configPath, 'utf8');
  writeFileSync(sb.configPath, good + '\n[bogus]\n');
  const reloadFailures = () => ntfy.requests.filter(titled('config reload failed, old config kept')).length;
  process.kill(d.pid, 'SIGHUP');
  await waitFor('the first alert', () => reloadFailures() === 1);
  const first = Date.now();
  process.kill(d.pid, 'SIGHUP');
  await waitFor('the repeat to be suppressed', () => /alert not sent again/.test(d.log()));
  assert.equal(reloadFailures(), 1);
  await sleep(Math.max(0, first + 1600 - Date.now()));
  process.kill(d.pid, 'SIGHUP');
  await waitFor('the alert again after repeat_after', () => reloadFailures() === 2);
  await d.stop();
});

test('the digest job runs on its cron schedule (node-cron) and reports what happened since the last one', async () => {
  const ntfy = await receiver();
  const sb = makeSandbox({ alerts: { ntfy_url: ntfy.url('t'), digest: '*/2 * * * * *' } });
  const d = await startDaemon(sb);
  assert.match(d.log(), /job scheduled job=digest schedule="\*\/2 \* \* \* \* \*" next=\S+/);
  await addTask(sb, 'one', 'sleep=1.2 exit=0');
  const digests = () => ntfy.requests.filter(titled('daily digest'));
  const p = await waitFor('a digest that reports the success', () => digests().find((x) => /1 succeeded/.test(x.body)) ?? null, 15_000, 50);
  assert.equal(p.headers.priority, '2');
  assert.equal(p.headers.tags, 'bar_chart,digest');
  assert.match(
    p.body,
    /^Last \d+(ms|s): \d spawn\(s\), 1 succeeded, 0 dead\.\nNow: 0\/1 workers, 0 queued\. Breaker closed\.\nTasks: succeeded 1\.$/,
  );
  const spawns = digests().reduce((n, x) => n + Number(/(\d+) spawn/.exec(x.body)![1]), 0);
  assert.equal(spawns, 1, 'each spawn is in exactly one digest period');
  await d.stop();
});

describe('a receiver that fails never holds up spawning; the alert is retried, then dropped', () => {
  const INTERVAL_MS = 1000;
  // the scheduling slack a gap or a retry may take beyond its due time: 400 ms on an idle host,
  // more on a loaded or slow one (a hung alert would add its 500 ms timeout per attempt, 1.5 s)
  const SLACK_MS = 400 * measureSlowdown();
  for (const mode of ['error500', 'hang', 'down'] as const) {
    test(`receiver ${mode === 'down' ? 'down (connection refused)' : mode === 'hang' ? 'accepting but never answering' : 'answering 500'}`, async () => {
      const ntfy = await receiver(mode === 'down' ? 'ok' : mode);
      const url = ntfy.url('t');
      if (mode === 'down') await ntfy.close();
      const sb = makeSandbox({
        supervisor: { min_spawn_interval: `${INTERVAL_MS}ms`, poll_interval: '200ms' },
        worker: { command: [process.execPath, ALERT_WORKER], max_attempts: 1, startup_window: '0s' },
        alerts: { ntfy_url: url, retry_attempts: 3, retry_base: '300ms', retry_max: '1s', timeout: '500ms' },
      });
      const TASKS = 4;
      for (let i = 1; i <= TASKS; i++) await addTask(sb, `fail${i}`, `exit=1 count=${sb.countFile}`);
      const d = await startDaemon(sb);
      await waitForStarts(sb.countFile, TASKS, 15_000);
      // when the supervisor claimed each task (the rate limiter's decision), from the state
      const claimed = await waitFor('every attempt recorded', async () => {
        const list = (await tasks(sb)).filter((t) => t.history.length === 1);
        return list.length === TASKS
          ? list.map((t) => (t.history[0] as unknown as { startedAt: number }).startedAt).sort((a, b) => a - b)
          : null;
      });
      const gaps = claimed.slice(1).map((at, i) => at - claimed[i]!);
      console.log(`${mode}: spawn gaps ${gaps.join(', ')} ms (min_spawn_interval ${INTERVAL_MS} ms)`);
      for (const g of gaps)
        assert.ok(
          g >= INTERVAL_MS && g < INTERVAL_MS + SLACK_MS,
          `spawns stay on schedule while alerts fail: gaps ${gaps.join(', ')} ms\n${d.log()}`,
        );
      await waitFor(`all ${TASKS} alerts dropped`, () => (d.log().match(/alert dropped/g) ?? []).length === TASKS, 15_000);
      const dropped = d
        .log()
        .split('\n')
        .filter((l) => l.includes('alert dropped'));
      for (const l of dropped) assert.match(l, /gave up after 3 attempt\(s\)/);
      // the daemon's side: two retries, each after its failure was logged with the cause
      const cause = { error500: /HTTP 500/, hang: /timed out/, down: /ECONNREFUSED/ }[mode];
      const retries = d
        .log()
        .split('\n')
        .filter((l) => l.includes('alert delivery failed; retrying'));
      assert.equal(retries.length, TASKS * 2, d.log());
      for (const l of retries) assert.match(l, cause);
      if (mode === 'error500') {
        // the receiver's side: every attempt arrived, after 300 ms and then 600 ms of backoff
        for (let i = 1; i <= TASKS; i++) {
          const tries = ntfy.requests.filter(titled(`task fail${i} is dead`));
          assert.equal(tries.length, 3, `fail${i}: three attempts reached the receiver`);
          const waits = tries.slice(1).map((t, j) => t.at - tries[j]!.at);
          // (the receiver stamps arrival; the daemon starts its timer when the answer comes back)
          assert.ok(waits[0]! >= 300 - 100 && waits[0]! < 300 + SLACK_MS, `first retry after ${waits[0]} ms`);
          assert.ok(waits[1]! >= 600 - 100 && waits[1]! < 600 + SLACK_MS, `second retry after ${waits[1]} ms`);
        }
      }
      if (mode === 'hang') assert.ok(ntfy.requests.length >= TASKS, 'the hanging receiver was reached');
      assert.equal(countLines(sb.countFile).length, TASKS);
      assert.equal((await d.stop()).code, 0, 'and the daemon still stops cleanly');
    });
  }
});

describe('warden alert test', () => {
  test('sends one test alert per channel and reports each', async () => {
    const ntfy = await receiver();
    const sb = makeSandbox();
    const hookFile = join(sb.dir, 'hook.jsonl');
    writeConfig(sb, { alerts: { ntfy_url: ntfy.url('phone'), command: [process.execPath, ALERT_HOOK, hookFile] } });
    const r = await cliOk(sb.configPath, ['alert', 'test']);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2, r.stdout);
    assert.match(lines[0]!, /^ntfy +ok +HTTP 200 \(\d+ ms\)$/);
    assert.match(lines[1]!, /^command +ok +exit 0 \(\d+ ms\)$/);
    assert.equal(ntfy.requests.length, 1);
    assert.equal(decodeTitle(ntfy.requests[0]!.headers.title), `${HOST}: test alert`);
    assert.equal(JSON.parse(readFileSync(hookFile, 'utf8')).kind, 'test');
  });

  test('a failing channel is reported and makes the exit code 1; the others still go out', async () => {
    const ntfy = await receiver('error500');
    const sb = makeSandbox();
    writeConfig(sb, {
      alerts: {
        ntfy_url: ntfy.url('phone'),
        notify_send: true,
        session_bus: `unix:path=${join(sb.dir, 'no-such-bus')}`,
        command: [process.execPath, ALERT_HOOK, join(sb.dir, 'h'), 'fail'],
      },
    });
    const r = await cli(sb.configPath, ['alert', 'test']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^ntfy +FAILED +POST http:\/\/127\.0\.0\.1:\d+\/phone: HTTP 500/m);
    assert.match(r.stdout, /^notify-send +FAILED +no D-Bus session bus is reachable/m);
    assert.match(r.stdout, /^command +FAILED +.* exited 1/m);
    assert.equal(ntfy.requests.length, 1, 'a test alert is sent once, not retried');
  });

  test('with no channel configured it says so and exits 1', async () => {
    const sb = makeSandbox();
    const r = await cli(sb.configPath, ['alert', 'test']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /no alert channels configured/);
    assert.ok(!existsSync(join(sb.stateDir, 'alerts-sent.json')));
  });
});
