// Counts every child process this process starts. It wraps the mutable CommonJS exports of
// node:child_process and then syncs them into the ESM named exports, so both
// `import { spawn } from 'node:child_process'` and `require('child_process').spawn` are counted.
// Install it before importing the code under test. A second, independent check lists this
// process's live children from /proc/self/task/*/children.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';

const WRAPPED = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
export type WrappedName = (typeof WRAPPED)[number];

export interface SpawnGuard {
  /** Calls of each wrapped function since install (or the last reset). */
  counts(): Record<WrappedName, number>;
  total(): number;
  reset(): void;
}

export function installSpawnGuard(): SpawnGuard {
  const require = createRequire(import.meta.url);
  const cp = require('node:child_process') as Record<string, unknown>;
  const counts = Object.fromEntries(WRAPPED.map((k) => [k, 0])) as Record<WrappedName, number>;
  for (const name of WRAPPED) {
    const original = cp[name] as (...args: unknown[]) => unknown;
    cp[name] = function counted(this: unknown, ...args: unknown[]) {
      counts[name]++;
      return original.apply(this, args);
    };
  }
  syncBuiltinESMExports();
  return {
    counts: () => ({ ...counts }),
    total: () => WRAPPED.reduce((n, k) => n + counts[k], 0),
    reset: () => {
      for (const k of WRAPPED) counts[k] = 0;
    },
  };
}

/** PIDs of this process's live children, from /proc/self/task/<tid>/children (Linux only). */
export function liveChildren(): number[] | null {
  try {
    const pids: number[] = [];
    for (const tid of readdirSync('/proc/self/task')) {
      const text = readFileSync(`/proc/self/task/${tid}/children`, 'latin1').trim();
      if (text) pids.push(...text.split(/\s+/).map(Number));
    }
    return pids;
  } catch {
    return null;
  }
}

/** "2 (esbuild 123, node 456)": tsx keeps an esbuild service child, which predates the sampling. */
export function describeChildren(pids: number[] | null): string {
  if (pids === null) return '?';
  const names = pids.map((pid) => {
    try {
      return `${readFileSync(`/proc/${pid}/comm`, 'latin1').trim()} ${pid}`;
    } catch {
      return String(pid);
    }
  });
  return names.length ? `${names.length} (${names.join(', ')})` : '0';
}
