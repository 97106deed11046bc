// The fleet's deadlines, all derived from lease_ttl and measured from the moment the last lease
// renewal that succeeded was *sent* (etcd restarts the TTL when it receives it, which is later, so
// this errs on the early side). Pure. docs/fleet.md explains the fencing window they give.
//
//   0            renewed (keepalive sent, answered with TTL > 0)
//   ttl/3        next renewal (a failed one is retried every ttl/10)
//   0.6 ttl      warden fences: TERM to every worker, KILL after min(stop_grace, ttl/10); no claims.
//                A renewal thus has 0.27 ttl to come back before a fence (a loaded Pi, a slow etcd)
//   0.8 ttl      the dead man's switch in each attempt's wrapper: KILL to the attempt, checked every
//                ttl/20 (at least 0.2 s), even if warden is killed -9 or frozen
//   ttl          etcd expires the lease and its claims; only then can another node claim the task
//
// The switch fires at the latest at 0.85 ttl, leaving 0.15 ttl for the kernel to deliver a
// SIGKILL, for the sleep of the switch's check to overrun, and for the clocks' rates to differ.
export interface FleetTimings {
  renewEvery: number;
  retryEvery: number;
  fenceAfter: number;
  killGraceMax: number;
  switchAfter: number;
  switchCheckEvery: number;
}

export function fleetTimings(leaseTtlMs: number): FleetTimings {
  return {
    renewEvery: Math.floor(leaseTtlMs / 3),
    retryEvery: Math.max(100, Math.floor(leaseTtlMs / 10)),
    fenceAfter: Math.floor(leaseTtlMs * 0.6),
    killGraceMax: Math.floor(leaseTtlMs / 10),
    switchAfter: Math.floor(leaseTtlMs * 0.8),
    switchCheckEvery: Math.max(200, Math.floor(leaseTtlMs / 20)),
  };
}

/** How long systemd's Restart= waits before starting warden again (RestartSec= of the shipped unit). */
export const SHIPPED_RESTART_SEC_MS = 5000;

/**
 * A warden that the watchdog restarts can re-adopt its workers only if its lease outlives the
 * watchdog's timeout plus the restart delay; otherwise the dead man's switch has already killed
 * them. null when lease_ttl is long enough or no watchdog is known.
 */
export function watchdogProblem(leaseTtlMs: number, watchdogMs: number | null, restartMs = SHIPPED_RESTART_SEC_MS): string | null {
  if (watchdogMs === null) return null;
  const needed = watchdogMs + restartMs;
  if (leaseTtlMs > needed) return null;
  return (
    `fleet.lease_ttl (${leaseTtlMs / 1000}s) does not exceed WatchdogSec (${watchdogMs / 1000}s) plus the restart delay ` +
    `(${restartMs / 1000}s): after a watchdog restart the workers are already stopped and their tasks run again elsewhere; ` +
    `raise lease_ttl above ${Math.ceil(needed / 1000)}s`
  );
}
