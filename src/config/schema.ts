// The config file's schema. Every table is strict: an unknown key (a typo) is an error and never
// silently falls back to a default. Sizes and durations are parsed here and range-checked, so the
// rest of warden only ever sees bytes and milliseconds.
import cron from 'node-cron';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { z } from 'zod';
import { cronProblem } from '../jobs/cron.js';
import type { BackoffSettings } from '../policy/backoff.js';
import { FAILURE_KINDS, type FailureKind } from '../policy/failure-kind.js';
import { formatDuration, formatSize, parseDuration, parseSize, type ParseResult } from './units.js';

/** A unix socket path fits in sun_path (108 bytes) with its terminating NUL: 107 bytes. */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Directories shared with the rest of the system, refused as state_dir: warden makes its
 * queue/, worktrees/ and state files there and removes what it made. Also anything under the
 * kernel's virtual filesystems. Checked on the path as written (no symlink is resolved).
 */
const SHARED_DIRS = new Set([
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib64',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/usr/local',
  '/var',
  '/var/lib',
  '/var/tmp',
]);

/** The path with `.`, `..` and repeated or trailing slashes resolved (lexically). */
function normalizeDir(p: string): string {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

/** Why `p` cannot be a state_dir, or null. */
export function stateDirProblem(p: string): string | null {
  const dir = normalizeDir(p);
  if (SHARED_DIRS.has(dir)) return `${dir} is a directory shared with the rest of the system; give warden its own, e.g. "/var/lib/warden"`;
  if (/^\/(proc|sys|dev)\//.test(dir))
    return `${dir} is on a kernel virtual filesystem; give warden its own directory, e.g. "/var/lib/warden"`;
  return null;
}

/** An absolute path: a string that starts with `/` and holds no NUL byte (which no system call takes). */
function absolutePath(error = 'expected an absolute path') {
  return z
    .string({ error })
    .refine((p) => p.startsWith('/'), { message: 'expected an absolute path' })
    .refine((p) => !p.includes('\0'), { message: 'a path cannot contain a NUL byte' });
}

function socketPathProblem(p: string): string | null {
  const bytes = Buffer.byteLength(p, 'utf8');
  return bytes > MAX_SOCKET_PATH_BYTES
    ? `the control socket path ${p} is ${bytes} bytes, over the ${MAX_SOCKET_PATH_BYTES}-byte limit of a unix socket path`
    : null;
}

/** An address or network systemd's IPAddressDeny= takes: `10.0.0.0/8`, `fd00::/8`, `192.168.1.7`. */
function ipNetwork() {
  return z.string({ error: 'expected a network like "192.168.1.0/24"' }).refine(
    (text) => {
      const [addr = '', prefix, ...rest] = text.split('/');
      const family = isIP(addr);
      if (family === 0 || rest.length > 0) return false;
      if (prefix === undefined) return true;
      return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
    },
    { message: 'expected an IP address or network like "192.168.1.0/24" or "fd00::/8"' },
  );
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Parses a unit string and range-checks the result, as a zod transform. */
function unitIn(what: string, parse: (t: string) => ParseResult, format: (n: number) => string, min: number, max: number) {
  return (text: string, ctx: z.core.$RefinementCtx<string>): number => {
    const r = parse(text);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.error });
      return z.NEVER;
    }
    if (r.value < min || r.value > max) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a ${what} between ${format(min)} and ${format(max)}, got ${JSON.stringify(text)}`,
      });
      return z.NEVER;
    }
    return r.value;
  };
}

const durationIn = (min: number, max: number) => unitIn('duration', parseDuration, formatDuration, min, max);

const durationText = () => z.string({ error: 'expected a duration string like "10s", "5m" or "2h"' });

function duration(def: string, min: number, max: number) {
  return durationText().default(def).transform(durationIn(min, max));
}

/** A duration with no default of its own: absent stays undefined (zod 4 would apply an inner
 * `.default()` even under `.optional()`, which overrode per-kind backoff defaults). */
function optionalDuration(min: number, max: number) {
  return durationText().transform(durationIn(min, max)).optional();
}

function size(def: string, min: number, max: number) {
  return z
    .string({ error: 'expected a size string like "512M" or "2G"' })
    .default(def)
    .transform(unitIn('size', parseSize, formatSize, min, max));
}

/** An optional key whose absence is `null` in the output (never `undefined`), so that code tests one value. */
function orNull<T extends z.ZodType>(schema: T) {
  return schema.optional().transform((v): z.output<T> | null => v ?? null);
}

const percent = (def: string, max: number) =>
  z
    .string({ error: 'expected a percentage string like "100%"' })
    .default(def)
    .transform((text, ctx) => {
      const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
      const v = m ? Number(m[1]) : NaN;
      if (!m || v <= 0 || v > max) {
        ctx.addIssue({ code: 'custom', message: `expected a percentage between 1% and ${max}% like "100%", got ${JSON.stringify(text)}` });
        return z.NEVER;
      }
      return v;
    });

// zod 4 applies a schema's own `error` to its checks too, so min/max carry their own message:
// without it, `max_concurrent_workers = 0` was reported as "expected an integer".
const int = (def: number, min: number, max: number) => {
  const range = { error: `expected an integer between ${min} and ${max}` };
  return z.number({ error: 'expected an integer' }).int({ error: 'expected an integer' }).min(min, range).max(max, range).default(def);
};

const num = (def: number, min: number, max: number) => {
  const range = { error: `expected a number between ${min} and ${max}` };
  return z.number({ error: 'expected a number' }).min(min, range).max(max, range).default(def);
};

// The prompt reaches `claude -p` on stdin (from {prompt_file}); its stream-json output carries the
// worker's own verdict (src/verdict).
export const DEFAULT_WORKER_COMMAND = [
  'claude',
  '-p',
  '--output-format',
  'stream-json',
  '--verbose',
  '--permission-mode',
  '{permission_mode}',
];

const supervisorSchema = z.strictObject({
  max_concurrent_workers: int(1, 1, 64),
  min_spawn_interval: duration('10s', 0, HOUR),
  state_dir: absolutePath('expected the absolute path of the state directory, e.g. "/var/lib/warden"').superRefine((p, ctx) => {
    const problem = stateDirProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  poll_interval: duration('30s', 100, DAY),
  // what the workers may report spending per local day before spawning pauses (reason `budget`)
  max_daily_cost_usd: orNull(
    z.number({ error: 'expected a number of US dollars, e.g. 20' }).positive({ error: 'expected a positive number of US dollars' }),
  ),
});

const workerSchema = z.strictObject({
  command: z
    .array(z.string().min(1, { error: 'expected a non-empty argument' }), {
      error: 'expected an argv array of strings, e.g. ["claude", "-p"]',
    })
    .min(1, { error: 'expected at least the program to run' })
    .default(DEFAULT_WORKER_COMMAND),
  memory_max: size('2G', 16 * MiB, 1024 * GiB),
  cpu_quota: percent('100%', 12800),
  max_runtime: duration('2h', SECOND, 7 * DAY),
  startup_window: duration('10s', 0, HOUR),
  max_attempts: int(3, 1, 100),
  stop_grace: duration('10s', 0, 10 * MINUTE),
  // systemd executor: workers run as this user; "root" only when written here explicitly
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*\$?$/i, { error: 'expected a user name like "warden"' })
    .default('warden'),
  // Claude Code's --permission-mode for headless runs; the default command passes it
  permission_mode: z
    .enum(['acceptEdits', 'bypassPermissions', 'default', 'plan'], {
      error: 'expected one of "acceptEdits", "bypassPermissions", "default", "plan"',
    })
    .default('acceptEdits'),
  // the attempt logs of one task together; the oldest attempts' logs are removed first
  log_max: size('10M', 64 * 1024, 10 * GiB),
  // no stream-json event for this long: warden stops the worker and the attempt is `stalled`
  stall_after: duration('10m', 500, DAY),
  // a usage limit whose message names no reset time pauses spawning this long
  usage_limit_wait: duration('1h', SECOND, 7 * DAY),
  // a retry after stalled, api_error or usage_limit continues the worker's last session
  // (Claude Code's `--resume <session id>` is appended to the command)
  resume_sessions: z.boolean({ error: 'expected true or false' }).default(false),
  // TasksMax= of each worker's unit (processes and threads together): a fork bomb stops here,
  // not at the slice's or the kernel's limit. Claude Code with a build running uses well under 200.
  tasks_max: int(512, 16, 1_000_000),
  // sandboxed workers: LimitFSIZE=, the largest single file a worker may write (a runaway log or
  // output in a loop); the whole card is guarded by min_free_disk
  file_size_max: size('2G', MiB, 1024 * GiB),
  // sandboxed workers: networks denied besides loopback, e.g. the owner's LAN ["192.168.1.0/24"]
  deny_networks: z.array(ipNetwork(), { error: 'expected a list of networks like ["192.168.0.0/16"]' }).default([]),
  // sandboxed workers: the worker's secrets (ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN, GH_TOKEN),
  // read by systemd before the sandbox starts; hidden from the worker on disk. Absent: no secrets.
  env_file: absolutePath().default('/etc/warden/env'),
  // sandboxed workers: more directories a worker may write (a shared package cache, say)
  writable_paths: z.array(absolutePath()).default([]),
});

// No defaults on the fields: a field left out falls back to that kind's default (below), so a
// partial [backoff.startup_error] keeps startup_error's own base/max, not the generic 1m/30m.
const backoffEntry = z.strictObject({
  base: optionalDuration(0, 7 * DAY),
  factor: z
    .number({ error: 'expected a number' })
    .min(1, { error: 'expected a number between 1 and 100' })
    .max(100, { error: 'expected a number between 1 and 100' })
    .optional(),
  max: optionalDuration(0, 30 * DAY),
});

export const DEFAULT_BACKOFF: BackoffSettings = { base: 1 * MINUTE, factor: 2, max: 30 * MINUTE };
export const DEFAULT_BACKOFF_BY_KIND: Partial<Record<FailureKind, BackoffSettings>> = {
  startup_error: { base: 5 * MINUTE, factor: 2, max: 2 * HOUR },
};

/** [backoff.<kind>] with every field resolved: the table's own value, else that kind's default. */
function backoffFor(kind: FailureKind) {
  const def = DEFAULT_BACKOFF_BY_KIND[kind] ?? DEFAULT_BACKOFF;
  return backoffEntry.optional().transform((over): BackoffSettings => ({
    base: over?.base ?? def.base,
    factor: over?.factor ?? def.factor,
    max: over?.max ?? def.max,
  }));
}

// [backoff.<failure kind>]: only the declared kinds are valid table names.
const backoffSchema = z.strictObject(
  Object.fromEntries(FAILURE_KINDS.map((k) => [k, backoffFor(k)])) as Record<FailureKind, ReturnType<typeof backoffFor>>,
);

const breakerSchema = z.strictObject({
  failures: int(3, 1, 1000),
  window: duration('10m', SECOND, 7 * DAY),
  cooldown: duration('15m', 0, 7 * DAY),
});

const admissionSchema = z.strictObject({
  min_available_memory: size('768M', 0, 1024 * GiB),
  max_load_per_cpu: num(1.5, 0.01, 1000),
  max_memory_pressure: num(20, 0, 100),
  recover_after: duration('2m', 0, DAY),
  // while workers run, sample the host this often between ticks, so that crossing a threshold pauses
  // within about this long rather than at the next tick (0 turns the watch off)
  watch_interval: duration('1s', 0, HOUR).refine((ms) => ms === 0 || ms >= 100, { error: 'expected "0s" (off) or at least "100ms"' }),
  // degrees C; a Pi 4/5 throttles itself at about 80-85, so pause before the firmware does
  max_temperature: num(75, 20, 150),
  // on the filesystems of state_dir and the worktrees; 0 turns the inode check off
  min_free_inodes: int(10000, 0, 1_000_000_000),
});

const executorSchema = z.strictObject({
  kind: z.enum(['auto', 'systemd', 'direct'], { error: 'expected one of "auto", "systemd", "direct"' }).default('auto'),
  // on stop, leave worker scopes running; the next start adopts them
  keep_workers_on_stop: z.boolean({ error: 'expected true or false' }).default(false),
  // without a usable memory controller (Pi kernels ship it off) the systemd executor is refused:
  // MemoryMax would do nothing. This runs workers uncapped anyway, with a loud LIMITS warning.
  allow_unenforced_limits: z.boolean({ error: 'expected true or false' }).default(false),
  // systemd executor: run each attempt as a confined transient service instead of a plain scope
  // (src/executors/sandbox.ts). Off when absent, so that an upgrade keeps what ran; new installs
  // get `true` from examples/config.toml.
  sandbox: z.boolean({ error: 'expected true or false' }).default(false),
});

// The control API has no authentication of its own: the unix socket's mode (0660) and group are
// its access control, and the optional TCP port is read-only and bound to loopback only.
function isLoopback(address: string): boolean {
  if (address === 'localhost' || address === '::1') return true;
  return isIP(address) === 4 && address.startsWith('127.');
}

const controlSchema = z.strictObject({
  // absent: <state_dir>/warden.sock, filled in by configSchema (it needs state_dir)
  socket: absolutePath()
    .superRefine((p, ctx) => {
      const problem = socketPathProblem(p);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  group: orNull(
    z
      .string({ error: 'expected a group name like "warden"' })
      .regex(/^[a-z_][a-z0-9_-]*\$?$/i, { error: 'expected a group name like "warden"' }),
  ),
  port: orNull(
    z
      .number({ error: 'expected a TCP port number' })
      .int({ error: 'expected a TCP port number' })
      .min(1, { error: 'expected a port between 1 and 65535' })
      .max(65535, { error: 'expected a port between 1 and 65535' }),
  ),
  address: z
    .string({ error: 'expected a loopback address' })
    .refine(isLoopback, {
      message: 'expected a loopback address ("127.0.0.1", "::1" or "localhost"): the control API must not be reachable from the network',
    })
    .default('127.0.0.1'),
});

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    // no user:password@ in the URL: it would end up in logs; a token goes in ntfy_token_file
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.pathname.length > 1 && !u.username && !u.password;
  } catch {
    return false;
  }
}

const alertsSchema = z
  .strictObject({
    ntfy_url: orNull(
      z.string({ error: 'expected a URL' }).refine(isHttpUrl, {
        message:
          'expected the http(s) URL of an ntfy server plus topic, e.g. "https://ntfy.sh/my-warden-alerts", with no credentials in it (use ntfy_token_file)',
      }),
    ),
    ntfy_token_file: orNull(absolutePath()),
    notify_send: z.boolean({ error: 'expected true or false' }).default(false),
    session_bus: orNull(z.string({ error: 'expected a D-Bus address like "unix:path=/run/user/1000/bus"' }).min(1)),
    command: orNull(
      z
        .array(z.string().min(1, { error: 'expected a non-empty argument' }), {
          error: 'expected an argv array of strings, e.g. ["/usr/local/bin/page-me"]',
        })
        .min(1, { error: 'expected at least the program to run' }),
    ),
    repeat_after: duration('30m', 0, 7 * DAY),
    retry_attempts: int(8, 1, 100),
    retry_base: duration('5s', 100, HOUR),
    retry_max: duration('5m', 100, DAY),
    timeout: duration('10s', 100, 10 * MINUTE),
    digest: orNull(
      z.string({ error: 'expected a cron expression like "0 8 * * *"' }).superRefine((text, ctx) => {
        const problem = cronProblem(text);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    ),
  })
  .superRefine((a, ctx) => {
    if (a.ntfy_token_file && !a.ntfy_url)
      ctx.addIssue({ code: 'custom', path: ['ntfy_token_file'], message: 'set ntfy_url too: the token is only sent to ntfy' });
    if (a.session_bus && !a.notify_send)
      ctx.addIssue({ code: 'custom', path: ['session_bus'], message: 'set notify_send = true too: the bus is only used by notify-send' });
  });

// A schedule: a duration ("2m": run, then wait that long) or a node-cron expression ("*/5 * * * *").
const schedule = (def: string) =>
  z
    .string({ error: 'expected a duration like "2m" or a cron expression like "*/5 * * * *"' })
    .default(def)
    .transform((text, ctx): Schedule => {
      const d = parseDuration(text);
      if (d.ok) {
        if (d.value < SECOND) {
          ctx.addIssue({ code: 'custom', message: `expected at least 1s, got ${JSON.stringify(text)}` });
          return z.NEVER;
        }
        return { kind: 'every', ms: d.value, text };
      }
      if (!cron.validate(text)) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like "2m" or a valid cron expression, got ${JSON.stringify(text)}` });
        return z.NEVER;
      }
      return { kind: 'cron', expression: text, text };
    });

export type Schedule = { kind: 'every'; ms: number; text: string } | { kind: 'cron'; expression: string; text: string };

export const DEFAULT_PROMPT_TEMPLATE = `You are working on GitHub issue #{number} of {repo}: {title}
{url}

{body}

Work in the current directory, a git worktree on branch {branch}. When the change is done and
tested, commit it, push the branch, and open a pull request from {branch} with \`gh pr create\`.
If you cannot proceed, write the reason to BLOCKED.md in this directory and stop.
`;

const githubSchema = z.strictObject({
  repo: z.string({ error: 'expected "owner/name"' }).regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { error: 'expected "owner/name"' }),
  label: z.string().min(1).default('warden'),
  poll: schedule('2m'),
  priority_labels: z.array(z.string().min(1)).default(['priority:P0', 'priority:P1', 'priority:P2']),
  limit: z.number().int().min(1).max(1000).default(100),
  // a removed label cancels a pending task; with this, a running worker is stopped too
  cancel_running: z.boolean().default(false),
  prompt_template: z.string().min(1).default(DEFAULT_PROMPT_TEMPLATE),
});

const sourceSchema = z.strictObject({
  github: orNull(githubSchema),
});

const worktreeSchema = z.strictObject({
  repo: absolutePath('expected the absolute path of a local clone'),
  base_dir: absolutePath(),
  base: z.string().min(1).default('HEAD'),
  min_free_disk: size('1G', 0, 1024 * GiB),
  keep_failed: int(5, 0, 1000),
  keep_failed_for: duration('7d', 0, 365 * DAY),
  prune: schedule('0 * * * *'),
});

// [fleet]: several wardens share one backlog through etcd (docs/fleet.md). Absent: a single node,
// and the etcd client is never loaded. Credentials come from files and never appear in a log line.
function isEtcdUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.port !== '' && !u.username && !u.password;
  } catch {
    return false;
  }
}

const fleetSchema = z
  .strictObject({
    endpoints: z
      .array(
        z.string({ error: 'expected an etcd client URL' }).refine(isEtcdUrl, {
          message: 'expected an etcd client URL with a port and no credentials, e.g. "https://10.0.0.2:2379"',
        }),
        { error: 'expected a list of etcd client URLs, e.g. ["http://10.0.0.2:2379"]' },
      )
      .min(1, { error: 'expected at least one etcd endpoint' }),
    // the node's name in the fleet: default the host name, filled in by configSchema
    node: z
      .string({ error: 'expected a node name' })
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: 'expected a node name of letters, digits, ".", "_" and "-" (at most 63)' })
      .optional(),
    prefix: z
      .string()
      .regex(/^\/[\x21-\x7e]*\/$/, { error: 'expected a key prefix that starts and ends with "/", e.g. "/warden/"' })
      .default('/warden/'),
    // leases are renewed every lease_ttl/3; see src/fleet/timings.ts for the fencing deadlines
    lease_ttl: duration('30s', 3 * SECOND, 10 * MINUTE),
    // no int(): its default would apply under orNull (zod 4), making 1 the default limit
    max_fleet_workers: orNull(
      z
        .number({ error: 'expected an integer' })
        .int({ error: 'expected an integer' })
        .min(1, { error: 'expected an integer between 1 and 1024' })
        .max(1024, { error: 'expected an integer between 1 and 1024' }),
    ),
    ca_file: orNull(absolutePath()),
    cert_file: orNull(absolutePath()),
    key_file: orNull(absolutePath()),
    username: orNull(z.string().min(1)),
    password_file: orNull(absolutePath()),
  })
  .superRefine((f, ctx) => {
    if ((f.cert_file === null) !== (f.key_file === null))
      ctx.addIssue({ code: 'custom', path: [f.cert_file ? 'key_file' : 'cert_file'], message: 'set cert_file and key_file together' });
    if ((f.cert_file || f.key_file) && !f.ca_file)
      ctx.addIssue({ code: 'custom', path: ['ca_file'], message: 'a client certificate needs ca_file too (TLS to etcd)' });
    if ((f.username === null) !== (f.password_file === null))
      ctx.addIssue({
        code: 'custom',
        path: [f.username ? 'password_file' : 'username'],
        message: 'set username and password_file together',
      });
    if (f.ca_file && f.endpoints.some((e) => e.startsWith('http:')))
      ctx.addIssue({ code: 'custom', path: ['endpoints'], message: 'with ca_file, every endpoint must be https://' });
  });

/** The file's tables as written (snake_case, as in the TOML file and README.md), before the
 * defaults that need more than one table. Exported for the README check and `warden doctor`. */
export const configTables = z.strictObject({
  supervisor: supervisorSchema,
  worker: workerSchema.prefault({}),
  backoff: backoffSchema.prefault({}),
  breaker: breakerSchema.prefault({}),
  admission: admissionSchema.prefault({}),
  executor: executorSchema.prefault({}),
  control: controlSchema.prefault({}),
  alerts: alertsSchema.prefault({}),
  source: sourceSchema.prefault({}),
  worktree: orNull(worktreeSchema),
  fleet: orNull(fleetSchema),
});

/** The config: validates the file and resolves every default, so that its output (bytes,
 * milliseconds, percent; `null` for an absent optional value) is what the rest of warden reads. */
export const configSchema = configTables
  .superRefine((c, ctx) => {
    // the default socket is derived from state_dir, so a long state_dir makes it too long
    const problem = c.control.socket === undefined ? socketPathProblem(defaultSocket(c.supervisor.state_dir)) : null;
    if (problem)
      ctx.addIssue({
        code: 'custom',
        path: ['supervisor', 'state_dir'],
        message: `${problem} (the default <state_dir>/warden.sock); shorten state_dir or set [control] socket`,
      });
  })
  .transform((c) => ({
    ...c,
    control: { ...c.control, socket: c.control.socket ?? defaultSocket(c.supervisor.state_dir) },
    fleet: c.fleet && { ...c.fleet, node: c.fleet.node ?? hostname() },
  }));

function defaultSocket(stateDir: string): string {
  return `${stateDir.replace(/\/+$/, '')}/warden.sock`;
}

/** The validated config with every default resolved. Keys are named as in the config file. */
export type Config = z.output<typeof configSchema>;
