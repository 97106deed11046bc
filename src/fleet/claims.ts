// The supervisor's narrow port to the fleet. A single warden uses SingleNode, which claims every
// order at once and loads nothing; with [fleet], src/fleet/node.ts claims each task in etcd first
// (`warden run` imports it only then, so a single node never loads the etcd client).
import type { TaskCommandAnswer } from '../control/task-routes.js';
import type { CoreEvent } from '../events/catalog.js';
import type { TaskCommandRequest } from '../policy/task-commands.js';
import type { CoreSettings } from '../policy/settings.js';
import type { TickResult } from '../policy/tick.js';
import type { WardenState } from '../state/types.js';
import type { GhOptions, GhResult } from '../tasks/github.js';
import type { GithubIssue } from '../tasks/github-issue.js';
import type { GithubSettings, IssueSource } from '../tasks/github-source.js';

export interface Claims {
  /** Takes the lease (re-using a still-live one, so that adopted workers keep their claims). Never throws. */
  start(): Promise<void>;
  /**
   * One tick's planning: folds the fleet into the state (committing that), then plans, and keeps
   * only the spawn orders whose claim etcd granted (claim first; the caller saves, then spawns).
   */
  plan(planner: (s: WardenState) => TickResult): Promise<TickResult>;
  /** An attempt's outcome is saved locally: publish it and delete its claim, if the claim is still ours. */
  released(taskId: string, state: WardenState): void;
  /** Shutdown: finish the releases in flight, then give the lease back (unless workers are left running). */
  stop(keepWorkers: boolean): Promise<void>;
  /** [fleet] with [source.github]: the fleet's one elected poller feeds `onResult` (src/fleet/poller.ts). */
  issueSource?(settings: GithubSettings, gh: GhOptions, onResult: (r: GhResult<GithubIssue[]>) => void): IssueSource;
  /** [fleet]: what /metrics shows of the fleet. */
  gauges?(): FleetGauges;
  /**
   * `warden pause`/`resume`: for the whole fleet (`node` null) or one node. `local` applies it to this
   * node's state and gives the answer; a fleet node first writes it to etcd (src/fleet/shared-pauses.ts).
   */
  operator(cmd: 'pause' | 'resume', node: string | null, local: () => unknown): Promise<unknown>;
  /**
   * `warden task cancel|retry|remove|priority`. `local` applies it to this node's state and gives the
   * answer; a fleet node first changes the task's shared record (src/fleet/shared-tasks.ts).
   */
  taskCommand(id: string, req: TaskCommandRequest, local: () => TaskAnswer): TaskAnswer;
}

type TaskAnswer = TaskCommandAnswer | Promise<TaskCommandAnswer>;

/** The fleet as one node sees it, for /metrics (src/control/metrics.ts). */
export interface FleetGauges {
  /** The lease is renewed and sound: this node may claim. */
  leaseOk: boolean;
  /** Claims this node holds; claims of the whole fleet and live nodes at its last read of etcd (null before one). */
  claimsHere: number;
  claimsFleet: number | null;
  nodes: number | null;
  /** This node is the elected GitHub poller. */
  poller: boolean;
}

/** A `warden pause`/`resume` that cannot be done; `status` is the control API's answer (4xx: the request, 5xx: etcd). */
export class OperatorRefused extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** One warden on its own: nothing to claim, nothing to publish. */
export class SingleNode implements Claims {
  constructor(private readonly hooks: Pick<FleetHooks, 'state'>) {}
  async start(): Promise<void> {}
  async plan(planner: (s: WardenState) => TickResult): Promise<TickResult> {
    return planner(this.hooks.state());
  }
  released(): void {}
  async stop(): Promise<void> {}
  async operator(_cmd: 'pause' | 'resume', node: string | null, local: () => unknown): Promise<unknown> {
    if (node !== null) throw new OperatorRefused('--node needs a [fleet] table in the config (this warden is a single node)', 400);
    return local();
  }
  taskCommand(_id: string, _req: TaskCommandRequest, local: () => TaskAnswer): TaskAnswer {
    return local();
  }
}

/** What a fleet node needs from the daemon. */
export interface FleetHooks {
  /** `fence` stops these workers (or all) at once: TERM, KILL after `graceMs`; their attempts are interrupted. */
  workers: {
    fence(taskIds: readonly string[] | 'all', graceMs: number): void;
    /** A task cancelled on another node: its worker here stops (TERM, then KILL after stop_grace); resolves once its exit is recorded. */
    stopForCancel(taskId: string, reason: string): Promise<boolean>;
  };
  /** Writes a task's prompt where the queue's ingest writes one; its path, or null (it said why; tried again later). */
  prompts: { writePrompt(taskId: string, text: string): string | null };
  requestTick(): void;
  /** The supervisor's current state, and its commit (save, then record the events). */
  state(): WardenState;
  commit(next: WardenState, events: CoreEvent[]): void;
  /** The decision core's settings now (the breaker and the daily budget are merged with the fleet's). */
  settings(): CoreSettings;
}
