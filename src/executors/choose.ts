// Picks the executor: `auto` means systemd when systemd is PID 1, else direct; the systemd
// executor runs scopes, or sandboxed services with `[executor] sandbox = true`.
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { readOrNull } from '../host/read-file.js';
import { meminfoField } from '../admission/sample.js';
import {
  cgroupMode,
  memoryControllerFrom,
  PI_CMDLINE_HINT,
  readCgroupFiles,
  type CgroupFiles,
  type MemoryControllerState,
} from '../systemd/cgroups.js';
import { DirectExecutor } from './direct.js';
import { sandboxGaps } from './sandbox.js';
import { SystemdExecutor } from './systemd-scope.js';
import { SandboxedExecutor, type SandboxOptions } from './systemd-service.js';
import type { Executor } from './types.js';
import { lookupUser } from '../host/users.js';

export function systemdIsPid1(): boolean {
  try {
    return readFileSync('/proc/1/comm', 'latin1').trim() === 'systemd' && existsSync('/run/systemd/system');
  } catch {
    return false;
  }
}

/** Swap is on and the cgroup hierarchy is v1 or hybrid (see HostForExecutor.swapUncapped). */
function swapUncapped(cgroups: CgroupFiles): boolean {
  return cgroupMode(cgroups) !== 'v2' && (meminfoField(readOrNull('/proc/meminfo') ?? '', 'SwapTotal') ?? 0) > 0;
}

export interface ExecutorChoice {
  executor: Executor;
  /** Loud warnings to log at start (and show in status): limits not enforced, and why. */
  warnings: string[];
}

export interface HostForExecutor {
  systemdPid1: boolean;
  memory: MemoryControllerState;
  /**
   * cgroup v1 (or hybrid) with swap on: systemd applies MemorySwapMax only on cgroup v2, so a
   * worker at memory_max swaps instead of being OOM-killed (checked on systemd 252, hybrid).
   */
  swapUncapped?: boolean;
}

export type ExecutorPlan = { kind: 'direct'; warnings: string[] } | { kind: 'systemd'; warnings: string[]; memoryEnforced: boolean };

/**
 * Which executor runs the workers on this host, as a pure decision. Without a usable memory
 * controller the systemd executor is refused (a config-class error, exit 78) unless
 * `[executor] allow_unenforced_limits = true`: MemoryMax would be accepted and do nothing, and a
 * supervisor that exists to cap runaway workers must not run them uncapped silently.
 */
export function planExecutor(config: Config, configPath: string, host: HostForExecutor): ExecutorPlan {
  const wanted = config.executor.kind;
  const kind = wanted === 'auto' ? (host.systemdPid1 ? 'systemd' : 'direct') : wanted;
  switch (kind) {
    case 'direct':
      return {
        kind,
        warnings: [
          `executor "direct"${wanted === 'auto' ? ' (systemd is not PID 1)' : ''}: worker memory_max and cpu_quota are NOT enforced; a runaway worker can exhaust this host`,
          ...(config.executor.sandbox ? ['[executor] sandbox = true needs the systemd executor: workers are NOT confined'] : []),
        ],
      };
    case 'systemd': {
      if (!host.systemdPid1) {
        throw new ConfigError([
          {
            file: configPath,
            key: 'executor.kind',
            message: 'executor "systemd" needs systemd as PID 1 on this host; use "auto" or "direct"',
          },
        ]);
      }
      const warnings: string[] = [];
      if (!host.memory.enabled) {
        if (!config.executor.allow_unenforced_limits) {
          throw new ConfigError([
            {
              file: configPath,
              key: 'executor.kind',
              message:
                `refusing the systemd executor${wanted === 'auto' ? ' (chosen by "auto")' : ''}: worker memory_max would NOT be enforced (${host.memory.why}). ` +
                `Fix: turn the memory controller on (Raspberry Pi: sudo install.sh --fix-cmdline, or ${PI_CMDLINE_HINT}); ` +
                'or, to run workers without memory caps on purpose, set allow_unenforced_limits = true in [executor]',
            },
          ]);
        }
        warnings.push(
          `worker memory_max is NOT enforced: ${host.memory.why} (allowed by [executor] allow_unenforced_limits = true). On a Raspberry Pi, ${PI_CMDLINE_HINT}`,
        );
      }
      if (host.memory.enabled && host.swapUncapped) {
        warnings.push(
          'worker swap is NOT capped: on cgroup v1 systemd ignores MemorySwapMax=0, so a worker at memory_max pushes its memory to swap instead of being OOM-killed (slow, and it wears an SD card). Turn swap off, or boot with the unified cgroup hierarchy (systemd.unified_cgroup_hierarchy=1)',
        );
      }
      return { kind, warnings, memoryEnforced: host.memory.enabled };
    }
  }
}

export function chooseExecutor(config: Config, configPath: string): ExecutorChoice {
  const cgroups = readCgroupFiles();
  const plan = planExecutor(config, configPath, {
    systemdPid1: systemdIsPid1(),
    memory: memoryControllerFrom(cgroups),
    swapUncapped: swapUncapped(cgroups),
  });
  if (plan.kind === 'direct') return { executor: new DirectExecutor({ stopGraceMs: config.worker.stop_grace }), warnings: plan.warnings };
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
  const warnings = [...plan.warnings];
  if (user === null) warnings.push('workers run as root (worker.user = "root")');
  const opts = {
    user,
    maxRuntimeMs: config.worker.max_runtime,
    stopGraceMs: config.worker.stop_grace,
    memoryEnforced: plan.memoryEnforced,
  };
  if (!config.executor.sandbox) return { executor: new SystemdExecutor(opts), warnings };
  return { executor: new SandboxedExecutor(opts, sandboxOptions(config, configPath, sandboxGaps(cgroupMode(cgroups)))), warnings };
}

/** The sandbox of every attempt, from the config: what is hidden, what stays writable, the limits. */
export function sandboxOptions(config: Config, configPath: string, gaps: readonly string[]): SandboxOptions {
  const w = config.worker;
  return {
    stateDir: config.supervisor.state_dir,
    worktreeBase: config.worktree?.base_dir ?? null,
    repo: config.worktree?.repo ?? null,
    writable: w.writable_paths,
    // the socket, token and env files may live outside state_dir and /etc/warden
    inaccessible: [
      ...new Set([
        '/etc/warden',
        configPath,
        config.control.socket,
        w.env_file,
        ...(config.alerts.ntfy_token_file ? [config.alerts.ntfy_token_file] : []),
      ]),
    ],
    limits: { fileSizeMax: w.file_size_max, denyNetworks: w.deny_networks, envFile: w.env_file },
    gaps,
  };
}
