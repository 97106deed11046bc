// What a fleet node's worker finds in its environment: its fencing token and the dead man's switch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../../src/config/load.ts';
import { fleetEnv } from '../../../src/fleet/env.ts';
import { MINIMAL_CONFIG } from '../../helpers/settings.ts';
import { task } from '../../helpers/tasks.ts';

const FLEET = `${MINIMAL_CONFIG}[fleet]\nendpoints = ["http://10.0.0.2:2379"]\nlease_ttl = "10s"\n`;

test('without [fleet] a worker gets nothing', () => {
  assert.deepEqual(fleetEnv(parseConfigText(MINIMAL_CONFIG, 'w.toml'), task('t1', { state: 'running' })), {});
});

test("with [fleet]: the claim's fencing token, the heartbeat under state_dir, and the check period in seconds", () => {
  const running = task('t1', { state: 'running' });
  const fenced = { ...running, current: { ...running.current!, fencingToken: '42' } };
  assert.deepEqual(fleetEnv(parseConfigText(FLEET, 'w.toml'), fenced), {
    WARDEN_FENCING_TOKEN: '42',
    WARDEN_FLEET_HEARTBEAT: '/var/lib/warden/fleet/heartbeat',
    WARDEN_FLEET_CHECK: '0.50', // lease_ttl / 20
  });
  assert.equal('WARDEN_FENCING_TOKEN' in fleetEnv(parseConfigText(FLEET, 'w.toml'), running), false, 'no claim, no token');
});
