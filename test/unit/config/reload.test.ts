// The keys a reload cannot apply: reloadRefusals names each one that differs, and only those.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../../src/config/load.ts';
import { FIXED_ON_RELOAD, reloadRefusals } from '../../../src/config/reload.ts';

const BASE = '[supervisor]\nstate_dir = "/var/lib/warden"\n';
const load = (extra = '') => parseConfigText(BASE + extra, 'x.toml');

test('an unchanged config, and changes to keys a reload applies, are not refused', () => {
  assert.deepEqual(reloadRefusals(load(), load()), []);
  const next = load(
    'max_concurrent_workers = 4\n[worker]\nmemory_max = "1G"\n[admission]\nwatch_interval = "0s"\n[alerts]\nnotify_send = true\n',
  );
  assert.deepEqual(reloadRefusals(load(), next), []);
  // a list is compared by its items, not as the same object
  const lan = '[worker]\ndeny_networks = ["192.168.1.0/24"]\n';
  assert.deepEqual(reloadRefusals(load(lan), load(lan)), []);
});

test('each fixed key that changes is named, in the declared order', () => {
  const SOCKET = '[control]\nsocket = "/run/warden.sock"\n';
  const cases: [string[], string, string][] = [
    [['supervisor.state_dir'], BASE + SOCKET, '[supervisor]\nstate_dir = "/srv/warden"\n' + SOCKET],
    // the default socket lives in state_dir, so it moves too
    [['supervisor.state_dir', 'control.socket'], BASE, '[supervisor]\nstate_dir = "/srv/warden"\n'],
    [['control.socket'], BASE, BASE + SOCKET],
    [['control.group'], BASE, BASE + '[control]\ngroup = "adm"\n'],
    [['control.port and control.address'], BASE, BASE + '[control]\nport = 9100\n'],
    [['control.port and control.address'], BASE + '[control]\nport = 9100\n', BASE + '[control]\nport = 9100\naddress = "::1"\n'],
    [['executor.kind'], BASE, BASE + '[executor]\nkind = "direct"\n'],
    [['worker.user'], BASE, BASE + '[worker]\nuser = "pi"\n'],
    [['executor.sandbox'], BASE, BASE + '[executor]\nsandbox = true\n'],
    [['worker.deny_networks'], BASE, BASE + '[worker]\ndeny_networks = ["10.0.0.0/8"]\n'],
  ];
  for (const [expected, cur, next] of cases) {
    assert.deepEqual(reloadRefusals(parseConfigText(cur, 'cur.toml'), parseConfigText(next, 'next.toml')), expected, next);
  }
  const all = load('[control]\nsocket = "/run/w.sock"\ngroup = "adm"\nport = 1\n[executor]\nkind = "systemd"\n[worker]\nuser = "pi"\n');
  assert.deepEqual(reloadRefusals(load(), all), [
    'control.socket',
    'control.group',
    'control.port and control.address',
    'executor.kind',
    'worker.user',
  ]);
});

test('the declared list is the one the supervisor refused by hand before, plus the sandbox settings the executor is made with', () => {
  assert.deepEqual(
    FIXED_ON_RELOAD.map((paths) => paths.join(' and ')),
    [
      'supervisor.state_dir',
      'control.socket',
      'control.group',
      'control.port and control.address',
      'executor.kind',
      'executor.sandbox',
      'worker.file_size_max',
      'worker.deny_networks',
      'worker.env_file',
      'worker.writable_paths',
      'worker.user',
      // [fleet]: the lease, the claims' keys and the node's name are in etcd under these
      'fleet.endpoints',
      'fleet.node',
      'fleet.prefix',
      'fleet.lease_ttl',
    ],
  );
  // @ts-expect-error a key path that Config lacks does not compile
  const typo: (typeof FIXED_ON_RELOAD)[number][number] = 'worker.usr';
  assert.equal(typo, 'worker.usr');
});
