// The systemd executor without a sandbox: each attempt runs in its own transient scope
// `warden-<task>.scope` with MemoryMax, MemorySwapMax=0, CPUQuota, TasksMax and a RuntimeMaxSec
// backstop (warden enforces max_runtime itself; the backstop holds if warden is down).
// systemd-run execs the command itself, so the child we spawn is the worker wrapper inside its
// scope. Scopes take no execution settings (ProtectSystem= and the rest need a service): for the
// confined worker see systemd-service.ts. What both share is in systemd-unit.ts.
import type { ChildProcess } from 'node:child_process';
import { WRAPPER_SCRIPT } from './process-info.js';
import { SystemdUnitExecutor } from './systemd-unit.js';
import type { WorkerSpec } from './types.js';

export class SystemdExecutor extends SystemdUnitExecutor {
  readonly sandbox = 'sandbox: off';
  protected readonly unitType = 'scope';

  unitArgs(spec: WorkerSpec): string[] {
    return ['--scope', ...this.commonArgs(spec), '/bin/sh', '-c', WRAPPER_SCRIPT, spec.runBase, ...spec.argv];
  }

  /** systemd-run exec'd the wrapper in place: its PID is the wrapper's. */
  protected workerPid(child: ChildProcess): number {
    return child.pid as number;
  }
}
