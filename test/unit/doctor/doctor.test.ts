// warden doctor's disk-space judgment, then the real CLI on this host, where systemd is not PID 1:
// a valid config has no fail, a broken config or state file fails with exit 1.
import assert from 'node:assert/strict';

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, test } from 'node:test';
import { judgeDisk } from '../../../src/doctor/doctor.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { GiB, MiB } from '../../helpers/units.ts';
import { runCliSync } from '../../helpers/cli.ts';
import { FAKE_WORKER } from '../../helpers/paths.ts';

const tmpRoot = tempRoot('doctor-test').path;

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
