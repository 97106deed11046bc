// The fleet's shared task list folded into one node's tasks, and what a node publishes: the
// three-way rule on the record's mod revision (task-merge.ts). Pure; no etcd.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  commandRecord,
  foldTasks,
  parseRecord,
  publishedRecord,
  taskFromRecord,
  tombstone,
  unionHistory,
  type FleetRecord,
  type SharedTask,
} from '../../../src/fleet/task-merge.ts';
import { HISTORY_LIMIT, type AttemptRecord, type Task } from '../../../src/state/types.ts';
import { attemptRecord, stateOf, task } from '../../helpers/tasks.ts';

const NOW = 1_000_000;
const SELF = 'n1';
const prompts = new Map<string, string>();
const promptOf = (t: Task) => prompts.get(t.promptFile) ?? null;

/** A record written by node n2 for a task whose prompt is `prompt` (over: any field). */
function record(over: Partial<SharedTask> & { rev?: string; prompt?: string } = {}): FleetRecord {
  const { rev = '50', prompt = 'do a', ...rest } = over;
  return {
    state: 'pending',
    attempts: 0,
    notBefore: null,
    note: null,
    node: 'n2',
    updatedAt: NOW - 10,
    removed: false,
    definition: { source: 'local', prompt, createdAt: 100, issue: null, origin: 'n2' },
    priority: 2,
    history: [],
    costUsd: 0,
    turns: 0,
    sessionId: null,
    prUrl: null,
    retriedAt: null,
    ownerCancel: false,
    ...rest,
    rev,
  };
}

/** A local task whose prompt file holds `prompt`. */
function local(id: string, prompt: string, over: Partial<Task> = {}): Task {
  const t = task(id, { createdAt: 200, ...over });
  prompts.set(t.promptFile, prompt);
  return t;
}

const fold = (tasks: Task[], records: [string, FleetRecord][]) => foldTasks(stateOf(tasks), new Map(records), SELF, NOW, promptOf);
const run = (n: number, startedAt: number): AttemptRecord => attemptRecord({ attempt: n, startedAt, endedAt: startedAt + 5 });

describe('foldTasks: tasks this node does not hold, and tasks the fleet does not hold', () => {
  test('a fleet task unknown here is added, with its prompt to write', () => {
    const f = fold([], [['a', record()]]);
    assert.deepEqual(
      f.create.map((c) => [c.id, c.def.prompt, c.replaces]),
      [['a', 'do a', null]],
    );
  });

  test('a fleet task becomes a local one as the record has it: source, issue, createdAt, state, history, revision', () => {
    const issue = { repo: 'o/r', number: 7, url: 'u', title: 't' };
    const def = { source: 'github' as const, prompt: 'p', createdAt: 100, issue, origin: 'n2' };
    const t = taskFromRecord(
      'gh-7',
      record({ definition: def, state: 'dead', attempts: 3, history: [run(3, 10)] }),
      def,
      '/p/gh-7.prompt',
      NOW,
    );
    assert.deepEqual(
      [t.source, t.issue, t.createdAt, t.state, t.attempts, t.history.length, t.fleetRev, t.promptFile, t.current],
      ['github', issue, 100, 'dead', 3, 1, '50', '/p/gh-7.prompt', null],
    );
  });

  test('an outcome record from before the shared list (no definition) and a tombstone add nothing', () => {
    const f = fold(
      [],
      [
        ['a', record({ definition: null })],
        ['b', record({ removed: true })],
      ],
    );
    assert.deepEqual(f.create, []);
  });

  test('a local task the fleet does not hold is published, create only, with its prompt; a running one waits for its release', () => {
    const f = fold([local('a', 'do a'), local('b', 'do b', { state: 'running' })], []);
    assert.deepEqual(
      f.publish.map((p) => [p.id, p.over, p.value.definition?.prompt, p.value.definition?.origin]),
      [['a', null, 'do a', 'n1']],
    );
  });
});

describe('foldTasks: a local task meets the fleet task of its ID', () => {
  test('same prompt (queued on two nodes): this node takes the fleet task, its createdAt and revision; nothing to publish', () => {
    const f = fold([local('a', 'do a')], [['a', record({ priority: 5 })]]);
    const a = f.state.tasks.a;
    assert.equal(a?.fleetRev, '50');
    assert.equal(a?.createdAt, 100);
    assert.equal(a?.priority, 5);
    assert.deepEqual(f.publish, []);
    assert.deepEqual(f.create, []);
  });

  test('another prompt: the local task must not run; the fleet task replaces it (the local request is kept by the caller)', () => {
    const f = fold([local('a', 'something else')], [['a', record()]]);
    assert.equal(f.create.length, 1);
    assert.equal(f.create[0]?.replaces?.id, 'a');
    assert.equal(f.create[0]?.def.prompt, 'do a');
    assert.deepEqual(f.publish, []);
  });

  test('a GitHub task is its issue: another rendering of its prompt is the same task', () => {
    const issue = { repo: 'o/r', number: 7, url: 'u', title: 't' };
    const rec = record({ definition: { source: 'github', prompt: 'template A', createdAt: 100, issue, origin: 'n2' } });
    const f = fold([local('gh-7', 'template B', { source: 'github', issue })], [['gh-7', rec]]);
    assert.equal(f.state.tasks['gh-7']?.fleetRev, '50');
    assert.deepEqual(f.create, []);
  });

  test('re-added elsewhere after a remove (another createdAt and prompt): the new task replaces the old one here', () => {
    const f = fold([local('a', 'old', { state: 'succeeded', fleetRev: '10', createdAt: 50 })], [['a', record({ prompt: 'new' })]]);
    assert.equal(f.create[0]?.replaces?.id, 'a');
  });
});

describe('foldTasks: the three-way rule on the revision', () => {
  test('changed elsewhere: taken, even over a terminal state (a retry of a dead task on another node)', () => {
    const dead = local('a', 'do a', { state: 'dead', attempts: 3, fleetRev: '40', createdAt: 100, history: [run(3, 10)] });
    const f = fold(
      [dead],
      [['a', record({ state: 'pending', attempts: 0, note: 'retry by the owner (was dead)', history: [run(3, 10)], retriedAt: 20 })]],
    );
    assert.equal(f.state.tasks.a?.state, 'pending');
    assert.equal(f.state.tasks.a?.attempts, 0);
    assert.equal(f.state.tasks.a?.fleetRev, '50');
  });

  test('changed elsewhere while a verdict here is not published yet: the verdict holds (published), unless retried after it', () => {
    const dead = local('a', 'do a', { state: 'dead', attempts: 1, fleetRev: '40', createdAt: 100, history: [run(1, 10)] });
    const prio = fold([dead], [['a', record({ priority: 9 })]]);
    assert.equal(prio.state.tasks.a?.state, 'dead', 'a priority change elsewhere does not bring a dead task back');
    assert.deepEqual(
      prio.publish.map((p) => [p.id, p.value.state, p.over]),
      [['a', 'dead', '50']],
    );
    const retried = fold([dead], [['a', record({ retriedAt: 100 })]]);
    assert.equal(retried.state.tasks.a?.state, 'pending', 'a retry after the verdict runs it again');
  });

  test('changed elsewhere: an outcome of another node is taken, with the fleet-wide history', () => {
    const t = local('a', 'do a', { state: 'retry_wait', note: 'claimed by node n2', fleetRev: '40', createdAt: 100 });
    const f = fold([t], [['a', record({ state: 'succeeded', attempts: 1, history: [run(1, 10)] })]]);
    assert.equal(f.state.tasks.a?.state, 'succeeded');
    assert.deepEqual(f.state.tasks.a?.history, [run(1, 10)]);
  });

  test('unchanged, this node ahead (an attempt record the record lacks): published over the revision, history merged', () => {
    const t = local('a', 'do a', { state: 'retry_wait', attempts: 2, fleetRev: '50', createdAt: 100, history: [run(1, 10), run(2, 30)] });
    const f = fold([t], [['a', record({ state: 'retry_wait', attempts: 1, history: [run(1, 10)] })]]);
    assert.deepEqual(
      f.publish.map((p) => [p.id, p.over, p.value.attempts, p.value.history.length]),
      [['a', '50', 2, 2]],
    );
  });

  test("unchanged: this node's own wait for another node's claim is never published", () => {
    const t = local('a', 'do a', { state: 'retry_wait', notBefore: NOW + 5, note: 'claimed by node n2', fleetRev: '50', createdAt: 100 });
    const f = fold([t], [['a', record()]]);
    assert.deepEqual(f.publish, []);
    assert.equal(f.state.tasks.a, t);
  });

  test("a task with a command of this node's under way is left to it (skip), even when its record changed", () => {
    const s = stateOf([local('a', 'do a', { fleetRev: '40', createdAt: 100 })]);
    const f = foldTasks(s, new Map([['a', record({ state: 'cancelled' })]]), SELF, NOW, promptOf, { skip: new Set(['a']) });
    assert.equal(f.state, s);
    assert.deepEqual(f.publish, []);
  });

  test('a record an older warden overwrote with an outcome only: the definition is written back by a node holding the task', () => {
    const f = fold(
      [local('a', 'do a', { state: 'succeeded', fleetRev: '50', createdAt: 100 })],
      [['a', record({ state: 'succeeded', definition: null })]],
    );
    assert.deepEqual(
      f.publish.map((p) => [p.id, p.value.definition?.prompt, p.over]),
      [['a', 'do a', '50']],
    );
  });

  test('in sync: nothing changes, the very same state (no save)', () => {
    const s = stateOf([local('a', 'do a', { fleetRev: '50', createdAt: 100 })]);
    const f = foldTasks(s, new Map([['a', record()]]), SELF, NOW, promptOf);
    assert.equal(f.state, s);
  });

  test('running here and changed elsewhere: the attempt stays; priority and history are taken; a cancel stops the worker', () => {
    const t = local('a', 'do a', { state: 'running', attempts: 1, fleetRev: '40', createdAt: 100 });
    const f = fold([t], [['a', record({ state: 'cancelled', ownerCancel: true, priority: 9, history: [run(1, 1)] })]]);
    const a = f.state.tasks.a;
    assert.equal(a?.state, 'running');
    assert.ok(a?.current, 'the running attempt stays local');
    assert.equal(a?.priority, 9);
    assert.deepEqual(f.cancel, ['a']);
  });

  test('running here, cancelled elsewhere because its issue lost the label (not by the owner): the worker is left to cancel_running here', () => {
    const t = local('a', 'do a', { state: 'running', attempts: 1, fleetRev: '40', createdAt: 100 });
    const f = fold([t], [['a', record({ state: 'cancelled', note: 'cancelled: the issue no longer has the label' })]]);
    assert.deepEqual(f.cancel, []);
    assert.equal(f.state.tasks.a?.state, 'running');
  });

  test('removed elsewhere (a tombstone): gone here too; a task added here after the remove is published over it', () => {
    const f = fold(
      [local('a', 'do a', { state: 'succeeded', fleetRev: '40', createdAt: 100 }), local('b', 'new b')],
      [
        ['a', record({ removed: true })],
        ['b', record({ removed: true, rev: '60' })],
      ],
    );
    assert.equal(f.state.tasks.a, undefined);
    assert.deepEqual(
      f.publish.map((p) => [p.id, p.over]),
      [['b', '60']],
    );
  });
});

describe('the records written', () => {
  test('an outcome over a record cancelled elsewhere stays cancelled, unless the attempt ended the task', () => {
    const rec = record({ state: 'cancelled', note: 'cancelled: by the owner' });
    assert.equal(publishedRecord(rec, task('a', { state: 'retry_wait' }), null, SELF, NOW).state, 'cancelled');
    assert.equal(publishedRecord(rec, task('a', { state: 'succeeded' }), null, SELF, NOW).state, 'succeeded');
  });

  test("an outcome keeps the record's definition and priority (a priority command elsewhere)", () => {
    const v = publishedRecord(record({ priority: 7 }), task('a', { priority: 2, state: 'succeeded' }), 'other', SELF, NOW);
    assert.equal(v.priority, 7);
    assert.equal(v.definition?.prompt, 'do a');
  });

  test("a command's result is the fleet's: a retry of a cancelled task is pending, a priority change is kept", () => {
    assert.equal(commandRecord(record({ state: 'cancelled' }), task('a', { state: 'pending' }), SELF, NOW).state, 'pending');
    assert.equal(commandRecord(record({ priority: 2 }), task('a', { priority: -5 }), SELF, NOW).priority, -5);
    assert.equal(commandRecord(record(), task('a'), SELF, NOW, true).retriedAt, NOW);
    assert.equal(commandRecord(record(), task('a', { state: 'cancelled' }), SELF, NOW).ownerCancel, true, "the owner's cancel");
    assert.equal(publishedRecord(record(), task('a', { state: 'cancelled' }), null, SELF, NOW).ownerCancel, false, 'a cancel for a label');
  });

  test('a tombstone reads back as removed; a record from before the shared list reads with defaults', () => {
    const t = tombstone(task('a', { state: 'dead' }), SELF, NOW);
    assert.equal(parseRecord(JSON.parse(JSON.stringify(t)), '9')?.removed, true);
    const old = parseRecord({ state: 'succeeded', attempts: 1, notBefore: null, note: null, node: 'n2', updatedAt: 5 }, '3');
    assert.equal(old?.definition, null);
    assert.deepEqual(old?.history, []);
    assert.equal(parseRecord({ state: 'nonsense' }, '3'), null);
  });
});

describe('unionHistory (property-style, seeded)', () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const runs = Array.from({ length: 40 }, (_, i) => run(i + 1, i * 10));
  const pick = () => runs.filter(() => rand(3) === 0);

  test('each record once, oldest first, at most HISTORY_LIMIT, the same whichever side holds what', () => {
    for (let i = 0; i < 200; i++) {
      const [a, b] = [pick(), pick()];
      const u = unionHistory(a, b);
      assert.deepEqual(u, unionHistory(b, a), 'order of the sides does not matter');
      assert.ok(u.length <= HISTORY_LIMIT);
      assert.equal(new Set(u.map((r) => r.startedAt)).size, u.length, 'no duplicates');
      assert.deepEqual(
        u.map((r) => r.startedAt),
        [...u.map((r) => r.startedAt)].sort((x, y) => x - y),
      );
      const all = [...new Set([...a, ...b])].sort((x, y) => x.startedAt - y.startedAt);
      assert.deepEqual(u, all.slice(Math.max(0, all.length - HISTORY_LIMIT)), 'the newest of the union');
      assert.deepEqual(unionHistory(u, a), u, 'idempotent');
    }
  });

  test('three nodes that each ran some attempts agree after folding the record that merged them', () => {
    for (let i = 0; i < 50; i++) {
      const nodes = [pick(), pick(), pick()];
      let rec = record({ rev: '1' });
      for (const h of nodes)
        rec = { ...publishedRecord(rec, task('a', { history: h }), null, 'nX', NOW), rev: String(Number(rec.rev) + 1) };
      const folded = nodes.map(
        (h) =>
          foldTasks(
            stateOf([local('a', 'do a', { history: h, fleetRev: '0', createdAt: 100 })]),
            new Map([['a', rec]]),
            SELF,
            NOW,
            promptOf,
          ).state.tasks.a?.history,
      );
      assert.deepEqual(folded[0], folded[1]);
      assert.deepEqual(folded[1], folded[2]);
      assert.deepEqual(folded[0], rec.history);
    }
  });
});
