// Finding the programs warden runs (git, gh, claude, the worker command) the way the service
// will: warden.service gets systemd's default PATH, not the caller's login PATH. A `claude`
// installed under ~/.local/bin is found by a shell but not by the service.
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** The PATH systemd gives services (systemd 252, merged /usr). */
export const SERVICE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path `name` resolves to on `pathVar`, or null. */
export function findCommand(name: string, pathVar: string): string | null {
  if (name.includes('/')) return isAbsolute(name) && isExecutableFile(name) ? name : null;
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return null;
}

export interface Located {
  /** Where the service finds it, or null. */
  service: string | null;
  /** Where the caller's PATH finds it (may differ, or be the only place). */
  caller: string | null;
}

export function locate(name: string, callerPath = process.env.PATH ?? ''): Located {
  return { service: findCommand(name, SERVICE_PATH), caller: findCommand(name, callerPath) };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error: string | null;
}

/** Runs a short command (no shell) with a timeout; never throws. */
export function runShort(cmd: string, args: string[], timeoutMs = 10_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, GH_PROMPT_DISABLED: '1', NO_COLOR: '1' } },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        const code = e === null ? 0 : typeof e.code === 'number' ? e.code : null;
        const error = e === null || typeof e.code === 'number' ? null : e.killed ? `timed out after ${timeoutMs} ms` : e.message;
        resolve({ code, stdout, stderr, error });
      },
    );
  });
}
