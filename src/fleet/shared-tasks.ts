// The etcd side of the fleet's shared task list, `<prefix>tasks/<id>` (the decisions are in
// task-merge.ts): at each tick the records are folded into this node's tasks and what this node
// has that they lack is published; a fleet task this node does not hold is added here, its prompt
// written where the queue's ingest writes one. Every write is a compare-and-swap on the key's mod
// revision (a new task: only if there is no key), and a lost race is folded again at the next tick.
// The per-task commands change the record first, then this node (`command`); an attempt's outcome
// is published with its claim's release (src/fleet/node.ts, through `releaseRecord`).
import type { Etcd3, ICompare, IKeyValue, IRequestOp } from 'etcd3';
import type { TaskCommandAnswer } from '../control/task-routes.js';
import { readOrNull } from '../host/read-file.js';
import type { Logger } from '../log/logger.js';
import { decideTaskCommand, OWNER_CANCEL_REASON, type TaskCommandRequest } from '../policy/task-commands.js';
import { withChangedTasks } from '../policy/task-index.js';
import type { Task } from '../state/types.js';
import { keepRejectedRequest } from '../tasks/local-queue.js';
import type { FleetHooks } from './claims.js';
import { parseJson } from './connect.js';
import {
  commandRecord,
  foldTasks,
  parseRecord,
  publishedRecord,
  taskFromRecord,
  takeRecord,
  tombstone,
  type FleetRecord,
  type SharedTask,
  type TaskFold,
} from './task-merge.js';

export interface SharedTasksDeps {
  hooks: FleetHooks;
  client: () => Etcd3;
  prefix: string;
  node: string;
  stateDir: string;
  log: Logger;
  now: () => number;
  /** An etcd call with the node's timeout. */
  call: <T>(p: Promise<T>) => Promise<T>;
}

/** Writes to etcd at once (a burst of new tasks is published in parallel, this many at a time). */
const PUBLISH_AT_ONCE = 16;

export class SharedTasks {
  /** The records as last read, moved on by this node's own writes: a claim compares the task's. */
  private known: ReadonlyMap<string, FleetRecord> = new Map();
  /** Tasks with a command of this node's under way: the tick's fold leaves them to it. */
  private readonly commanding = new Set<string>();
  /** This node's writes since the last read. */
  private mine = new Map<string, FleetRecord>();

  constructor(private readonly d: SharedTasksDeps) {}

  private key(id: string): Buffer {
    return Buffer.from(`${this.d.prefix}tasks/${id}`);
  }

  private record(id: string): FleetRecord | null {
    return this.mine.get(id) ?? this.known.get(id) ?? null;
  }

  /** The mod revision a claim of the task compares; undefined: the task is not (or no longer) in the fleet's list. */
  rev(id: string): string | undefined {
    const r = this.record(id);
    return r && !r.removed ? r.rev : undefined;
  }

  /** The prompt of a local task as this node holds it (null: unreadable). */
  private prompt = (t: Task): string | null => readOrNull(t.promptFile, 'utf8');

  /** One tick: folds the records read into this node's tasks, then publishes what they lack. */
  async sync(records: ReadonlyMap<string, FleetRecord>): Promise<void> {
    // a write of this node's that the read did not see yet (a release during the read) is kept
    const merged = new Map(records);
    for (const [id, r] of this.mine) if (BigInt(r.rev) > BigInt(merged.get(id)?.rev ?? '0')) merged.set(id, r);
    [this.known, this.mine] = [merged, new Map<string, FleetRecord>()];
    await this.apply(foldTasks(this.d.hooks.state(), merged, this.d.node, this.d.now(), this.prompt, { skip: this.commanding }));
  }

  private async apply(f: TaskFold): Promise<void> {
    const { hooks, log } = this.d;
    if (f.state !== hooks.state()) hooks.commit(f.state, []);
    const added: Task[] = [];
    for (const c of f.create) {
      // a task added here, never published, whose ID the fleet holds with another prompt; else an old task re-added elsewhere
      if (c.replaces?.fleetRev === undefined && c.replaces && !this.setAside(c.replaces, c.rec)) continue;
      if (c.replaces?.fleetRev !== undefined)
        log.info('fleet: the task was removed and added anew on another node; this node follows', { task: c.id });
      const promptFile = hooks.prompts.writePrompt(c.id, c.def.prompt);
      if (promptFile === null) continue; // written at the next tick (writePrompt said why)
      added.push(taskFromRecord(c.id, c.rec, c.def, promptFile, this.d.now()));
      if (!c.replaces) log.info('task added from the fleet', { task: c.id, origin: c.def.origin });
    }
    if (added.length > 0) hooks.commit({ ...hooks.state(), tasks: withChangedTasks(hooks.state().tasks, added) }, []);
    for (const id of f.cancel) {
      log.info('fleet: the task was cancelled on another node; stopping its worker', { task: id });
      void hooks.workers.stopForCancel(id, `${OWNER_CANCEL_REASON} on another node`);
    }
    for (let i = 0; i < f.publish.length; i += PUBLISH_AT_ONCE) {
      const batch = f.publish.slice(i, i + PUBLISH_AT_ONCE);
      const revs = await Promise.all(batch.map((p) => this.put(p.id, p.value, p.over)));
      const synced = batch.flatMap((p, j) => {
        const rev = revs[j];
        const task = hooks.state().tasks[p.id];
        return rev && task && task.state !== 'running' ? [takeRecord(task, { ...p.value, rev }, this.d.now())] : [];
      });
      if (synced.length > 0) hooks.commit({ ...hooks.state(), tasks: withChangedTasks(hooks.state().tasks, synced) }, []);
    }
  }

  /**
   * A task added here whose ID the fleet already holds with another prompt: it must not run, and
   * must not be lost. Its request is kept in queue/rejected/ (to queue again under another ID), and
   * the fleet's task takes its place here. false: the request could not be kept (tried again at the
   * next tick; meanwhile the task waits here, unpublished, so it cannot be claimed).
   */
  private setAside(local: Task, rec: FleetRecord): boolean {
    const prompt = this.prompt(local);
    const origin = rec.definition?.origin ?? rec.node;
    let kept = 'its prompt could not be read';
    try {
      // named for the task's own time: kept again after a failed step, the file is the same
      const req = { id: local.id, prompt: prompt ?? '', priority: local.priority, addedAt: local.createdAt };
      if (prompt !== null) kept = `its request is kept in ${keepRejectedRequest(this.d.stateDir, req, local.createdAt)}`;
    } catch (err) {
      this.d.log.warn('fleet: cannot keep a task request the fleet refuses; it waits here, unclaimed', {
        task: local.id,
        error: (err as Error).message,
      });
      return false;
    }
    this.d.log.error(
      `fleet: task ${local.id} was added on this node with another prompt than the fleet's task of that ID (added on node ${origin}); ` +
        `this node's one does not run: ${kept}; queue it again under another ID (warden task add NEW-ID --prompt-file FILE)`,
      { task: local.id, origin },
    );
    return true;
  }

  /** Writes a record if the key is still at `over` (null: no key); the new revision, or null (changed meanwhile). */
  private async put(id: string, value: SharedTask, over: string | null): Promise<string | null> {
    const key = this.key(id);
    const res = await this.d.call(
      this.d.client().kv.txn({
        compare: [this.isAt(key, over)],
        success: [{ request_put: { key, value: Buffer.from(JSON.stringify(value)) } }],
        failure: [],
      }),
    );
    if (!res.succeeded) return null;
    this.mine.set(id, { ...value, rev: res.header.revision });
    return res.header.revision;
  }

  private isAt(key: Buffer, over: string | null): ICompare {
    return over === null
      ? { key, target: 'Create', result: 'Equal', create_revision: 0 }
      : { key, target: 'Mod', result: 'Equal', mod_revision: over };
  }

  /**
   * The outcome of the attempt that ended here, for its release transaction (node.ts): the put, and
   * the compare that the record is still as this node knows it. null: nothing to publish.
   */
  releaseRecord(id: string): { compare: ICompare; put: IRequestOp; value: SharedTask } | null {
    const task = this.d.hooks.state().tasks[id];
    if (!task || task.state === 'running') return null;
    const rec = this.record(id);
    const value = publishedRecord(rec, task, rec?.definition ? null : this.prompt(task), this.d.node, this.d.now());
    const key = this.key(id);
    return { compare: this.isAt(key, rec?.rev ?? null), put: { request_put: { key, value: Buffer.from(JSON.stringify(value)) } }, value };
  }

  /** The release wrote `value` at `rev`: this node's task now mirrors it. */
  released(id: string, value: SharedTask, rev: string): void {
    this.mine.set(id, { ...value, rev });
    const task = this.d.hooks.state().tasks[id];
    if (task && task.state !== 'running')
      this.d.hooks.commit(
        {
          ...this.d.hooks.state(),
          tasks: withChangedTasks(this.d.hooks.state().tasks, [takeRecord(task, { ...value, rev }, this.d.now())]),
        },
        [],
      );
  }

  /** The record as a refused transaction read it (null: no key): the next try merges onto it. */
  learn(id: string, kv: IKeyValue | null): void {
    const rec = kv ? parseRecord(parseJson(kv), kv.mod_revision) : null;
    if (rec) this.mine.set(id, rec);
    else this.mine.delete(id);
    if (!kv) this.known = new Map([...this.known].filter(([k]) => k !== id));
  }

  /**
   * `warden task cancel|retry|remove|priority` in a fleet: decided on the record as read (a task
   * another node runs counts as running: it cannot be retried or removed, and a cancel asks that
   * node to stop it), written with a compare-and-swap on its revision, then applied here by `local`.
   * Every node folds the record at its next tick. A record changed meanwhile: read and decided again.
   * etcd not answering: rejects, and nothing changed.
   */
  async command(
    id: string,
    req: TaskCommandRequest,
    local: () => TaskCommandAnswer | Promise<TaskCommandAnswer>,
  ): Promise<TaskCommandAnswer> {
    const { hooks, node } = this.d;
    if (this.commanding.has(id)) return { ok: false, line: `another command of task ${id} is under way; try again`, saved: true };
    this.commanding.add(id);
    try {
      for (let round = 0; round < 3; round++) {
        const { rec, holder } = await this.readOne(id);
        const records = new Map(rec ? [[id, rec]] : []);
        await this.apply(foldTasks(hooks.state(), records, node, this.d.now(), this.prompt, { only: new Set([id]) }));
        const task = hooks.state().tasks[id];
        const elsewhere = holder !== null && holder !== node && task !== undefined && task.state !== 'running' ? holder : null;
        const asRunning =
          elsewhere && task
            ? { ...hooks.state(), tasks: withChangedTasks(hooks.state().tasks, [{ ...task, state: 'running' as const }]) }
            : null;
        const d = decideTaskCommand(asRunning ?? hooks.state(), id, req, this.d.now());
        if (d.kind === 'refused') return { ok: false, line: elsewhere ? `${d.line} (on node ${elsewhere})` : d.line, saved: true };
        if (d.kind === 'stop_first' && !elsewhere) return await local(); // running here: its release publishes the cancel
        if (!task) return await local();
        const [now, cur] = [this.d.now(), this.record(id)];
        const value =
          d.kind === 'stop_first'
            ? commandRecord(cur, { ...task, state: 'cancelled', notBefore: null, note: `cancelled: ${OWNER_CANCEL_REASON}` }, node, now)
            : d.removed
              ? tombstone(d.removed, node, now)
              : commandRecord(cur, d.state.tasks[id] ?? task, node, now, req.command === 'retry');
        const rev = await this.put(id, value, cur?.rev ?? null);
        if (rev === null) continue;
        const answer = await local();
        const after = hooks.state().tasks[id];
        if (after && after.state !== 'running')
          hooks.commit({ ...hooks.state(), tasks: withChangedTasks(hooks.state().tasks, [takeRecord(after, { ...value, rev }, now)]) }, []);
        hooks.requestTick();
        return elsewhere && answer.ok
          ? { ...answer, line: `cancelled ${id}: it runs on node ${elsewhere}, which stops its worker` }
          : answer;
      }
      return { ok: false, line: `the fleet's record of task ${id} kept changing; nothing changed here, try again`, saved: true };
    } catch (err) {
      // not a refusal: the control API answers 500 (the CLI: one line, exit 1), and a queued command stays queued
      throw new Error(`cannot reach etcd (${(err as Error).message}); nothing changed`);
    } finally {
      this.commanding.delete(id);
    }
  }

  /** The task's record and the node holding its claim, read together. */
  private async readOne(id: string): Promise<{ rec: FleetRecord | null; holder: string | null }> {
    const claimKey = Buffer.from(`${this.d.prefix}claims/${id}`);
    const res = await this.d.call(
      this.d
        .client()
        .kv.txn({ compare: [], success: [{ request_range: { key: this.key(id) } }, { request_range: { key: claimKey } }], failure: [] }),
    );
    const [recKv, claimKv] = [res.responses[0]?.response_range.kvs[0], res.responses[1]?.response_range.kvs[0]];
    const rec = recKv ? parseRecord(parseJson(recKv), recKv.mod_revision) : null;
    this.learn(id, recKv ?? null);
    const holder = claimKv ? parseJson(claimKv)?.node : null;
    return { rec, holder: typeof holder === 'string' ? holder : null };
  }
}
