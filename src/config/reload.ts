// Keys that a reload (SIGHUP, POST /reload) cannot apply: the running daemon has already acted on
// them (the state directory is locked, the socket and TCP port are bound, the executor chosen, the
// worker user checked). A config that changes one of them is refused as a whole; restart to apply.
import type { Config } from './schema.js';

/** `table.key` for every key of every table of Config. */
type KeyPath = { [T in keyof Config]: `${T}.${keyof NonNullable<Config[T]> & string}` }[keyof Config];

/** Each entry is refused under one name; keys in the same entry are bound together (port and address). */
export const FIXED_ON_RELOAD: readonly (readonly KeyPath[])[] = [
  ['supervisor.state_dir'],
  ['control.socket'],
  ['control.group'],
  ['control.port', 'control.address'],
  ['executor.kind'],
  ['executor.sandbox'],
  // the sandbox's settings are given to the executor when it is made (src/executors/choose.ts)
  ['worker.file_size_max'],
  ['worker.deny_networks'],
  ['worker.env_file'],
  ['worker.writable_paths'],
  ['worker.user'],
  ['fleet.endpoints'],
  ['fleet.node'],
  ['fleet.prefix'],
  ['fleet.lease_ttl'],
];

function valueAt(config: Config, path: KeyPath): unknown {
  const [table, key] = path.split('.') as [keyof Config, string];
  const t = config[table] as Record<string, unknown> | null;
  return t === null ? undefined : t[key];
}

/** The names of the fixed keys whose value differs between the running config and the next one. */
export function reloadRefusals(current: Config, next: Config): string[] {
  return FIXED_ON_RELOAD.filter((paths) => paths.some((p) => !sameValue(valueAt(current, p), valueAt(next, p)))).map((paths) =>
    paths.join(' and '),
  );
}

/** Equal values; lists (deny_networks) by their items. */
function sameValue(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) ? JSON.stringify(a) === JSON.stringify(b) : a === b;
}
