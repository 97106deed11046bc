// Temporary directories that a test file removes when it ends (kept with WARDEN_KEEP_TEST_DIRS=1).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export interface TempRoot {
  /** The directory itself. */
  readonly path: string;
  /** A new, empty directory inside it, numbered so that every call gets its own. */
  fresh(name?: string): string;
}

/** One temp directory for the calling test file, removed in its `after`. Call at the top level. */
export function tempRoot(prefix: string): TempRoot {
  const path = mkdtempSync(join(tmpdir(), `warden-${prefix}-`));
  after(() => {
    if (process.env.WARDEN_KEEP_TEST_DIRS !== '1') rmSync(path, { recursive: true, force: true });
  });
  let n = 0;
  return {
    path,
    fresh(name = 'd') {
      const dir = join(path, `${name}${++n}`);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
  };
}
