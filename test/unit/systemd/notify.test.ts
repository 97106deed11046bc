// sd_notify through the systemd-notify binary; here a stand-in script records what it was sent.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createNotifier, watchdogIntervalFromEnv } from '../../../src/systemd/notify.ts';
import { tempRoot } from '../../helpers/tmp.ts';
import { waitFor } from '../../helpers/wait.ts';

const tmp = tempRoot('notify-test');

/** A stand-in systemd-notify that appends "<NOTIFY_SOCKET> <args>" to a file and exits `code`. */
function fakeNotify(code = 0): { binary: string; calls: () => string[] } {
  const dir = tmp.fresh('bin');
  const binary = join(dir, 'systemd-notify');
  const log = join(dir, 'calls');
  writeFileSync(binary, `#!/bin/sh\necho "$NOTIFY_SOCKET $*" >> ${log}\nexit ${code}\n`);
  chmodSync(binary, 0o755);
  return { binary, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []) };
}

describe('watchdogIntervalFromEnv', () => {
  test('half of WATCHDOG_USEC, in milliseconds', () => {
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '30000000' }), 15_000);
  });
  test('never below 100 ms', () => {
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '1000' }), 100);
  });
  test('no, zero or garbage WATCHDOG_USEC means no watchdog', () => {
    assert.equal(watchdogIntervalFromEnv({}), null);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '0' }), null);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: 'soon' }), null);
  });
  test('a watchdog meant for another PID is not ours', () => {
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid + 1) }), null);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) }), 15_000);
  });
});

describe('createNotifier', () => {
  test('without NOTIFY_SOCKET it is disabled and starts no process', async () => {
    const fake = fakeNotify();
    const n = createNotifier({ WATCHDOG_USEC: '30000000' }, fake.binary);
    assert.equal(n.enabled, false);
    assert.equal(n.watchdogIntervalMs, null);
    n.ready('up');
    n.watchdog();
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(fake.calls(), []);
  });

  test('messages go out in order, to the given socket; an unchanged status is not sent again', async () => {
    const fake = fakeNotify();
    const n = createNotifier({ NOTIFY_SOCKET: '/run/test.sock' }, fake.binary);
    assert.equal(n.enabled, true);
    n.reloading();
    n.ready('up');
    n.status('1 running');
    n.status('1 running');
    n.watchdog();
    n.stopping('bye');
    n.stopping('bye', 40_000);
    const calls = await waitFor('six notifications', () => (fake.calls().length >= 6 ? fake.calls() : null), 10_000, 20);
    assert.deepEqual(calls, [
      '/run/test.sock RELOADING=1',
      '/run/test.sock --ready STATUS=up',
      '/run/test.sock STATUS=1 running',
      '/run/test.sock WATCHDOG=1',
      '/run/test.sock STOPPING=1 STATUS=bye',
      '/run/test.sock STOPPING=1 STATUS=bye EXTEND_TIMEOUT_USEC=40000000',
    ]);
  });

  test('a failing binary is reported once, not once per message', async () => {
    const fake = fakeNotify(1);
    const errors: string[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: '/run/test.sock' }, fake.binary, (m) => errors.push(m));
    n.watchdog();
    n.watchdog();
    await waitFor('both attempts', () => fake.calls().length >= 2, 10_000, 20);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /sd_notify via .*systemd-notify failed: exit 1/);
  });
});
