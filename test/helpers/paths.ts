// Where things are in this checkout, for tests that run the built CLI or read fixtures.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, without a trailing slash. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
/** The built CLI: tests run what users run, so `npm run build` comes first. */
export const CLI = join(ROOT, 'dist/cli/main.js');
export const FAKE_WORKER = join(ROOT, 'scripts/fake-worker');
export const FIXTURES = join(ROOT, 'test/fixtures');
/** Fixture host trees (/proc, /sys, /boot) of real machines. */
export const HOSTS = join(FIXTURES, 'hosts');

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the tests`);
}

/** Paths under `dir` (a folder of the repository; each path relative to it) of the files whose names end with `suffix`, sorted. */
export function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => join(e.parentPath, e.name).slice(join(ROOT, dir).length + 1))
    .sort();
}
