// `warden fleet status` as text (pure): one line per node with its lease and pauses, its workers
// under it, the claims, the outcomes, the poller and the shared keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderFleetStatus } from '../../../src/cli/fleet.ts';
import type { FleetStatus } from '../../../src/fleet/status.ts';

const NOW = new Date(2026, 10, 29, 12, 0, 0).getTime();

const status: FleetStatus = {
  prefix: '/warden/',
  endpoints: ['http://10.0.0.1:2379'],
  readAt: NOW,
  revision: '42',
  nodes: [
    {
      node: 'pi1',
      alive: true,
      lease: '7',
      leaseTtlS: 25,
      version: '1.2.0',
      pid: 11,
      since: NOW - 60_000,
      paused: [],
      workers: [{ task: 'gh-3', attempt: 1, token: '17' }],
      lastOutcomeAt: null,
    },
    {
      node: 'pi2',
      alive: true,
      lease: '8',
      leaseTtlS: 21,
      version: '1.2.0',
      pid: 22,
      since: NOW - 120_000,
      paused: ['pressure'],
      workers: [],
      lastOutcomeAt: null,
    },
    {
      node: 'pi3',
      alive: false,
      lease: null,
      leaseTtlS: null,
      version: null,
      pid: null,
      since: null,
      paused: [],
      workers: [],
      lastOutcomeAt: NOW - 600_000,
    },
  ],
  claims: [{ task: 'gh-3', node: 'pi1', attempt: 1, token: '17', at: NOW - 5000 }],
  poller: { node: 'pi2', since: NOW - 100_000, lease: '8' },
  lastPoll: { node: 'pi2', at: NOW - 30_000, ok: true, issues: 4, cause: null },
  tasks: { succeeded: 3, dead: 1 },
  shared: [{ key: 'breaker', value: '{"phase":"open"}' }],
};

test('the headline counts the live nodes and the claims', () => {
  assert.match(
    renderFleetStatus(status, NOW)[0]!,
    /^fleet \/warden\/ on http:\/\/10\.0\.0\.1:2379 \(revision 42\): 2 nodes alive, 1 claim$/,
  );
});

test('each node: alive with version, pid, lease and TTL left, pause reasons, the poller mark; its workers below it', () => {
  const lines = renderFleetStatus(status, NOW);
  const pi1 = lines.findIndex((l) => l.startsWith('  pi1'));
  assert.match(lines[pi1]!, /pi1 {2}alive {2}warden 1\.2\.0 pid 11 {2}lease 7, 25s left, since .* {2}spawning$/);
  assert.equal(lines[pi1 + 1], '    worker: gh-3 (attempt 1, token 17)');
  assert.match(
    lines.find((l) => l.startsWith('  pi2'))!,
    /paused: pressure {2}\[poller\]$/,
  );
  assert.match(
    lines.find((l) => l.startsWith('  pi3'))!,
    /NOT ALIVE \(no lease\); last outcome .*\(10m ago\)/,
  );
});

test('claims, outcomes, the poller with its last poll, and shared keys as stored', () => {
  const text = renderFleetStatus(status, NOW).join('\n');
  assert.match(text, /^claims: {3}gh-3@pi1$/m);
  assert.match(text, /^outcomes: 1 dead, 3 succeeded$/m);
  assert.match(text, /^poller: {3}pi2 since .*\(1m40s ago\)$/m);
  assert.match(text, /^github: {3}last published poll by pi2 .*: 4 labelled issues$/m);
  assert.match(text, /^ {2}breaker = \{"phase":"open"\}$/m);
});

test('no node, no poller: said so rather than left blank', () => {
  const text = renderFleetStatus({ ...status, nodes: [], claims: [], poller: null, lastPoll: null, tasks: {}, shared: [] }, NOW).join('\n');
  assert.match(text, /\(none: no node holds a lease\)/);
  assert.match(text, /^poller: {3}none elected/m);
  assert.match(text, /^outcomes: none published yet$/m);
  assert.doesNotMatch(text, /^shared:/m);
});
