// How the fleet's shared records in etcd fold into this node's local state, and how a tick's spawn
// orders are cut back to the claims etcd granted. Pure: no etcd and no clock here (src/fleet/node.ts
// reads etcd and calls these). Which store wins for which field is written down in docs/fleet.md.
import type { CoreEvent } from '../events/catalog.js';
import { breakerProbeAbandoned } from '../policy/breaker.js';
import { withChangedTasks } from '../policy/task-index.js';
import type { Task, WardenState } from '../state/types.js';
import type { FleetRecord } from './task-merge.js';

/** `<prefix>claims/<id>`: held by one node's lease. `rev` (its create revision) is the fencing token. */
export interface FleetClaim {
  node: string;
  lease: string;
  attempt: number;
  rev: string;
}

export interface FleetView {
  records: ReadonlyMap<string, FleetRecord>;
  claims: ReadonlyMap<string, FleetClaim>;
}

/**
 * Folds the fleet's claims into the local tasks (the records are folded before, by foldTasks in
 * task-merge.ts):
 * - a task another node has claimed waits here (retry_wait) until `recheckAt`, then is looked at
 *   again; this wait is local and never published;
 * `lost`: tasks running here whose claim is no longer this lease's: their workers must stop.
 */
export function applyFleetView(
  prev: WardenState,
  view: FleetView,
  self: { node: string; lease: string | null },
  now: number,
  recheckAt: number,
): { state: WardenState; lost: string[] } {
  const changed: Task[] = [];
  const lost: string[] = [];
  for (const [id, claim] of view.claims) {
    const task = Object.hasOwn(prev.tasks, id) ? prev.tasks[id] : undefined;
    if (!task || task.state === 'running' || claim.node === self.node) continue;
    if (task.state === 'pending' || (task.state === 'retry_wait' && (task.notBefore ?? 0) < recheckAt))
      changed.push({ ...task, state: 'retry_wait', notBefore: recheckAt, note: `claimed by node ${claim.node}`, updatedAt: now });
  }
  for (const task of Object.values(prev.tasks)) {
    const claim = view.claims.get(task.id);
    if (task.state === 'running' && (!claim || claim.lease !== self.lease)) lost.push(task.id);
  }
  if (changed.length === 0) return { state: prev, lost };
  return { state: { ...prev, tasks: withChangedTasks(prev.tasks, changed) }, lost };
}

/**
 * A tick planned spawns before etcd was asked. Orders etcd refused go back to how the task was
 * before the tick, waiting (retry_wait) until `recheckAt`; granted ones carry their fencing token.
 */
export function withClaims(
  before: WardenState,
  planned: { state: WardenState; events: CoreEvent[] },
  outcome: ReadonlyMap<string, { token: string } | { refused: string }>,
  recheckAt: number,
): { state: WardenState; events: CoreEvent[] } {
  const changed: Task[] = [];
  let breaker = planned.state.breaker;
  let refusedCount = 0;
  for (const [taskId, o] of outcome) {
    const was = before.tasks[taskId];
    const now = planned.state.tasks[taskId];
    if (!was || !now?.current) continue;
    if ('token' in o) {
      changed.push({ ...now, current: { ...now.current, fencingToken: o.token } });
      continue;
    }
    refusedCount++;
    breaker = breakerProbeAbandoned(breaker, taskId);
    changed.push({
      ...was,
      state: 'retry_wait',
      notBefore: Math.max(was.notBefore ?? 0, recheckAt),
      note: o.refused,
      updatedAt: now.updatedAt,
    });
  }
  const refused = (id: string) => {
    const o = outcome.get(id);
    return o !== undefined && 'refused' in o;
  };
  const spawned = planned.state.totalSpawns - refusedCount;
  return {
    state: {
      ...planned.state,
      breaker,
      tasks: withChangedTasks(planned.state.tasks, changed),
      totalSpawns: spawned,
      lastSpawnAt: spawned === before.totalSpawns ? before.lastSpawnAt : planned.state.lastSpawnAt,
    },
    events: planned.events.filter((e) => !(e.type === 'task_spawn' && refused(e.taskId))),
  };
}

/** The `fleet` pause follows the node's health: a problem (no lease, no etcd) pauses, none resumes. */
export function applyFleetHealth(prev: WardenState, problem: string | null, now: number): { state: WardenState; events: CoreEvent[] } {
  const cur = prev.pause.fleet ?? null;
  if (problem !== null && !cur)
    return {
      state: { ...prev, pause: { ...prev.pause, fleet: { since: now, reason: problem } } },
      events: [{ type: 'fleet_paused', reason: problem }],
    };
  if (problem !== null && cur && cur.reason !== problem)
    return { state: { ...prev, pause: { ...prev.pause, fleet: { ...cur, reason: problem } } }, events: [] };
  if (problem === null && cur) return { state: { ...prev, pause: { ...prev.pause, fleet: null } }, events: [{ type: 'fleet_resumed' }] };
  return { state: prev, events: [] };
}
