// What a sandboxed worker may touch: the systemd execution settings of its transient service, as one
// declared table (CONFINEMENT) plus the per-attempt paths and limits. Pure: the executor turns the
// result into `-p` arguments, `warden doctor` scores it with `systemd-analyze security`, and the
// README's "What a worker can and cannot touch" table is checked against CONFINEMENT.
//
// Paths: ProtectSystem=strict makes the whole tree read-only. What the worker may write (its
// worktree, its HOME, its two run files, the repository's git directory, writable_paths) is bound
// onto itself with BindPaths=, not listed in ReadWritePaths=: the directories that hold the other
// tasks' files (state_dir, worktree.base_dir) are replaced by an empty read-only tmpfs
// (TemporaryFileSystem=), and systemd can re-open a path below such a tmpfs only with a bind mount
// (ReadWritePaths= there fails with ENOENT; checked on systemd 252). A bind also works where
// nothing is hidden, so every writable path takes the same route.
import type { CgroupMode } from '../systemd/cgroups.js';

export interface ConfinementRow {
  /** The systemd setting, as written in a unit. */
  setting: string;
  value: string;
  /** What it keeps from the worker, in the README's words. */
  why: string;
}

/** The settings every sandboxed attempt gets, whatever its paths. */
export const CONFINEMENT: readonly ConfinementRow[] = [
  { setting: 'ProtectSystem', value: 'strict', why: 'the whole file system is read-only, /usr, /etc and /var included' },
  { setting: 'ProtectHome', value: 'tmpfs', why: "/home, /root and /run/user are empty: other users' homes are hidden" },
  { setting: 'PrivateTmp', value: 'yes', why: 'its own /tmp and /var/tmp, removed with the attempt' },
  { setting: 'PrivateDevices', value: 'yes', why: 'no hardware devices (SD card, GPIO, /dev/mem)' },
  {
    setting: 'NoNewPrivileges',
    value: 'yes',
    why: 'setuid and file capabilities are ignored: sudo, su, a planted setuid helper gain nothing',
  },
  { setting: 'CapabilityBoundingSet', value: '', why: 'no capability at all, even when worker.user is root' },
  { setting: 'RestrictSUIDSGID', value: 'yes', why: 'cannot create setuid or setgid files' },
  { setting: 'ProtectKernelTunables', value: 'yes', why: '/proc/sys and /sys are read-only' },
  { setting: 'ProtectKernelModules', value: 'yes', why: 'cannot load kernel modules' },
  { setting: 'ProtectKernelLogs', value: 'yes', why: 'cannot read the kernel log' },
  { setting: 'ProtectControlGroups', value: 'yes', why: 'cannot change its own or any cgroup limits' },
  { setting: 'ProtectClock', value: 'yes', why: 'cannot set the clock' },
  { setting: 'ProtectHostname', value: 'yes', why: 'cannot change the host name' },
  { setting: 'ProtectProc', value: 'invisible', why: "other users' processes (warden's included) are invisible in /proc" },
  { setting: 'LockPersonality', value: 'yes', why: 'cannot change the execution domain' },
  { setting: 'RestrictNamespaces', value: 'yes', why: 'cannot create namespaces (no unshare, no user namespace tricks)' },
  { setting: 'RestrictRealtime', value: 'yes', why: 'cannot take realtime scheduling from warden and sshd' },
  {
    setting: 'RestrictAddressFamilies',
    value: 'AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    why: 'sockets: local, IP and netlink (interface lists) only; no raw packets, no Bluetooth',
  },
  {
    setting: 'SystemCallFilter',
    value: '@system-service',
    why: 'only the system calls an ordinary service needs (no mount, reboot, kexec, ptrace of others)',
  },
  {
    setting: 'SystemCallErrorNumber',
    value: 'EPERM',
    why: 'a call outside the filter fails instead of killing the worker: Node.js 20 made one at start and died of SIGSYS without this (systemd 252)',
  },
  { setting: 'SystemCallArchitectures', value: 'native', why: 'no 32-bit system call entry to slip past the filter' },
];

/** Inputs that vary per attempt (and per config). All paths are absolute. */
export interface SandboxPaths {
  /** The worktree (the worker's cwd): writable. */
  worktree: string;
  /** The per-task HOME: writable. */
  home: string;
  /** The attempt's run files (`<runBase>.pid`, `<runBase>.exit`): writable, the only ones of run/. */
  runFiles: readonly string[];
  /** The prompt file: readable only. */
  promptFile: string;
  /** [fleet] the heartbeat's directory, which the dead man's switch reads: readable only. */
  readOnlyDirs?: readonly string[];
  /** The repository's git directory (objects, refs, worktrees/<task>): writable, or null without [worktree]. */
  gitDir: string | null;
  /** Owner-listed extra writable directories ([worker] writable_paths). */
  writable: readonly string[];
  /** Directories replaced by an empty read-only tmpfs: state_dir, worktree.base_dir. */
  hiddenDirs: readonly string[];
  /** Files and directories made inaccessible: /etc/warden, the config file, the control socket, secrets. */
  inaccessible: readonly string[];
}

export interface SandboxLimits {
  tasksMax: number;
  fileSizeMax: number;
  /** Networks denied besides loopback ([worker] deny_networks). */
  denyNetworks: readonly string[];
  /** An EnvironmentFile= read by systemd before the sandbox starts (the worker's secrets); null: none. */
  envFile: string | null;
}

/** The networks every sandboxed worker is denied: loopback (warden's TCP port, local services). */
export const ALWAYS_DENIED = ['localhost'];

/** `Setting=value` pairs for one sandboxed attempt, in the order systemd-run gets them. */
export function sandboxProperties(p: SandboxPaths, l: SandboxLimits): string[] {
  const out = CONFINEMENT.map((r) => `${r.setting}=${r.value}`);
  out.push(`TasksMax=${l.tasksMax}`, `LimitFSIZE=${l.fileSizeMax}`);
  for (const dir of p.hiddenDirs) out.push(`TemporaryFileSystem=${dir}:ro`);
  const writable = [p.worktree, p.home, ...p.runFiles, ...(p.gitDir ? [p.gitDir] : []), ...p.writable];
  // a missing extra path ("-") must not keep the worker from starting; the worker's own must exist
  for (const path of writable) out.push(`BindPaths=${p.writable.includes(path) ? '-' : ''}${path}`);
  out.push(`BindReadOnlyPaths=${p.promptFile}`);
  for (const dir of p.readOnlyDirs ?? []) out.push(`BindReadOnlyPaths=${dir}`);
  // "-": a path that does not exist is nothing to hide (a config elsewhere than /etc/warden)
  for (const path of p.inaccessible) out.push(`InaccessiblePaths=-${path}`);
  out.push(`IPAddressDeny=${[...ALWAYS_DENIED, ...l.denyNetworks].join(' ')}`);
  if (l.envFile !== null) out.push(`EnvironmentFile=-${l.envFile}`);
  return out;
}

/**
 * What this host cannot enforce of the sandbox. IPAddressDeny= is a BPF program systemd attaches
 * to the unit's cgroup, and systemd does that only when its own hierarchy is the unified one (v2):
 * on hybrid or v1 it accepts the setting and enforces nothing.
 */
export function sandboxGaps(mode: CgroupMode): string[] {
  return mode === 'v2' ? [] : [`IPAddressDeny needs cgroup v2 (this host: ${mode}); loopback and deny_networks are reachable`];
}

/** The one line status, doctor and the log show: `sandbox: on`, `sandbox: partial: ...`, `sandbox: off`. */
export function sandboxLine(on: boolean, gaps: readonly string[]): string {
  if (!on) return 'sandbox: off';
  return gaps.length === 0 ? 'sandbox: on' : `sandbox: partial: ${gaps.join('; ')}`;
}

/** The environment a sandboxed worker inherits from warden; secrets come from the EnvironmentFile only. */
export function sandboxEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (PASSED_ENV.test(k)) out[k] = v;
  return out;
}

// Unit properties (Environment= included) are readable by every local user over D-Bus
// (`systemctl show`): warden's own secrets must not become the transient unit's Environment=.
const PASSED_ENV = /^(PATH|LANG|LANGUAGE|LC_[A-Z_]+|TZ|TERM|NO_COLOR|WARDEN_[A-Z_]+)$/;
