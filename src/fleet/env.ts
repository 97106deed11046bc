// What a worker of a fleet node finds in its environment: its claim's fencing token (a worker that
// writes somewhere shared can refuse a lower token than one it has seen) and the dead man's switch
// its wrapper runs (src/executors/process-info.ts). Empty without [fleet]. Pure.
import type { Config } from '../config/schema.js';
import type { Task } from '../state/types.js';
import { heartbeatPath } from './heartbeat.js';
import { fleetTimings } from './timings.js';

export function fleetEnv(c: Config, task: Task): Record<string, string> {
  if (!c.fleet) return {};
  const token = task.current?.fencingToken;
  return {
    ...(token !== undefined && { WARDEN_FENCING_TOKEN: token }),
    WARDEN_FLEET_HEARTBEAT: heartbeatPath(c.supervisor.state_dir),
    // seconds, as sleep(1) takes them
    WARDEN_FLEET_CHECK: (fleetTimings(c.fleet.lease_ttl).switchCheckEvery / 1000).toFixed(2),
  };
}
