// The one declaration of warden's command line: every command with its words, arguments, options,
// summary, usage and an example. The global usage, `warden <command> --help`, "did you mean", the
// option and argument checks (parse.ts) and the bash completion script (completion.ts) are all
// derived from this table, so none of them can drift from it. The handlers live in main.ts, in a
// record typed by `CommandName`: a row without a handler (or a handler without a row) fails the
// build. They are apart from the rows so that help and completion load no handler code, and the
// heavy handlers (`run`, `doctor`, `alert test`) import their modules only when called.
//
// Adding a command: a row here (keep the order: it is the order of the global usage), its handler
// in main.ts, and its line in README.md's "Command line" block (test/unit/cli/commands.test.ts
// compares the block with `warden help`).

export interface OptionSpec {
  /** The long name, without dashes. The same name has the same meaning (and type) in every command. */
  readonly name: string;
  readonly short?: string;
  /** The value's placeholder (`FILE`, `N`); absent for a flag. */
  readonly value?: string;
  readonly summary: string;
  /** What to complete for the value: file names, or nothing. */
  readonly completeValue?: 'file';
  /** Accepted but not shown in help or completion (the installer's own switches). */
  readonly hidden?: boolean;
}

export interface ArgSpec {
  readonly name: string;
  readonly optional?: boolean;
  /** What to complete: IDs of existing tasks (from `warden tasks --json`). */
  readonly complete?: 'task-id';
}

export interface CommandSpec {
  /** One word, or a group and a subcommand (`task add`). */
  readonly name: string;
  readonly args: readonly ArgSpec[];
  readonly options: readonly OptionSpec[];
  /** What follows the name in the usage line; derived from args and options when absent. */
  readonly usage?: string;
  readonly summary: string;
  /** More lines for `--help`, after the summary. */
  readonly details?: string;
  readonly example: string;
}

const O = {
  json: { name: 'json', summary: 'print JSON instead of text' },
  follow: { name: 'follow', short: 'f', summary: 'keep printing what the newest attempt writes, until interrupted' },
  prompt: { name: 'prompt', value: 'TEXT', summary: 'the prompt, as text' },
  promptFile: { name: 'prompt-file', value: 'FILE', summary: 'the prompt, from a regular file', completeValue: 'file' },
  priority: { name: 'priority', value: 'N', summary: 'from -1000 to 1000, lower runs first (default 2; a negative one as --priority=-5)' },
  state: {
    name: 'state',
    value: 'S[,S]',
    summary: 'only tasks in these states (pending, running, retry_wait, succeeded, dead, blocked, cancelled)',
  },
  failed: { name: 'failed', summary: 'only tasks that failed: dead, blocked and retry_wait' },
  sendTest: { name: 'send-test', summary: 'also send a test alert through each configured channel' },
  readiness: { name: 'readiness', summary: "print only the Pi readiness line (the installer's)", hidden: true },
  sysroot: { name: 'sysroot', value: 'DIR', summary: 'read /proc, /sys and /boot under DIR (tests)', hidden: true, completeValue: 'file' },
  template: { name: 'template', value: 'FILE', summary: 'print this config file with the sized values set', completeValue: 'file' },
  node: { name: 'node', value: 'N', summary: 'with [fleet]: only node N of the fleet (default: every node)' },
} as const satisfies Record<string, OptionSpec>;

/** Options every command takes. */
export const GLOBAL_OPTIONS = [
  {
    name: 'config',
    value: 'FILE',
    summary: 'the config file (else $WARDEN_CONFIG, else /etc/warden/config.toml)',
    completeValue: 'file',
  },
  { name: 'help', short: 'h', summary: "show the command's usage, options and an example" },
  { name: 'version', short: 'V', summary: "print warden's version" },
] as const satisfies readonly OptionSpec[];

export const COMMANDS = [
  {
    name: 'run',
    args: [],
    options: [],
    summary: 'run the supervisor in the foreground (SIGTERM/SIGINT stop it)',
    details: 'Under systemd this is the ExecStart of warden.service; SIGHUP (or `warden reload`) re-reads the config.',
    example: 'warden run --config /etc/warden/config.toml',
  },
  {
    name: 'status',
    args: [],
    options: [O.json],
    summary: 'workers, tasks by state, breaker, pause reason, host sample, config hash',
    example: 'warden status --json',
  },
  {
    name: 'top',
    args: [],
    options: [],
    summary: "live view: workers' memory and CPU, host, pauses, queue, events (q quits)",
    details: 'Refreshes every 2 s from the control socket. Not a terminal (or NO_COLOR): one frame, then exit.',
    example: 'warden top',
  },
  {
    name: 'tasks',
    args: [],
    options: [O.json, O.state, O.failed],
    summary: 'tasks with state, priority, runs, failures, cost and note',
    example: 'warden tasks --failed',
  },
  {
    name: 'task add',
    args: [{ name: 'ID' }],
    options: [O.prompt, O.promptFile, O.priority],
    usage: 'ID (--prompt TEXT | --prompt-file FILE) [--priority N]',
    summary: 'queue a task (works whether or not the daemon runs)',
    details: 'IDs match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$. The prompt: at most 256 KiB of UTF-8, not empty.',
    example: 'warden task add fix-typos --prompt "Fix the typos in README.md" --priority 1',
  },
  {
    name: 'task retry',
    args: [{ name: 'ID', complete: 'task-id' }],
    options: [],
    summary: 'run a dead, blocked, cancelled or retry_wait task again now, attempts reset (history kept)',
    details: 'Through the daemon; when it is down, checked against the state file and queued for its start.',
    example: 'warden task retry gh-12',
  },
  {
    name: 'task cancel',
    args: [{ name: 'ID', complete: 'task-id' }],
    options: [],
    summary: 'cancel a pending or retry_wait task; a running one is stopped first (TERM, then KILL)',
    details: 'A running worker gets SIGTERM, then SIGKILL after [worker] stop_grace; the command returns when none is left.',
    example: 'warden task cancel gh-12',
  },
  {
    name: 'task remove',
    args: [{ name: 'ID', complete: 'task-id' }],
    options: [],
    summary: 'forget a finished task (succeeded, dead, blocked, cancelled); its logs stay',
    example: 'warden task remove gh-12',
  },
  {
    name: 'task priority',
    args: [{ name: 'ID', complete: 'task-id' }, { name: 'N' }],
    options: [],
    summary: 'change the priority of a task that may still run (lower runs first)',
    details: 'A negative N goes after --: warden task priority gh-12 -- -5',
    example: 'warden task priority gh-12 0',
  },
  {
    name: 'task show',
    args: [{ name: 'ID', complete: 'task-id' }],
    options: [O.json],
    summary: 'one task: every attempt with outcome, exit, duration, cost, turns and log; PR URL, blocked reason',
    example: 'warden task show gh-12',
  },
  {
    name: 'logs',
    args: [{ name: 'TASK', complete: 'task-id' }],
    options: [O.follow],
    summary: "the task's attempt logs, oldest first",
    example: 'warden logs gh-12 --follow',
  },
  {
    name: 'pause',
    args: [],
    options: [O.node],
    summary: 'stop spawning (running workers keep running); with [fleet], on every node',
    example: 'warden pause',
  },
  {
    name: 'resume',
    args: [],
    options: [O.node],
    summary: 'clear a manual pause and close an open breaker; with [fleet], on every node',
    details:
      'With [fleet], it also lifts the fleet-wide worker_auth and usage_limit pauses and closes the shared breaker. `--node N` lifts only what `pause --node N` set.',
    example: 'warden resume',
  },
  {
    name: 'reload',
    args: [],
    options: [],
    summary: 're-read the config in the daemon: exit 0, or 78 with one line per problem',
    details:
      "The daemon re-reads the file it was started with (--config only finds the daemon's socket). A rejected config changes nothing: the daemon keeps running the old one. `systemctl reload warden` runs this.",
    example: 'sudo warden reload',
  },
  {
    name: 'config check',
    args: [],
    options: [O.sysroot],
    summary: 'validate the config: exit 0, or 78 with one line per problem',
    details: 'Also 78 when the config can never admit a worker on this host: memory_max + min_available_memory do not fit in MemTotal.',
    example: 'warden config check --config ./warden.toml',
  },
  {
    name: 'config suggest',
    args: [],
    options: [O.template, O.sysroot],
    summary: "memory_max, min_available_memory and max_concurrent_workers sized to this host's MemTotal",
    details: 'install.sh writes a new config with them (--template examples/config.toml).',
    example: 'warden config suggest',
  },
  {
    name: 'alert test',
    args: [],
    options: [],
    summary: 'send a test alert to every configured channel; one line per channel',
    example: 'warden alert test',
  },
  {
    name: 'doctor',
    args: [],
    options: [O.json, O.sendTest, O.readiness, O.sysroot],
    summary: 'check this host, the config and the daemon: pass/warn/fail lines, exit 1 on a fail',
    example: 'sudo warden doctor --send-test',
  },
  {
    name: 'fleet status',
    args: [],
    options: [O.json],
    summary: '[fleet]: the nodes (lease, version, pauses, workers), the claims, the shared keys and the GitHub poller, from etcd',
    details:
      "Reads etcd with the config's [fleet], so it works on any node, with or without its daemon. No [fleet]: exit 78; etcd unreachable: exit 69.",
    example: 'warden fleet status --json',
  },
  {
    name: 'completion bash',
    args: [],
    options: [],
    summary: 'print the bash completion script (install.sh puts it in /etc/bash_completion.d/)',
    example: 'source <(warden completion bash)',
  },
  {
    name: 'version',
    args: [],
    options: [],
    summary: "print warden's version (also --version, -V)",
    example: 'warden version',
  },
] as const satisfies readonly CommandSpec[];

export type CommandName = (typeof COMMANDS)[number]['name'];

/** The first words, in table order, each once (`task`, not `task add`). */
export function topWords(): string[] {
  return [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]!))];
}

/** The subcommands of a group word (`task` -> `add`), or [] for a plain command. */
export function subWords(group: string): string[] {
  return COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.slice(group.length + 1));
}

export function findCommand(name: string): CommandSpec | undefined {
  return (COMMANDS as readonly CommandSpec[]).find((c) => c.name === name);
}

/** A command's options shown in its help and completion, then --config and --help (--version belongs to no command). */
export function visibleOptions(c: CommandSpec): OptionSpec[] {
  return [...c.options, ...GLOBAL_OPTIONS].filter((o: OptionSpec) => !o.hidden && o.name !== 'version');
}

/** Every option of the table, once per name (parse.ts checks they agree). */
export function allOptions(): OptionSpec[] {
  const seen = new Map<string, OptionSpec>();
  for (const o of [...GLOBAL_OPTIONS, ...COMMANDS.flatMap((c) => c.options as readonly OptionSpec[])])
    if (!seen.has(o.name)) seen.set(o.name, o);
  return [...seen.values()];
}

export function optionLabel(o: OptionSpec): string {
  const long = `--${o.name}${o.value ? ` ${o.value}` : ''}`;
  return o.short ? `-${o.short}, ${long}` : long;
}

/** The usage line after `warden`: `task add ID (--prompt TEXT | ...)`. */
export function usageLine(c: CommandSpec): string {
  const derived = [
    ...c.args.map((a) => (a.optional ? `[${a.name}]` : a.name)),
    ...c.options.filter((o: OptionSpec) => !o.hidden).map((o) => `[--${o.name}${o.value ? ` ${o.value}` : ''}]`),
  ].join(' ');
  const rest = c.usage ?? derived;
  return rest ? `${c.name} ${rest}` : c.name;
}
