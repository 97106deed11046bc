// `warden run`: the daemon. Its own module so that the other commands never load the supervisor,
// the executors, alerts and jobs (src/cli/main.ts imports this only for `run`).
import type { HostSample } from '../admission/evaluate.js';
import { hostProc, sampleHost } from '../admission/sample.js';
import { createDispatcher } from '../alerts/channels.js';
import type { LoadedConfig } from '../config/load.js';
import { chooseExecutor } from '../executors/choose.js';
import { CronJobs } from '../jobs/cron.js';
import { daemonJobs, DigestReporter } from '../jobs/digest.js';
import { createLogger } from '../log/logger.js';
import { grantGroupAccess } from '../state/group-access.js';
import { acquireStateLock } from '../state/lock.js';
import { createConfigReloader } from '../supervisor/config-reload.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { createNotifier } from '../systemd/notify.js';
import { DEFAULT_GH } from '../tasks/github.js';
import { GitWorkspace } from '../worktree/workspace.js';

export async function run(loaded: LoadedConfig, version: string): Promise<number> {
  // First of all, before anything is logged, read or adopted: one daemon per state directory
  // (src/state/lock.ts). Held until the process ends; the kernel drops it even on kill -9.
  await acquireStateLock(loaded.config.supervisor.state_dir);
  const log = createLogger({ level: process.env.WARDEN_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  const { executor, warnings } = chooseExecutor(loaded.config, loaded.path);
  const notifier = createNotifier(process.env, 'systemd-notify', (m) => log.warn(m));
  const alerts = createDispatcher(loaded.config, loaded.path, log);
  const jobs = new CronJobs(log);
  let digest: DigestReporter | null = null;
  // SIGHUP and POST /reload (`warden reload`, the unit's ExecReload): the same reload, one verdict
  const reloadConfig = createConfigReloader({
    path: loaded.path,
    supervisor: () => supervisor,
    alerts,
    jobs,
    digest: () => digest,
    log,
    notifier,
  });
  const supervisor: Supervisor = new Supervisor({
    loaded,
    executor,
    executorWarnings: warnings,
    log,
    notifier,
    version,
    debugStallSignal: process.env.WARDEN_DEBUG_STALL === '1',
    sample: fixtureHostSample(process.env),
    workspace: loaded.config.worktree ? new GitWorkspace(loaded.config.worktree, DEFAULT_GH, log) : undefined,
    alerts,
    reloadConfig,
    // [fleet] only: the fleet code, and the etcd client it loads, stay out of a single node's memory
    claims: loaded.config.fleet ? (await import('../fleet/node.js')).fleetClaims(loaded.config, log, version) : undefined,
  });
  process.on('SIGHUP', () => reloadConfig());
  await supervisor.start(); // the state file exists from here on
  grantGroupAccess(
    loaded.config.supervisor.state_dir,
    loaded.config.control.group,
    log,
    executor.kind === 'systemd' ? loaded.config.worker.user : null,
  );
  digest = new DigestReporter(supervisor, alerts);
  jobs.replace(daemonJobs(loaded.config, digest));
  // SIGTERM and SIGINT belong to terminus on the control server (src/control/server.ts): it runs
  // Supervisor.shutdown, closes the socket and exits 0, or 1 if the shutdown failed. That is the
  // only way out of `run`, so this promise never settles.
  return new Promise<number>(() => {});
}

/**
 * Tests point the host sample at fixture trees: WARDEN_SYSFS_ROOT for the hardware signals (a hot
 * SoC, an under-volted Pi), WARDEN_PROC_ROOT for meminfo, loadavg and PSI (a 2 GB Pi).
 */
function fixtureHostSample(env: NodeJS.ProcessEnv): ((now: number) => HostSample) | undefined {
  const [sysRoot, procRoot] = [env.WARDEN_SYSFS_ROOT, env.WARDEN_PROC_ROOT];
  if (!sysRoot && !procRoot) return undefined;
  const src = { ...hostProc, sysRoot: sysRoot || hostProc.sysRoot, procRoot: procRoot || hostProc.procRoot };
  return (now) => sampleHost(now, src);
}
