// Which executor a config gets on a host, and the loud warnings and refusals about limits that
// would not hold (no memory controller, swap on cgroup v1, a sandbox without systemd).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, parseConfigText } from '../../../src/config/load.ts';
import { planExecutor } from '../../../src/executors/choose.ts';

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

describe('[executor] sandbox = true where the systemd executor is not used', () => {
  test('the direct executor says loudly that workers are NOT confined', () => {
    const cfg = parseConfigText('[supervisor]\nstate_dir = "/var/lib/warden"\n[executor]\nsandbox = true\n', 'c.toml');
    const p = planExecutor(cfg, 'c.toml', { systemdPid1: false, memory: { enabled: true } });
    assert.equal(p.kind, 'direct');
    assert.match(p.warnings.join('\n'), /sandbox = true needs the systemd executor: workers are NOT confined/);
  });
});
