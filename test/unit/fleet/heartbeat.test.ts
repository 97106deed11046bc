// The dead man's switch's heartbeat file and the clock both sides read (/proc/uptime), on real files.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { heartbeatPath, uptimeCs, writeHeartbeat } from '../../../src/fleet/heartbeat.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('heartbeat-test');

test('uptimeCs reads /proc/uptime in centiseconds, and refuses anything else', () => {
  const proc = tmp.fresh('proc');
  writeFileSync(join(proc, 'uptime'), '12345.67 40000.00\n');
  assert.equal(uptimeCs(proc), 1_234_567);
  writeFileSync(join(proc, 'uptime'), '12345 40000\n');
  assert.throws(() => uptimeCs(proc), /unexpected \/proc\/uptime: "12345"/);
  assert.ok(uptimeCs() > 0, 'the real /proc/uptime');
});

test('writeHeartbeat replaces the file whole, with a whole non-negative number, mode 0644, no temp file left', () => {
  const dir = tmp.fresh('state');
  const path = join(dir, 'heartbeat');
  writeHeartbeat(path, 1000.9);
  assert.equal(readFileSync(path, 'utf8'), '1000\n');
  writeHeartbeat(path, -5);
  assert.equal(readFileSync(path, 'utf8'), '0\n');
  assert.equal(statSync(path).mode & 0o777, 0o644);
  assert.deepEqual(readdirSync(dir), ['heartbeat']);
  assert.equal(heartbeatPath('/var/lib/warden'), '/var/lib/warden/fleet/heartbeat');
});
