// Loading the config: read, hash, parse TOML, validate. Every problem becomes one line
// `FILE:LINE:COL: key.path: what was expected`; the caller exits 78 (EX_CONFIG).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { configSchema, type Config } from './schema.js';
import { locateKey } from './locate.js';
import { isPermissionError, permissionDenied } from '../host/permission.js';

export const EX_CONFIG = 78;
export const DEFAULT_CONFIG_PATH = '/etc/warden/config.toml';

export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  key?: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = [p.file, p.line, p.column].filter((x) => x !== undefined).join(':');
  return `${where}: ${p.key ? `${p.key}: ` : ''}${p.message}`;
}

export interface LoadedConfig {
  config: Config;
  path: string;
  sha256: string;
}

/** `--config`, else $WARDEN_CONFIG, else /etc/warden/config.toml. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.WARDEN_CONFIG || undefined) ?? DEFAULT_CONFIG_PATH;
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function loadConfig(path: string): LoadedConfig {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if (isPermissionError(err)) throw permissionDenied(path, 'read the config'); // exit 77, not 78: the file may be fine
    const why =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file (pass --config FILE or set WARDEN_CONFIG)'
        : String((err as Error).message);
    throw new ConfigError([{ file: path, message: `cannot read config: ${why}` }]);
  }
  return { config: parseConfigText(bytes.toString('utf8'), path), path, sha256: sha256(bytes) };
}

export function parseConfigText(text: string, file: string): Config {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const first = String(err.message).split('\n')[0] ?? 'invalid TOML';
      throw new ConfigError([
        { file, line: err.line, column: err.column, message: `invalid TOML: ${first.replace(/^Invalid TOML document: /, '')}` },
      ]);
    }
    throw new ConfigError([{ file, message: `invalid TOML: ${(err as Error).message}` }]);
  }
  const result = configSchema.safeParse(doc);
  if (!result.success) {
    const problems: ConfigProblem[] = [];
    for (const issue of result.error.issues) {
      const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
      if (issue.code === 'unrecognized_keys') {
        // one issue may name several unknown keys: one line each
        for (const k of issue.keys) {
          const pos = locateKey(text, [...path, k]);
          problems.push({
            file,
            line: pos?.line,
            column: pos?.column,
            key: [...path, k].join('.'),
            message: 'unknown key (check the spelling; see the config reference in README.md)',
          });
        }
        continue;
      }
      const pos = locateKey(text, path);
      const missing = issue.code === 'invalid_type' && valueAt(doc, path) === undefined;
      const message = !missing
        ? issue.message
        : issue.expected === 'object'
          ? `required table [${path.join('.')}] is missing`
          : `required key is missing (${issue.message})`;
      problems.push({ file, line: pos?.line, column: pos?.column, key: path.join('.') || undefined, message });
    }
    throw new ConfigError(problems.sort((a, b) => (a.line ?? 1e9) - (b.line ?? 1e9)));
  }
  return result.data;
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = doc;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
