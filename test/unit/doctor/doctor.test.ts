// warden doctor's judgments (the probe's read-back, disk space, the report) and the executor
// refusal without a memory controller, as pure functions; then the real CLI on this host, where
// systemd is not PID 1: a valid config has no fail, a broken config or state file fails with exit 1.
import assert from 'node:assert/strict';

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, parseConfigText } from '../../../src/config/load.ts';
import { formatReport, report } from '../../../src/doctor/check.ts';
import { judgeDisk } from '../../../src/doctor/doctor.ts';
import { parseProbeOutput, PROBE_MEMORY_MAX } from '../../../src/doctor/probe.ts';
import { planExecutor } from '../../../src/executors/choose.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { GiB, MiB } from '../../helpers/units.ts';
import { runCliSync } from '../../helpers/cli.ts';
import { FAKE_WORKER } from '../../helpers/paths.ts';

const tmpRoot = tempRoot('doctor-test').path;

describe('the limit probe read-back', () => {
  test('cgroup v1: memory.limit_in_bytes equal to the requested MemoryMax passes', () => {
    const r = parseProbeOutput(`v1 ${PROBE_MEMORY_MAX} /warden.slice/warden-workers.slice/x.scope\ndone\n`, PROBE_MEMORY_MAX);
    assert.deepEqual(r, {
      ok: true,
      limit: PROBE_MEMORY_MAX,
      file: 'memory.limit_in_bytes',
      cgroup: '/warden.slice/warden-workers.slice/x.scope',
    });
  });
  test('cgroup v2: memory.max passes', () => {
    assert.equal(parseProbeOutput(`v2 ${PROBE_MEMORY_MAX} /x.scope\ndone\n`, PROBE_MEMORY_MAX).ok, true);
  });
  test('no limit file at all: the memory controller is not in use', () => {
    const r = parseProbeOutput('done\n', PROBE_MEMORY_MAX);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.why : '', /memory controller is not in use, so MemoryMax does nothing/);
  });
  test('a limit other than the one asked for fails and says both', () => {
    const r = parseProbeOutput('v2 max /x.scope\ndone\n', PROBE_MEMORY_MAX);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.why : '', /asked for MemoryMax=33554432 but the kernel holds memory\.max = max/);
  });
  test('a probe that did not finish fails', () => {
    assert.equal(parseProbeOutput('', PROBE_MEMORY_MAX).ok, false);
  });
});

describe('disk space', () => {
  test('without [worktree]: warn below 1G, fail below 256M', () => {
    assert.equal(judgeDisk('disk-state', '/var/lib/warden', 5 * GiB, null).status, 'pass');
    assert.equal(judgeDisk('disk-state', '/var/lib/warden', 900 * MiB, null).status, 'warn');
    assert.equal(judgeDisk('disk-state', '/var/lib/warden', 100 * MiB, null).status, 'fail');
  });
  test('with worktree.min_free_disk: fail below it (warden would pause), warn below twice it', () => {
    assert.equal(judgeDisk('disk-worktrees', '/w', 3 * GiB, 2 * GiB).status, 'warn');
    const f = judgeDisk('disk-worktrees', '/w', 1 * GiB, 2 * GiB);
    assert.equal(f.status, 'fail');
    assert.match(f.summary, /1G free at \/w, below 2G \(worktree\.min_free_disk: warden pauses\)/);
  });
});

test('the report: one line per check, the fix under each warn and fail, a count, not ok on any fail', () => {
  const r = report('1.2.3', [
    { id: 'config', status: 'pass', summary: 'ok' },
    { id: 'psi', status: 'warn', summary: 'PSI off', fix: 'add psi=1' },
    { id: 'limit-probe', status: 'fail', summary: 'no limit', fix: 'reboot' },
    { id: 'daemon', status: 'info', summary: 'not running' },
  ]);
  assert.equal(r.ok, false);
  assert.deepEqual(r.counts, { pass: 1, warn: 1, fail: 1, info: 1 });
  assert.equal(
    formatReport(r),
    [
      'warden doctor 1.2.3',
      'PASS  config       ok',
      'WARN  psi          PSI off',
      '                   fix: add psi=1',
      'FAIL  limit-probe  no limit',
      '                   fix: reboot',
      ' --   daemon       not running',
      '1 pass, 1 warn, 1 fail: not ready',
      '',
    ].join('\n'),
  );
});

describe('the systemd executor on cgroup v1 with swap on', () => {
  const cfg = parseConfigText('[supervisor]\nstate_dir = "/var/lib/warden"\n[executor]\nkind = "systemd"\n', 'c.toml');
  test('warns loudly that MemorySwapMax is not applied there, and runs', () => {
    const p = planExecutor(cfg, 'c.toml', { systemdPid1: true, memory: { enabled: true }, swapUncapped: true });
    assert.equal(p.kind, 'systemd');
    assert.match(p.warnings.join('\n'), /worker swap is NOT capped: on cgroup v1 systemd ignores MemorySwapMax=0/);
  });
  test('says nothing on cgroup v2 or without swap', () => {
    assert.deepEqual(planExecutor(cfg, 'c.toml', { systemdPid1: true, memory: { enabled: true }, swapUncapped: false }).warnings, []);
  });
});

describe('the systemd executor without a memory controller', () => {
  const off = { enabled: false as const, why: 'cgroup v2: "memory" is not in /sys/fs/cgroup/cgroup.controllers' };
  const cfg = (executor: string) =>
    parseConfigText(`[supervisor]\nstate_dir = "/var/lib/warden"\n[executor]\n${executor}\n`, '/etc/warden/config.toml');

  test('is refused with a config-class error (exit 78) that carries the fix', () => {
    assert.throws(
      () => planExecutor(cfg('kind = "systemd"'), '/etc/warden/config.toml', { systemdPid1: true, memory: off }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const msg = err.message;
        assert.match(
          msg,
          /^\/etc\/warden\/config\.toml: executor\.kind: refusing the systemd executor: worker memory_max would NOT be enforced/,
        );
        assert.match(msg, /sudo install\.sh --fix-cmdline/);
        assert.match(msg, /cgroup_enable=memory/);
        assert.match(msg, /allow_unenforced_limits = true/);
        return true;
      },
    );
  });
  test('"auto" on a systemd host is refused the same way (it would pick systemd)', () => {
    assert.throws(
      () => planExecutor(cfg('kind = "auto"'), 'c.toml', { systemdPid1: true, memory: off }),
      /refusing the systemd executor \(chosen by "auto"\)/,
    );
  });
  test('runs with allow_unenforced_limits = true, keeping the loud warning', () => {
    const p = planExecutor(cfg('kind = "systemd"\nallow_unenforced_limits = true'), 'c.toml', { systemdPid1: true, memory: off });
    assert.equal(p.kind, 'systemd');
    assert.equal(p.kind === 'systemd' && p.memoryEnforced, false);
    assert.match(p.warnings[0] ?? '', /worker memory_max is NOT enforced: .*allowed by \[executor\] allow_unenforced_limits = true/);
  });
  test('with the controller on there is nothing to warn about', () => {
    const p = planExecutor(cfg('kind = "systemd"'), 'c.toml', { systemdPid1: true, memory: { enabled: true } });
    assert.deepEqual(p, { kind: 'systemd', warnings: [], memoryEnforced: true });
  });
  test('the direct executor is not refused (it never claims to cap), and says so loudly', () => {
    const p = planExecutor(cfg('kind = "direct"'), 'c.toml', { systemdPid1: true, memory: off });
    assert.equal(p.kind, 'direct');
    assert.match(p.warnings[0] ?? '', /NOT enforced/);
  });
  test('allow_unenforced_limits must be a boolean', () => {
    assert.throws(() => cfg('allow_unenforced_limits = "yes"'), /executor\.allow_unenforced_limits: expected true or false/);
  });
});

describe('`warden doctor` on this host', () => {
  function doctor(config: string, ...args: string[]) {
    return runCliSync(['doctor', '--config', config, ...args], { timeoutMs: 60_000 });
  }
  function configFile(name: string, text: string): string {
    const dir = join(tmpRoot, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.toml'), text.replaceAll('DIR', dir));
    return join(dir, 'config.toml');
  }
  // a worker of 128M with no headroom fits any host, so memory-fit passes whatever this machine's memory
  const valid = `[supervisor]\nstate_dir = "DIR/state"\n[worker]\ncommand = ["${FAKE_WORKER}"]\nmemory_max = "128M"\n[admission]\nmin_available_memory = "0"\n[executor]\nkind = "direct"\n`;

  test('--json: a valid config, no daemon: every check has an id, a status and a summary, and no fail means exit 0', () => {
    const r = doctor(configFile('valid', valid), '--json');
    const rep = JSON.parse(r.stdout) as { ok: boolean; checks: { id: string; status: string; summary: string }[] };
    const fails = rep.checks.filter((c) => c.status === 'fail');
    // the one host-dependent fail: a machine whose kernel has the memory controller off
    const expectedFails = fails.filter((c) => c.id !== 'limit-probe' && c.id !== 'memory-cgroup');
    assert.deepEqual(expectedFails, []);
    assert.equal(r.code, rep.ok ? 0 : 1);
    const ids = rep.checks.map((c) => c.id);
    for (const id of [
      'config',
      'executor',
      'state',
      'memory-fit',
      'systemd',
      'limit-probe',
      'raspberry-pi',
      'memory-cgroup',
      'psi',
      'swap',
      'node',
      'worker-command',
      'git',
      'gh',
      'claude',
      'disk-state',
      'alerts',
      'daemon',
    ]) {
      assert.ok(ids.includes(id), `check ${id} is there`);
    }
    const byId = Object.fromEntries(rep.checks.map((c) => [c.id, c]));
    assert.equal(byId.executor?.status, 'warn', 'direct: no caps is a warning');
    assert.equal(byId.daemon?.status, 'info');
    assert.match(byId.config?.summary ?? '', /is valid \(sha256 [0-9a-f]{12}\)/);
  });

  test('an invalid config is a fail with its first problem, and exit 1', () => {
    const r = doctor(configFile('invalid', '[supervisor]\nstate_dir = "DIR/state"\nmax_concurent_workers = 2\n'));
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAIL {2}config +\S+config\.toml is not valid: \S+:3:1: supervisor\.max_concurent_workers: unknown key/m);
  });

  test('a corrupt state file is a fail, and exit 1', () => {
    const config = configFile('corrupt', valid);
    mkdirSync(join(tmpRoot, 'corrupt/state'), { recursive: true });
    writeFileSync(join(tmpRoot, 'corrupt/state/state.json'), '{"version": 1, "tasks": {');
    const r = doctor(config);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAIL {2}state +\S+state\.json: state file is corrupt/m);
  });

  test('alerts: none configured is a warning; --send-test sends one through each channel and reports it', () => {
    const plain = JSON.parse(doctor(configFile('noalerts', valid), '--json').stdout) as {
      checks: { id: string; status: string; summary: string }[];
    };
    assert.equal(plain.checks.find((c) => c.id === 'alerts')?.status, 'warn');
    const got = join(tmpRoot, 'alert-received.json');
    const config = configFile('alerts', `${valid}[alerts]\ncommand = ["/bin/sh", "-c", "cat > ${got}"]\n`);
    const listed = (
      JSON.parse(doctor(config, '--json').stdout) as { checks: { id: string; status: string; summary: string }[] }
    ).checks.find((c) => c.id === 'alerts');
    assert.equal(listed?.status, 'pass');
    assert.match(listed?.summary ?? '', /channels: command \(send one with --send-test\)/);
    const sent = (
      JSON.parse(doctor(config, '--json', '--send-test').stdout) as { checks: { id: string; status: string; summary: string }[] }
    ).checks.find((c) => c.id === 'alerts');
    assert.equal(sent?.status, 'pass', sent?.summary);
    assert.match(sent?.summary ?? '', /^test alert sent: command +ok/);
    assert.equal((JSON.parse(readFileSync(got, 'utf8')) as { kind: string }).kind, 'test');
  });

  test('a worker command that does not exist is a fail', () => {
    const r = doctor(configFile('noworker', valid.replace(FAKE_WORKER, '/nonexistent/worker')), '--json');
    const c = (JSON.parse(r.stdout) as { checks: { id: string; status: string; summary: string }[] }).checks.find(
      (x) => x.id === 'worker-command',
    );
    assert.equal(c?.status, 'fail');
    assert.match(c?.summary ?? '', /is not found: every spawn would fail/);
  });
});

describe('[executor] sandbox = true where the systemd executor is not used', () => {
  test('the direct executor says loudly that workers are NOT confined', () => {
    const cfg = parseConfigText('[supervisor]\nstate_dir = "/var/lib/warden"\n[executor]\nsandbox = true\n', 'c.toml');
    const p = planExecutor(cfg, 'c.toml', { systemdPid1: false, memory: { enabled: true } });
    assert.equal(p.kind, 'direct');
    assert.match(p.warnings.join('\n'), /sandbox = true needs the systemd executor: workers are NOT confined/);
  });
});
