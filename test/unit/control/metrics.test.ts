// The [control] and [alerts] config (loopback-only TCP, cron expressions checked at load, exit 78
// through the real CLI), and the /metrics text through a real Prometheus text parser.
import assert from 'node:assert/strict';

import { writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, test } from 'node:test';

import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { WardenEvent } from '../../../src/events/catalog.ts';
import { ConfigError, parseConfigText } from '../../../src/config/load.ts';
import { countEvent, emptyCounts, renderMetrics, type EventCounts } from '../../../src/control/metrics.ts';
import { FAILURE_KINDS } from '../../../src/policy/failure-kind.ts';
import { statusFixture } from '../../helpers/status.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { MINUTE } from '../../helpers/units.ts';
import { runCliSync, type CliResult } from '../../helpers/cli.ts';
import { MINIMAL_CONFIG as MINIMAL } from '../../helpers/settings.ts';

const tmp = tempRoot('control-test').path;
let n = 0;

/** `warden ARGS --config FILE` with `text` written to a new FILE. */
function runWithConfig(args: string[], text: string): CliResult {
  const file = join(tmp, `c${++n}.toml`);
  writeFileSync(file, text);
  return runCliSync([...args, '--config', file]);
}

function problems(text: string): string {
  try {
    parseConfigText(text, 'x.toml');
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
}

describe('[control] and [alerts] defaults', () => {
  const c = parseConfigText(MINIMAL, 'x.toml');
  test('the socket stays <state_dir>/warden.sock, with no group and no TCP port', () => {
    assert.deepEqual(c.control, { socket: '/var/lib/warden/warden.sock', group: null, port: null, address: '127.0.0.1' });
  });
  test('no alert channel; repeat_after 30m; 8 attempts from 5s doubling to 5m; 10s timeout; no digest', () => {
    assert.deepEqual(c.alerts, {
      ntfy_url: null,
      ntfy_token_file: null,
      notify_send: false,
      session_bus: null,
      command: null,
      repeat_after: 30 * MINUTE,
      retry_attempts: 8,
      retry_base: 5000,
      retry_max: 5 * MINUTE,
      timeout: 10_000,
      digest: null,
    });
  });
});

describe('config problems are caught at load, with the key', () => {
  const cases: [string, string, RegExp][] = [
    ['a non-loopback control address', '[control]\nport = 9090\naddress = "0.0.0.0"\n', /control\.address: expected a loopback address/],
    ['a LAN control address', '[control]\nport = 9090\naddress = "192.168.1.20"\n', /control\.address: expected a loopback address/],
    ['a port out of range', '[control]\nport = 70000\n', /control\.port: expected a port between 1 and 65535/],
    ['a group name with a space', '[control]\ngroup = "wheel users"\n', /control\.group: expected a group name/],
    [
      'an ntfy URL without a topic',
      '[alerts]\nntfy_url = "https://ntfy.sh/"\n',
      /alerts\.ntfy_url: expected the http\(s\) URL of an ntfy server plus topic/,
    ],
    [
      'an ntfy URL with credentials in it',
      '[alerts]\nntfy_url = "https://me:secret@ntfy.sh/topic"\n',
      /alerts\.ntfy_url: .*with no credentials in it \(use ntfy_token_file\)/,
    ],
    ['a token file without ntfy_url', '[alerts]\nntfy_token_file = "/etc/warden/token"\n', /alerts\.ntfy_token_file: set ntfy_url too/],
    [
      'a session bus without notify_send',
      '[alerts]\nsession_bus = "unix:path=/run/user/1000/bus"\n',
      /alerts\.session_bus: set notify_send = true too/,
    ],
    ['an empty hook command', '[alerts]\ncommand = []\n', /alerts\.command: expected at least the program to run/],
    [
      'an invalid digest cron expression',
      '[alerts]\ndigest = "0 25 * * *"\n',
      /alerts\.digest: expected a cron expression .*got "0 25 \* \* \*": hour: 25 is a invalid expression for hour/,
    ],
    ['a digest that is not cron at all', '[alerts]\ndigest = "daily"\n', /alerts\.digest: .*expected 5 or 6 fields but got 1/],
  ];
  for (const [name, extra, expect] of cases) test(name, () => assert.match(problems(MINIMAL + extra), expect));

  test('loopback addresses are accepted', () => {
    for (const a of ['127.0.0.1', '127.0.0.53', '::1', 'localhost'])
      assert.equal(problems(`${MINIMAL}[control]\nport = 9090\naddress = "${a}"\n`), '', a);
  });
});

describe('an invalid cron expression through the real CLI: exit 78, one line naming the key', () => {
  const text = MINIMAL + '\n[alerts]\ndigest = "0 8 * *"\n';
  for (const args of [['config', 'check'], ['run']]) {
    test(`warden ${args.join(' ')}`, () => {
      const r = runWithConfig(args, text.replace('/var/lib/warden', join(tmp, `state-${n}`)));
      assert.equal(r.code, 78, r.stderr);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /c\d+\.toml:5:1: alerts\.digest: expected a cron expression .* expected 5 or 6 fields but got 4$/);
    });
  }
  test('a non-loopback [control] address stops `warden run` with 78 too', () => {
    const r = runWithConfig(
      ['run'],
      MINIMAL.replace('/var/lib/warden', join(tmp, 'state-x')) + '[control]\nport = 9090\naddress = "0.0.0.0"\n',
    );
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /control\.address: expected a loopback address/);
  });
  test('an unreadable ntfy token file stops `warden run` with 78 and names the key, never the token', () => {
    const r = runWithConfig(
      ['run'],
      MINIMAL.replace('/var/lib/warden', join(tmp, 'state-y')) +
        '[alerts]\nntfy_url = "http://127.0.0.1:9/t"\nntfy_token_file = "/nonexistent/token"\n',
    );
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /alerts\.ntfy_token_file: cannot read \/nonexistent\/token: ENOENT/);
  });
});

type Family = { name: string; help: string; type: string; metrics: { value: string; labels?: Record<string, string> }[] };

function parse(text: string): Map<string, Family> {
  const families = parsePrometheusTextFormat(text) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

function value(m: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const f = m.get(name);
  assert.ok(f, `metric ${name} is present`);
  const s = f.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  assert.ok(s, `${name}${JSON.stringify(labels)} is present`);
  return Number(s.value);
}

describe('/metrics text, read back by a Prometheus text-format parser', () => {
  const counts: EventCounts = emptyCounts();
  const events: WardenEvent[] = [
    { type: 'task_retry', taskId: 'a', kind: 'startup_error', attempt: 1, delayMs: 1, detail: '' },
    { type: 'task_retry', taskId: 'a', kind: 'startup_error', attempt: 2, delayMs: 1, detail: '' },
    { type: 'task_dead', taskId: 'a', kind: 'oom_killed', attempts: 3, detail: '' },
    { type: 'task_succeeded', taskId: 'b', attempt: 1 },
    { type: 'task_blocked', taskId: 'c', reason: 'x' },
    { type: 'breaker_opened', reason: 'r', cooldownMs: 1 },
    { type: 'task_spawn', taskId: 'a', attempt: 1, probe: false },
  ];
  for (const e of events) countEvent(counts, e);
  const text = renderMetrics({
    status: statusFixture(),
    counts,
    ready: true,
    alerts: { channels: { ntfy: { sent: 3, failed: 2, dropped: 1 } }, suppressed: 4 },
  });
  const m = parse(text);

  test('every family has HELP and a gauge or counter TYPE, and every value is a number', () => {
    const helps = text.split('\n').filter((l) => l.startsWith('# HELP ')).length;
    assert.equal(m.size, helps, 'one parsed family per HELP line');
    for (const f of m.values()) {
      assert.ok(f.help.length > 0, `${f.name} has help`);
      assert.ok(['GAUGE', 'COUNTER'].includes(f.type), `${f.name} is typed (${f.type})`);
      assert.ok(/^warden_[a-z0-9_]+$/.test(f.name), f.name);
      if (f.type === 'COUNTER') assert.ok(f.name.endsWith('_total'), `${f.name}: counters end in _total`);
      for (const s of f.metrics) assert.ok(Number.isFinite(Number(s.value)), `${f.name} = ${s.value}`);
    }
  });
  test('workers, and tasks by every state', () => {
    assert.equal(value(m, 'warden_workers'), 1);
    assert.equal(value(m, 'warden_max_workers'), 2);
    assert.equal(value(m, 'warden_tasks', { state: 'succeeded' }), 4);
    assert.equal(m.get('warden_tasks')!.metrics.length, 7);
  });
  test('spawns, and failures by every kind', () => {
    assert.equal(value(m, 'warden_spawns_total'), 17);
    assert.equal(value(m, 'warden_attempt_failures_total', { kind: 'startup_error' }), 2);
    assert.equal(value(m, 'warden_attempt_failures_total', { kind: 'oom_killed' }), 1);
    assert.equal(m.get('warden_attempt_failures_total')!.metrics.length, FAILURE_KINDS.length);
    assert.equal(value(m, 'warden_tasks_dead_total'), 1);
    assert.equal(value(m, 'warden_tasks_succeeded_total'), 1);
    assert.equal(value(m, 'warden_tasks_blocked_total'), 1);
  });
  test('the breaker state, one-hot, and the pause reasons', () => {
    assert.deepEqual(
      ['closed', 'open', 'half_open'].map((s) => value(m, 'warden_breaker_state', { state: s })),
      [0, 1, 0],
    );
    assert.equal(value(m, 'warden_breaker_opened_total'), 1);
    assert.equal(value(m, 'warden_paused', { reason: 'breaker' }), 1);
    assert.equal(value(m, 'warden_paused', { reason: 'manual' }), 0);
  });
  test('the pressure sample', () => {
    assert.equal(value(m, 'warden_host_memory_available_bytes'), 4 * 2 ** 30);
    assert.equal(value(m, 'warden_host_load1'), 0.42);
    assert.equal(value(m, 'warden_host_memory_pressure_some_avg10'), 1.5);
    assert.equal(value(m, 'warden_host_psi_available'), 1);
  });
  test('alert deliveries by channel', () => {
    assert.equal(value(m, 'warden_alerts_dropped_total', { channel: 'ntfy' }), 1);
    assert.equal(value(m, 'warden_alerts_suppressed_total'), 4);
  });
  test('a label value with quotes and backslashes is escaped and reads back exactly', () => {
    const t = renderMetrics({
      status: statusFixture({ daemon: { pid: 1, version: 'v"1\\2\n', startedAt: 0, uptimeMs: 0 } }),
      counts,
      ready: false,
      alerts: null,
    });
    assert.equal(parse(t).get('warden_build_info')!.metrics[0]!.labels!.version, 'v"1\\2\n');
  });
  test('[fleet]: lease, claims (node and fleet), live nodes and the poller gauges; without [fleet] no warden_fleet_ family', () => {
    const fleet = { leaseOk: true, claimsHere: 2, claimsFleet: 5, nodes: 3, poller: true };
    const f = parse(renderMetrics({ status: statusFixture(), counts, ready: true, alerts: null, fleet }));
    assert.equal(value(f, 'warden_fleet_lease_ok'), 1);
    assert.equal(value(f, 'warden_fleet_claims', { scope: 'node' }), 2);
    assert.equal(value(f, 'warden_fleet_claims', { scope: 'fleet' }), 5);
    assert.equal(value(f, 'warden_fleet_nodes'), 3);
    assert.equal(value(f, 'warden_fleet_poller'), 1);
    const lost = parse(
      renderMetrics({
        status: statusFixture(),
        counts,
        ready: true,
        alerts: null,
        fleet: { leaseOk: false, claimsHere: 0, claimsFleet: null, nodes: null, poller: false },
      }),
    );
    assert.equal(value(lost, 'warden_fleet_lease_ok'), 0);
    assert.equal(value(lost, 'warden_fleet_poller'), 0);
    assert.equal(lost.get('warden_fleet_claims')!.metrics.length, 1, 'no fleet-wide count before the first read');
    assert.equal(lost.has('warden_fleet_nodes'), false);
    assert.equal(
      [...m.keys()].some((k) => k.startsWith('warden_fleet_')),
      false,
    );
  });
  test('without a host sample or alerts, those families are left out rather than faked', () => {
    const t = parse(renderMetrics({ status: statusFixture({ lastSample: null }), counts, ready: true, alerts: null }));
    assert.equal(t.has('warden_host_load1'), false);
    assert.equal(t.has('warden_alerts_sent_total'), false);
  });
});
