// `warden fleet status [--json]`: the fleet from etcd, on any node, whether or not its daemon runs
// (src/fleet/status.ts reads it with the config's [fleet]). The text is a pure function of the
// report and the time (renderFleetStatus). No [fleet]: one line, exit 78; etcd does not answer:
// one line, exit 69 (EX_UNAVAILABLE). The etcd client is loaded only here, on demand.
import type { LoadedConfig } from '../config/load.js';
import { EX_CONFIG } from '../config/load.js';
import type { FleetStatus } from '../fleet/status.js';
import { EX_UNAVAILABLE } from './exit-codes.js';
import { when } from './when.js';

export async function fleetStatusCommand(loaded: LoadedConfig, json: boolean): Promise<number> {
  const fleet = loaded.config.fleet;
  if (!fleet) {
    process.stderr.write(`warden: ${loaded.path} has no [fleet] table: this warden is a single node (docs/fleet.md)\n`);
    return EX_CONFIG;
  }
  const { fleetStatusFrom, readFleet } = await import('../fleet/status.js');
  let s: FleetStatus;
  try {
    s = fleetStatusFrom(await readFleet(fleet));
  } catch (err) {
    // grpc's message ends with an empty "Resolution note:" when the name resolved; it says nothing
    const why = (err as Error).message
      .trim()
      .replace(/\s*\n\s*/g, ' ')
      .replace(/\s*Resolution note:\s*$/, '');
    process.stderr.write(`warden: cannot read the fleet from etcd at ${fleet.endpoints.join(', ')}: ${why}\n`);
    return EX_UNAVAILABLE;
  }
  process.stdout.write(json ? JSON.stringify(s, null, 2) + '\n' : renderFleetStatus(s, Date.now()).join('\n') + '\n');
  return 0;
}

export function renderFleetStatus(s: FleetStatus, now: number): string[] {
  const alive = s.nodes.filter((n) => n.alive).length;
  const lines = [
    `fleet ${s.prefix} on ${s.endpoints.join(', ')} (revision ${s.revision}): ${alive} node${alive === 1 ? '' : 's'} alive, ${s.claims.length} claim${s.claims.length === 1 ? '' : 's'}`,
  ];
  lines.push('nodes:');
  if (s.nodes.length === 0) lines.push('  (none: no node holds a lease)');
  for (const n of s.nodes) {
    if (!n.alive) {
      lines.push(`  ${n.node}  NOT ALIVE (no lease)${n.lastOutcomeAt !== null ? `; last outcome ${when(n.lastOutcomeAt, now)}` : ''}`);
      continue;
    }
    const ttl = n.leaseTtlS === null ? '' : n.leaseTtlS < 0 ? ', expired' : `, ${n.leaseTtlS}s left`;
    const since = n.since !== null ? `, since ${when(n.since, now)}` : '';
    const paused = n.paused.length ? `paused: ${n.paused.join(', ')}` : 'spawning';
    lines.push(
      `  ${n.node}  alive  warden ${n.version ?? '?'} pid ${n.pid ?? '?'}  lease ${n.lease ?? '?'}${ttl}${since}  ${paused}${s.poller?.node === n.node ? '  [poller]' : ''}`,
    );
    for (const w of n.workers) lines.push(`    worker: ${w.task} (attempt ${w.attempt}, token ${w.token})`);
  }
  lines.push(`claims:   ${s.claims.length ? s.claims.map((c) => `${c.task}@${c.node}`).join(' ') : 'none'}`);
  const states = Object.entries(s.tasks)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${v} ${k}`);
  lines.push(`outcomes: ${states.length ? states.join(', ') : 'none published yet'}`);
  if (s.poller) {
    const since = s.poller.since !== null ? ` since ${when(s.poller.since, now)}` : '';
    lines.push(`poller:   ${s.poller.node}${since}`);
  } else lines.push('poller:   none elected (no [source.github], or no node holds the poller key now)');
  if (s.lastPoll) {
    const what = s.lastPoll.ok
      ? `${s.lastPoll.issues} labelled issue${s.lastPoll.issues === 1 ? '' : 's'}`
      : `failed (${s.lastPoll.cause})`;
    lines.push(`github:   last published poll by ${s.lastPoll.node} ${when(s.lastPoll.at, now)}: ${what}`);
  }
  // the fleet-wide breaker, pauses and budget, and any key this version does not know: shown as stored
  if (s.shared.length) {
    lines.push('shared:');
    for (const k of s.shared) lines.push(`  ${k.key} = ${k.value}`);
  }
  return lines;
}
