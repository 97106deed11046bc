// From argv to what to do, by the command table (commands.ts), with no effect: the command and its
// arguments, a help text, the version, or a usage error (exit 2). Every unknown word or option gets
// a "did you mean" from the words the table allows at that point.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  allOptions,
  COMMANDS,
  findCommand,
  GLOBAL_OPTIONS,
  optionLabel,
  subWords,
  topWords,
  usageLine,
  visibleOptions,
  type CommandName,
  type CommandSpec,
} from './commands.js';
import { didYouMean } from './suggest.js';

export type OptionValues = Record<string, string | boolean | undefined>;

export type ParsedCommandLine =
  | { kind: 'command'; name: CommandName; args: string[]; values: OptionValues }
  /** Asked-for help: stdout, exit 0. */
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  /** No command at all: the global usage on stderr, exit 2. */
  | { kind: 'no-command'; text: string }
  /** One line (without the `warden: ` prefix), exit 2. */
  | { kind: 'usage-error'; message: string };

const parseConfig = (strict: boolean): ParseArgsConfig => ({
  allowPositionals: true,
  strict,
  options: Object.fromEntries(
    allOptions().map((o) => [
      o.name,
      { type: o.value ? ('string' as const) : ('boolean' as const), ...(o.short ? { short: o.short } : {}) },
    ]),
  ),
});

export function parseCommandLine(argv: string[]): ParsedCommandLine {
  let values: OptionValues;
  let positionals: string[];
  try {
    const r = parseArgs({ ...parseConfig(true), args: argv });
    [values, positionals] = [{ ...(r.values as OptionValues) }, r.positionals];
  } catch (err) {
    return { kind: 'usage-error', message: argvProblem(err as Error & { code?: string }, argv) };
  }
  if (values.version) return { kind: 'version' };
  const help = values.help === true;
  const words = positionals;
  if (words[0] === 'help') {
    if (words.length === 1) return { kind: 'help', text: globalUsage() };
    return resolve(words.slice(1), true, {}); // `warden help task add`
  }
  if (words.length === 0) return help ? { kind: 'help', text: globalUsage() } : { kind: 'no-command', text: globalUsage() };
  return resolve(words, help, values);
}

function resolve(words: string[], help: boolean, values: OptionValues): ParsedCommandLine {
  const [first = '', second, ...more] = words;
  const tops = topWords();
  if (!tops.includes(first)) return { kind: 'usage-error', message: `unknown command "${first}": ${didYouMean(first, tops)}` };
  const subs = subWords(first);
  let spec: CommandSpec;
  let args: string[];
  if (subs.length) {
    if (second === undefined) {
      if (help) return { kind: 'help', text: groupHelp(first) };
      return { kind: 'usage-error', message: `"${first}" needs a subcommand: ${subs.map((s) => `warden ${first} ${s}`).join(', ')}` };
    }
    if (!subs.includes(second))
      return {
        kind: 'usage-error',
        message: `unknown command "${first} ${second}": ${didYouMean(second, subs, (s) => `"${first} ${s}"`)}`,
      };
    spec = findCommand(`${first} ${second}`)!;
    args = more;
  } else {
    spec = findCommand(first)!;
    args = words.slice(1);
  }
  if (help) return { kind: 'help', text: commandHelp(spec) };
  const problem = optionProblem(spec, values) ?? argumentProblem(spec, args);
  if (problem) return { kind: 'usage-error', message: `${problem}; usage: warden ${usageLine(spec)}` };
  return { kind: 'command', name: spec.name as CommandName, args, values };
}

/** An option of another command: `status --follow`. */
function optionProblem(spec: CommandSpec, values: OptionValues): string | null {
  const allowed = new Set([...spec.options, ...GLOBAL_OPTIONS].map((o) => o.name));
  const stray = Object.keys(values).filter((k) => values[k] !== undefined && !allowed.has(k));
  if (stray.length === 0) return null;
  const names = visibleOptions(spec)
    .filter((o) => !GLOBAL_OPTIONS.some((g) => g.name === o.name))
    .map((o) => `--${o.name}`);
  return `"${spec.name}" takes no --${stray[0]} (${names.length ? `its options: ${names.join(', ')}` : 'it has no options of its own'})`;
}

function argumentProblem(spec: CommandSpec, args: string[]): string | null {
  const required = spec.args.filter((a) => !a.optional);
  if (args.length < required.length) return `"${spec.name}" needs ${required[args.length]!.name}`;
  if (args.length > spec.args.length)
    return `unexpected argument${args.length - spec.args.length > 1 ? 's' : ''}: ${args.slice(spec.args.length).join(' ')}`;
  return null;
}

/** node's parseArgs errors as one line, with "did you mean" for an unknown option. */
function argvProblem(err: Error & { code?: string }, argv: string[]): string {
  const message = err.message.trim().replace(/\s*\n\s*/g, ' ');
  if (err.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return message;
  const option = /'([^']+)'/.exec(message)?.[1] ?? '';
  // which command was meant: the words, read leniently
  const { positionals } = parseArgs({ ...parseConfig(false), args: argv });
  const [first = '', second = ''] = positionals;
  const spec = findCommand(`${first} ${second}`) ?? findCommand(first);
  const options = spec ? visibleOptions(spec) : [...GLOBAL_OPTIONS];
  const name = option.replace(/^-+/, '').replace(/=.*$/, '');
  const hint = didYouMean(
    name,
    options.map((o) => o.name),
    (s) => `--${s}`,
  );
  return `Unknown option '${option}'${spec ? ` for "${spec.name}"` : ''}: ${hint}`;
}

const LEFT = 28;

function row(left: string, right: string, indent = '  '): string {
  const l = `${indent}${left}`;
  return l.length < LEFT ? `${l.padEnd(LEFT)}${right}` : `${l}\n${' '.repeat(LEFT)}${right}`;
}

/** `warden help`, `warden --help`: every command in table order. */
export function globalUsage(): string {
  return [
    'usage: warden <command> [options]',
    '',
    ...COMMANDS.map((c) => row(usageLine(c), c.summary)),
    '',
    ...GLOBAL_OPTIONS.map((o) => row(optionLabel(o), o.summary)),
    '',
    '`warden <command> --help` shows its options and an example.',
  ].join('\n');
}

/** `warden task --help`: the subcommands of a group. */
function groupHelp(group: string): string {
  return [
    `usage: warden ${group} <subcommand> [options]`,
    '',
    ...subWords(group).map((s) => {
      const c = findCommand(`${group} ${s}`)!;
      return row(usageLine(c), c.summary);
    }),
    '',
    `\`warden ${group} <subcommand> --help\` shows its options and an example.`,
  ].join('\n');
}

/** `warden <command> --help`: usage, what it does, its options and an example. */
export function commandHelp(c: CommandSpec): string {
  return [
    `usage: warden ${usageLine(c)}`,
    '',
    c.summary,
    ...(c.details ? [c.details] : []),
    '',
    'options:',
    ...visibleOptions(c).map((o) => row(optionLabel(o), o.summary)),
    '',
    'example:',
    `  ${c.example}`,
  ].join('\n');
}
