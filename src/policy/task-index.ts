// A derived index over a state's task map, so that a tick does not walk every task.
//
// The index holds what planTick asks on every tick: the pending tasks in spawn order, the
// retry_wait tasks by the time they are due, and how many tasks are in each state. It is never
// stored. It lives in a WeakMap keyed by the identity of the `tasks` object, which works because
// states are immutable: a function that changes tasks returns a new `tasks` object, never edits
// the old one. When the decision core derives a new `tasks` object from an old one
// (withChangedTasks), it derives the new index from the old one by the few tasks that changed, and
// caches it for the new object. A `tasks` object that nobody indexed (a state just loaded from
// disk, or built by a spread outside the decision core) is indexed once, in O(n log n).
//
// The map itself stays a plain Record (the state file's format, and what every caller reads), and
// copying it is the one O(n) step left. Measured on the benchmark VM at 13,500 tasks: a copy costs
// about 7-8 ms however it is written (spread, Object.assign, for...in; V8 keeps such a map in
// dictionary mode), while the index's arrays copy in tens of microseconds. Sharing instead of
// copying was rejected: a map built with Object.create(old) holds the old tasks only through its
// prototype, and JSON.stringify, Object.keys and hasOwn see own keys only, so saveState would drop
// them (the incident's state file dropped tasks); a Proxy over a persistent map would pass for a
// Record, but util.inspect shows its empty target, structuredClone throws on it and every read
// pays a trap. So: a tick that changes nothing (slots busy, rate limit, pause: the common case)
// copies nothing and reads no task, about 1 µs; a tick that claims or wakes tasks copies the map
// once (withChangedTasks), and so do applyExit and addTask. That copy keeps the spawning tick over
// the 1 ms goal at 10,000 queued tasks.
import type { Task, TaskState, WardenState } from '../state/types.js';
import { TASK_STATES } from '../state/types.js';

export type Tasks = WardenState['tasks'];

export interface TaskIndex {
  /** pending tasks in spawn order (compareTasks). */
  readonly pending: readonly Task[];
  /** retry_wait tasks, the earliest notBefore first; a null notBefore counts as due at once. */
  readonly retryWait: readonly Task[];
  readonly counts: Readonly<Record<TaskState, number>>;
}

/** Orders runnable tasks: lower priority number first, then oldest, then by ID (stable). */
export function compareTasks(a: Task, b: Task): number {
  return a.priority - b.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** When a retry_wait task becomes pending again. */
export function dueAt(t: Task): number {
  return t.notBefore ?? -Infinity;
}

/** Orders retry_wait tasks by when they are due; compareTasks breaks ties so the order is total. */
export function compareRetries(a: Task, b: Task): number {
  const da = dueAt(a);
  const db = dueAt(b);
  return da < db ? -1 : da > db ? 1 : compareTasks(a, b);
}

const cache = new WeakMap<Tasks, TaskIndex>();

/** The index of `tasks`: the cached one, or built now and cached. */
export function taskIndex(tasks: Tasks): TaskIndex {
  let index = cache.get(tasks);
  if (!index) {
    index = buildTaskIndex(tasks);
    cache.set(tasks, index);
  }
  return index;
}

/** Indexes `tasks` from scratch and caches that, replacing a cached index found to be stale. */
export function rebuildTaskIndex(tasks: Tasks): TaskIndex {
  const index = buildTaskIndex(tasks);
  cache.set(tasks, index);
  return index;
}

/** Indexes every task: O(n log n). */
export function buildTaskIndex(tasks: Tasks): TaskIndex {
  const pending: Task[] = [];
  const retryWait: Task[] = [];
  const counts = zeroCounts();
  // for...in, not Object.values: the map has thousands of keys, so V8 keeps it in dictionary
  // mode, where Object.values was measured 2-3x slower than walking the keys.
  for (const id in tasks) {
    const t = tasks[id] as Task;
    counts[t.state]++;
    if (t.state === 'pending') pending.push(t);
    else if (t.state === 'retry_wait') retryWait.push(t);
  }
  return { pending: pending.sort(compareTasks), retryWait: retryWait.sort(compareRetries), counts };
}

/**
 * A new task map: `tasks` with each of `changed` put in under its ID (replacing the task of that
 * ID, or appended if new). The input is not modified. The new map's index is derived from the old
 * one and cached, so the next tick finds it.
 */
export function withChangedTasks(tasks: Tasks, changed: readonly Task[]): Tasks {
  if (changed.length === 0) return tasks;
  const next = copyTasks(tasks);
  for (const t of changed) next[t.id] = t;
  const ids = new Set(changed.map((t) => t.id));
  const changes = [...ids].map((id) => ({ before: ownTask(tasks, id), after: next[id] as Task }));
  // null: the old index did not hold a task it should have, so someone edited `tasks` in place.
  // Index the new map from scratch rather than carry the error forward.
  cache.set(next, deriveIndex(taskIndex(tasks), changes) ?? buildTaskIndex(next));
  return next;
}

/**
 * A new task map without the task `id`, which must be in a terminal state (`warden task remove`).
 * A terminal task is in neither sorted list, so the new index is the old one with one count less.
 */
export function withoutTerminalTask(tasks: Tasks, id: string): Tasks {
  const gone = ownTask(tasks, id);
  if (!gone) return tasks;
  if (gone.state === 'pending' || gone.state === 'retry_wait' || gone.state === 'running')
    throw new Error(`withoutTerminalTask: task ${id} is ${gone.state}`);
  const next: Tasks = {};
  for (const k in tasks) if (k !== id) next[k] = tasks[k] as Task;
  const index = taskIndex(tasks);
  cache.set(next, { ...index, counts: { ...index.counts, [gone.state]: index.counts[gone.state] - 1 } });
  return next;
}

/** The task of that ID, if the map has one of its own (not `constructor` from the prototype). */
function ownTask(tasks: Tasks, id: string): Task | undefined {
  return Object.hasOwn(tasks, id) ? tasks[id] : undefined;
}

/**
 * A shallow copy that keeps key order. for...in measured 1.5-2x faster than a spread on a map of
 * this size. Plain assignment is safe: a task ID starts with a letter or digit, never `__proto__`.
 */
function copyTasks(tasks: Tasks): Tasks {
  const copy: Tasks = {};
  for (const id in tasks) copy[id] = tasks[id] as Task;
  return copy;
}

interface TaskChange {
  before: Task | undefined;
  after: Task;
}

/**
 * The index after `changes` (at most one per task ID), from the index before them, without walking
 * the task map. Returns null if a `before` that belongs in a list is not in it (the index is stale).
 */
function deriveIndex(index: TaskIndex, changes: readonly TaskChange[]): TaskIndex | null {
  const counts = { ...index.counts };
  const leaving: Task[] = [];
  const entering: Task[] = [];
  for (const { before, after } of changes) {
    if (before === after) continue;
    if (before) {
      counts[before.state]--;
      leaving.push(before);
    }
    counts[after.state]++;
    entering.push(after);
  }
  const pending = updateSorted(index.pending, only(leaving, 'pending'), only(entering, 'pending'), compareTasks);
  const retryWait = updateSorted(index.retryWait, only(leaving, 'retry_wait'), only(entering, 'retry_wait'), compareRetries);
  if (!pending || !retryWait) return null;
  return { pending, retryWait, counts };
}

function only(tasks: readonly Task[], state: TaskState): Task[] {
  return tasks.filter((t) => t.state === state);
}

/**
 * `sorted` without `remove` and with `insert`, still sorted, as a new array (the old index keeps
 * its own). Each removal is found by binary search, and the result is built in one pass, so a
 * change of k tasks costs O(n + k log n) pointer copies, which is microseconds at 10,000 tasks.
 * Returns null if a task to remove is not where the order says it must be.
 */
export function updateSorted(
  sorted: readonly Task[],
  remove: readonly Task[],
  insert: readonly Task[],
  cmp: (a: Task, b: Task) => number,
): readonly Task[] | null {
  if (remove.length === 0 && insert.length === 0) return sorted;
  const drop = new Set<number>();
  for (const t of remove) {
    const at = lowerBound(sorted, t, cmp);
    if (sorted[at] !== t) return null;
    drop.add(at);
  }
  const adds = [...insert].sort(cmp);
  const out: Task[] = [];
  let a = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (drop.has(i)) continue;
    const t = sorted[i] as Task;
    while (a < adds.length && cmp(adds[a] as Task, t) < 0) out.push(adds[a++] as Task);
    out.push(t);
  }
  while (a < adds.length) out.push(adds[a++] as Task);
  return out;
}

/** The first position whose task does not sort before `t`. */
function lowerBound(sorted: readonly Task[], t: Task, cmp: (a: Task, b: Task) => number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(sorted[mid] as Task, t) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first `n` tasks of two sorted lists, merged in order. */
export function firstOfBoth(a: readonly Task[], b: readonly Task[], n: number, cmp: (x: Task, y: Task) => number): Task[] {
  const out: Task[] = [];
  let i = 0;
  let j = 0;
  while (out.length < n && (i < a.length || j < b.length)) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && cmp(x, y) <= 0)) {
      out.push(x as Task);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

/** How many retry_wait tasks are due at `now`: they are a prefix of the list. */
export function countDue(index: TaskIndex, now: number): number {
  const list = index.retryWait;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (dueAt(list[mid] as Task) <= now) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * True if each of `entries` is still the map's own task in the given state. planTick checks the
 * entries it acts on before trusting a cached index: the cache assumes states are never edited in
 * place, and this catches one that was before it could spawn the wrong task.
 */
export function stillIndexed(tasks: Tasks, entries: readonly Task[], state: TaskState): boolean {
  return entries.every((t) => tasks[t.id] === t && t.state === state);
}

function zeroCounts(): Record<TaskState, number> {
  return Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
}
