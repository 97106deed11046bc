// What a Supervisor is built from: the config and the ports to the outside (executor, log,
// notifier, alerts, workspace, gh) plus the clock, the randomness and the host sample, which
// tests replace.
import type { HostSample } from '../admission/evaluate.js';
import type { AlertSink } from '../alerts/dispatcher.js';
import type { LoadedConfig } from '../config/load.js';
import type { Executor } from '../executors/types.js';
import { SingleNode, type Claims, type FleetHooks } from '../fleet/claims.js';
import type { Logger } from '../log/logger.js';
import type { Notifier } from '../systemd/notify.js';
import type { GhOptions } from '../tasks/github.js';
import type { Workspace } from '../worktree/workspace.js';
import type { ReloadResult } from './config-reload.js';

export interface SupervisorDeps {
  loaded: LoadedConfig;
  executor: Executor;
  /** Loud, persistent warnings about the executor (e.g. limits not enforced), from chooseExecutor. */
  executorWarnings?: string[];
  log: Logger;
  notifier: Notifier;
  version: string;
  now?: () => number;
  random?: () => number;
  sample?: (now: number) => HostSample;
  /** Test-only: SIGUSR2 wedges the loop so the watchdog can be shown to fire. */
  debugStallSignal?: boolean;
  /** Alerts: every event is handed over at once; delivery never holds up the loop. */
  alerts?: AlertSink;
  /** Where workers run (plain directory or git worktree); default: plain directories. */
  workspace?: Workspace;
  /** How to run gh (tests put a fake one on PATH). */
  gh?: GhOptions;
  /** The daemon's whole reload (config, alerts, jobs: src/supervisor/config-reload.ts), for POST /reload. */
  reloadConfig?: () => ReloadResult;
  /** [fleet]: claims in etcd before each spawn (src/fleet/node.ts); default: a single node (SingleNode). */
  claims?: (hooks: FleetHooks) => Claims;
}

/** The fleet's claims when [fleet] is set (the factory `warden run` passes), else a single node. */
export function claimsOf(deps: SupervisorDeps, hooks: FleetHooks): Claims {
  return deps.claims?.(hooks) ?? new SingleNode(hooks);
}
