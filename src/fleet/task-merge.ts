// The fleet's shared task list, `<prefix>tasks/<id>`, folded into one node's tasks, and what the
// node publishes of its own. Pure: src/fleet/shared-tasks.ts reads and writes etcd and the prompt
// files. The rule is three-way on the key's mod revision: each local task keeps `fleetRev`, the
// revision of the record it last synced with.
//   - the record changed elsewhere (its revision is not `fleetRev`): take it, except the running
//     attempt here (its pid and unit stay local, adoption needs them);
//   - the record is as synced, and this node is ahead (an attempt record it lacks, an outcome it
//     does not hold): publish, compare-and-swap on that revision;
//   - no record: publish (create only); a fleet task this node does not hold: add it.
// Which store wins, per field: docs/fleet.md, "What is shared, and who wins".
import { z } from 'zod';
import { newTask } from '../policy/task-changes.js';
import { withChangedTasks, withoutTerminalTask } from '../policy/task-index.js';
import { attemptRecordSchema, DEFAULT_PRIORITY, HISTORY_LIMIT, TASK_STATES, taskSchema } from '../state/types.js';
import type { AttemptRecord, Task, TaskState, WardenState } from '../state/types.js';

const TERMINAL: ReadonlySet<TaskState> = new Set(['succeeded', 'dead', 'blocked', 'cancelled']);

export function isTerminal(state: TaskState): boolean {
  return TERMINAL.has(state);
}

/** What a task is: written once, by the node that added it (`origin`); a record's definition never changes. */
const definitionSchema = z.strictObject({
  source: z.enum(['local', 'github']),
  prompt: z.string(),
  createdAt: z.number(),
  issue: taskSchema.shape.issue,
  origin: z.string(),
});
export type TaskDefinition = z.output<typeof definitionSchema>;

// Not strict: a newer warden may add fields. Everything after `updatedAt` defaults, so that an
// outcome record written before the shared task list (no definition, no history) still reads.
const recordSchema = z.object({
  state: z.enum(TASK_STATES),
  attempts: z.number().int().min(0),
  notBefore: z.number().nullable(),
  note: z.string().nullable(),
  /** The node that wrote the record last. */
  node: z.string(),
  updatedAt: z.number(),
  /** `warden task remove`: a tombstone, so that a node still holding the task removes it too. */
  removed: z.boolean().default(false),
  definition: definitionSchema.nullable().default(null),
  priority: z.number().int().nullable().default(null),
  history: z.array(attemptRecordSchema).default([]),
  costUsd: z.number().min(0).default(0),
  turns: z.number().int().min(0).default(0),
  sessionId: z.string().nullable().default(null),
  prUrl: z.string().nullable().default(null),
  /** When the owner last retried the task (`warden task retry`): only a retry after it ends an outcome's hold. */
  retriedAt: z.number().nullable().default(null),
  /**
   * `cancelled` by the owner (`warden task cancel`): a node running the task stops its worker. A
   * cancel because an issue lost its label is not: every node reads the same poll, and the node
   * running the task follows `cancel_running` as a single node does.
   */
  ownerCancel: z.boolean().default(false),
});

/** A task's shared record as written. */
export type SharedTask = z.output<typeof recordSchema>;

/** A shared record as read, with the key's mod revision. */
export type FleetRecord = SharedTask & { rev: string };

/** A record read from etcd, or null when it is not one (it is then ignored, like an unknown key). */
export function parseRecord(value: unknown, rev: string): FleetRecord | null {
  const r = recordSchema.safeParse(value);
  return r.success ? { ...r.data, rev } : null;
}

const historyKey = (r: AttemptRecord) => `${r.startedAt}:${r.endedAt}:${r.attempt}`;

/**
 * The attempt records of both, each once (an attempt is its start, end and number), oldest first,
 * the last HISTORY_LIMIT kept. `a`'s copy of a record wins. The same inputs give the same list on
 * every node, whatever the order they came in.
 */
export function unionHistory(a: readonly AttemptRecord[], b: readonly AttemptRecord[]): AttemptRecord[] {
  const byKey = new Map<string, AttemptRecord>();
  for (const r of [...a, ...b]) if (!byKey.has(historyKey(r))) byKey.set(historyKey(r), r);
  const all = [...byKey.values()].sort((x, y) => x.startedAt - y.startedAt || x.endedAt - y.endedAt || x.attempt - y.attempt);
  return all.length > HISTORY_LIMIT ? all.slice(all.length - HISTORY_LIMIT) : all;
}

function sameHistory(a: readonly AttemptRecord[], b: readonly AttemptRecord[]): boolean {
  return a.length === b.length && a.every((r, i) => historyKey(r) === historyKey(b[i] as AttemptRecord));
}

/** The definition of a local task, with its prompt as this node holds it (null: the prompt cannot be read). */
export function definitionOf(task: Task, prompt: string | null, origin: string): TaskDefinition | null {
  if (prompt === null) return null;
  return { source: task.source, prompt, createdAt: task.createdAt, issue: task.issue, origin };
}

/**
 * Whether a local task and a fleet definition are one task: a GitHub task is its issue (the prompt
 * is rendered on each node from its template); a local one is its prompt text. A record without a
 * definition (written before the shared list) matches any task of its ID.
 */
export function sameDefinition(def: TaskDefinition | null, task: Task, prompt: string | null): boolean {
  if (def === null) return true;
  if (def.source !== task.source) return false;
  if (def.source === 'github') return def.issue?.repo === task.issue?.repo && def.issue?.number === task.issue?.number;
  return prompt === null || prompt === def.prompt;
}

/**
 * The record to write for a local task, over the record `rec` (null: none, or a tombstone): the
 * definition stays the record's, the priority is the record's (a command changed it), the history
 * is the union, and the rest is this node's: its attempt's outcome, attempts and backoff. One
 * exception: a record cancelled elsewhere (`warden task cancel` on another node) while this node's
 * attempt ran stays cancelled, unless the attempt ended its task (succeeded, dead, blocked).
 */
export function publishedRecord(rec: FleetRecord | null, task: Task, prompt: string | null, node: string, now: number): SharedTask {
  const live = rec && !rec.removed ? rec : null;
  const cancelledElsewhere = live?.state === 'cancelled' && !isTerminal(task.state);
  return {
    state: cancelledElsewhere ? 'cancelled' : task.state === 'running' ? 'pending' : task.state,
    attempts: task.attempts,
    notBefore: cancelledElsewhere ? null : task.notBefore,
    note: cancelledElsewhere ? (live?.note ?? null) : task.note,
    node,
    updatedAt: now,
    removed: false,
    definition: live?.definition ?? definitionOf(task, prompt, node),
    priority: live?.priority ?? task.priority,
    history: unionHistory(live?.history ?? [], task.history),
    costUsd: Math.max(task.costUsd, live?.costUsd ?? 0),
    turns: Math.max(task.turns, live?.turns ?? 0),
    sessionId: task.sessionId ?? live?.sessionId ?? null,
    prUrl: task.prUrl ?? live?.prUrl ?? null,
    retriedAt: live?.retriedAt ?? null,
    ownerCancel: cancelledElsewhere ? (live?.ownerCancel ?? false) : false,
  };
}

/** The tombstone `warden task remove` writes: the task is gone from every node. */
export function tombstone(task: Task, node: string, now: number): SharedTask {
  return { ...publishedRecord(null, task, null, node, now), removed: true, history: [], note: `removed on node ${node}` };
}

/**
 * The local task after taking the record: everything shared is the record's; the history is the
 * union. A task running here keeps its state, attempts and attempt (the running attempt is local
 * only), and takes only the priority and the history.
 */
export function takeRecord(task: Task, rec: FleetRecord, now: number): Task {
  const shared = { priority: rec.priority ?? task.priority, history: unionHistory(rec.history, task.history), fleetRev: rec.rev };
  if (task.state === 'running') return { ...task, ...shared };
  return {
    ...task,
    ...shared,
    state: rec.state === 'running' ? 'pending' : rec.state,
    attempts: rec.attempts,
    notBefore: rec.notBefore,
    note: rec.note,
    createdAt: rec.definition?.createdAt ?? task.createdAt,
    costUsd: Math.max(rec.costUsd, task.costUsd),
    turns: Math.max(rec.turns, task.turns),
    sessionId: rec.sessionId ?? task.sessionId,
    prUrl: rec.prUrl ?? task.prUrl,
    current: null,
    updatedAt: now,
  };
}

/** A fleet task this node does not hold, as a new local task; its prompt is at `promptFile`. */
export function taskFromRecord(id: string, rec: FleetRecord, def: TaskDefinition, promptFile: string, now: number): Task {
  const issue = def.source === 'github' ? (def.issue ?? undefined) : undefined;
  return takeRecord(newTask({ id, promptFile, priority: rec.priority ?? DEFAULT_PRIORITY, createdAt: def.createdAt, issue }), rec, now);
}

/** This node has something the record lacks: an attempt record, or an outcome not yet published. */
function ahead(task: Task, rec: FleetRecord): boolean {
  if (task.state === 'running') return false; // its release publishes it
  if (!sameHistory(unionHistory(rec.history, task.history), rec.history)) return true;
  return (isTerminal(task.state) && task.state !== rec.state) || task.attempts > rec.attempts;
}

/**
 * An outcome of this node's (its task ended here) that the record does not hold yet, while the record
 * changed elsewhere to a state that could run: the outcome holds (a terminal state never runs again
 * unless retried), unless the owner retried the task after the outcome's attempt ended.
 */
function heldOutcome(task: Task, rec: FleetRecord): boolean {
  if (!isTerminal(task.state) || isTerminal(rec.state) || !ahead(task, rec)) return false;
  const ended = Math.max(0, ...task.history.map((r) => r.endedAt));
  return (rec.retriedAt ?? -Infinity) < ended;
}

export interface TaskFold {
  /** The local tasks with the records taken (and removed tasks gone). */
  state: WardenState;
  /** Fleet tasks to add here (or to put in place of a local task of another definition): their prompt is written first. */
  create: { id: string; rec: FleetRecord; def: TaskDefinition; replaces: Task | null }[];
  /** Records to write: compare-and-swap over `over` (the record's revision; null: only if there is no key). */
  publish: { id: string; value: SharedTask; over: string | null }[];
  /** Running here, cancelled by the owner on another node (`warden task cancel`): stop the worker. */
  cancel: string[];
}

/**
 * Folds the fleet's task records into this node's tasks (see the head of this file). `prompt`
 * reads a local task's prompt; it is asked only of tasks not yet published, or whose record holds
 * another definition. `only`: fold these IDs only (a command brings one task up to date); `skip`:
 * leave these alone (a command of this node's is under way: it applies its own write here).
 */
export function foldTasks(
  prev: WardenState,
  records: ReadonlyMap<string, FleetRecord>,
  self: string,
  now: number,
  prompt: (t: Task) => string | null,
  scope: { only?: ReadonlySet<string>; skip?: ReadonlySet<string> } = {},
): TaskFold {
  const out: TaskFold = { state: prev, create: [], publish: [], cancel: [] };
  const changed: Task[] = [];
  const gone: Task[] = [];
  const ids = scope.only ?? new Set([...Object.keys(prev.tasks), ...records.keys()]);
  for (const id of ids) {
    if (scope.skip?.has(id)) continue;
    const task = Object.hasOwn(prev.tasks, id) ? prev.tasks[id] : undefined;
    const rec = records.get(id) ?? null;
    if (!task) {
      if (rec && !rec.removed && rec.definition) out.create.push({ id, rec, def: rec.definition, replaces: null });
      continue;
    }
    if (task.state === 'running') {
      // the attempt here stays; the record's priority and history are taken, and a cancel is obeyed
      if (rec && !rec.removed && task.fleetRev !== undefined && task.fleetRev !== rec.rev) {
        changed.push(takeRecord(task, rec, now));
        if (rec.state === 'cancelled' && rec.ownerCancel) out.cancel.push(id);
      }
      continue;
    }
    if (!rec || (rec.removed && task.fleetRev === undefined)) {
      // not in the fleet yet (a new task, or one re-added after a remove): published, create only
      const value = publishedRecord(null, task, prompt(task), self, now);
      if (value.definition) out.publish.push({ id, value, over: rec?.rev ?? null });
      continue;
    }
    if (rec.removed) {
      gone.push(task); // removed on another node
      continue;
    }
    if (task.fleetRev === undefined || (task.fleetRev !== rec.rev && rec.definition && rec.definition.createdAt !== task.createdAt)) {
      // a local task meeting the fleet's (added on two nodes, or re-added elsewhere after a remove)
      const text = prompt(task);
      if (sameDefinition(rec.definition, task, text)) {
        const taken = takeRecord(task, rec, now);
        changed.push(taken);
        if (!rec.definition || ahead(taken, rec))
          out.publish.push({ id, value: publishedRecord(rec, taken, text, self, now), over: rec.rev });
      } else if (rec.definition) out.create.push({ id, rec, def: rec.definition, replaces: task });
      continue;
    }
    if (task.fleetRev !== rec.rev && heldOutcome(task, rec))
      out.publish.push({ id, value: publishedRecord(rec, task, null, self, now), over: rec.rev });
    else if (task.fleetRev !== rec.rev) changed.push(takeRecord(task, rec, now));
    else if (ahead(task, rec) || !rec.definition) {
      // a record without its definition (a node of an older warden wrote only an outcome): given it back
      const text = rec.definition ? null : prompt(task);
      if (text !== null || ahead(task, rec)) out.publish.push({ id, value: publishedRecord(rec, task, text, self, now), over: rec.rev });
    }
  }
  let tasks = withChangedTasks(
    prev.tasks,
    changed.filter((t) => t !== prev.tasks[t.id]),
  );
  for (const t of gone) {
    if (!isTerminal(t.state)) tasks = withChangedTasks(tasks, [{ ...t, state: 'cancelled' }]);
    tasks = withoutTerminalTask(tasks, t.id);
  }
  if (tasks !== prev.tasks) out.state = { ...prev, tasks };
  return out;
}

/**
 * The record after a per-task command (cancel, retry, priority) made `next` of the task: the
 * command's result is the fleet's, whatever the record held (the command was decided on the record
 * as read, and is written with a compare-and-swap on its revision).
 */
export function commandRecord(rec: FleetRecord | null, next: Task, node: string, now: number, retry = false): SharedTask {
  const state = next.state === 'running' ? 'pending' : next.state;
  const v = publishedRecord(rec, next, null, node, now);
  const retriedAt = retry ? now : v.retriedAt;
  return {
    ...v,
    state,
    notBefore: next.notBefore,
    note: next.note,
    priority: next.priority,
    retriedAt,
    ownerCancel: state === 'cancelled',
  };
}
