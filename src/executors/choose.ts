// Picks the executor: `auto` means systemd scopes when systemd is PID 1, else direct.
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { memoryController, PI_CMDLINE_HINT } from '../systemd/cgroups.js';
import { DirectExecutor } from './direct.js';
import { SystemdExecutor } from './systemd-scope.js';
import type { Executor } from './types.js';
import { lookupUser } from './users.js';

export function systemdIsPid1(): boolean {
  try {
    return readFileSync('/proc/1/comm', 'latin1').trim() === 'systemd' && existsSync('/run/systemd/system');
  } catch {
    return false;
  }
}

export interface ExecutorChoice {
  executor: Executor;
  /** Loud warnings to log at start (and show in status): limits not enforced, and why. */
  warnings: string[];
}

export function chooseExecutor(config: Config, configPath: string): ExecutorChoice {
  const wanted = config.executor.kind;
  const kind = wanted === 'auto' ? (systemdIsPid1() ? 'systemd' : 'direct') : wanted;
  switch (kind) {
    case 'direct':
      return {
        executor: new DirectExecutor(),
        warnings: [
          `executor "direct"${wanted === 'auto' ? ' (systemd is not PID 1)' : ''}: worker memory_max and cpu_quota are NOT enforced; a runaway worker can exhaust this host`,
        ],
      };
    case 'systemd': {
      if (!systemdIsPid1()) {
        throw new ConfigError([{ file: configPath, key: 'executor.kind', message: 'executor "systemd" needs systemd as PID 1 on this host; use "auto" or "direct"' }]);
      }
      let user = null;
      if (config.worker.user !== 'root') {
        user = lookupUser(config.worker.user);
        if (!user) {
          throw new ConfigError([
            {
              file: configPath,
              key: 'worker.user',
              message: `user "${config.worker.user}" does not exist on this host: create it (useradd --system --user-group --no-create-home ${config.worker.user}) or set worker.user; workers run as root only with worker.user = "root"`,
            },
          ]);
        }
      }
      const mem = memoryController();
      const warnings: string[] = [];
      if (!mem.enabled) warnings.push(`worker memory_max is NOT enforced: ${mem.why}. On a Raspberry Pi, ${PI_CMDLINE_HINT}`);
      if (user === null) warnings.push('workers run as root (worker.user = "root")');
      return {
        executor: new SystemdExecutor({ user, maxRuntimeMs: config.worker.maxRuntime, stopGraceMs: config.worker.stopGrace, memoryEnforced: mem.enabled }),
        warnings,
      };
    }
  }
}
