// The state file: one JSON document, written atomically (temp file, fsync, rename, fsync of the
// directory) on every transition. A file that cannot be read or parsed stops warden: starting
// from an empty state would re-run every task, which is how the incident's coordinator looped.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularText } from '../host/safe-open.js';
import { writeFileAtomic } from '../host/write-file-atomic.js';
import { z } from 'zod';
import { emptyState, stateSchema, type WardenState } from './types.js';

export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateError';
  }
}

/**
 * Creates the state directory. Mode 0711: worker users (systemd executor) must traverse it to
 * reach their own worktree and run files, but cannot list or read the rest.
 */
export function ensureStateDir(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o711 });
}

export function statePath(stateDir: string): string {
  return join(stateDir, 'state.json');
}

/** Reads the state file. A missing file is a first start; anything else unreadable is fatal. */
export function loadState(stateDir: string, cooldownMs: number): { state: WardenState; fresh: boolean } {
  const path = statePath(stateDir);
  let text: string;
  try {
    text = readRegularText(path); // a symlink or FIFO planted as the state file is refused, not followed
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptyState(cooldownMs), fresh: true };
    throw new StateError(
      `${path}: cannot read state file: ${(err as Error).message}. Fix its permissions; warden will not start from an empty state.`,
    );
  }
  return { state: parseState(text, path), fresh: false };
}

/**
 * The daemon's start: the state directory made, the state loaded (fatal if unreadable) and a copy
 * kept as state.json.bak. `unclean`: the previous run did not say it shut down cleanly.
 * `backupError`: the copy could not be written (a full disk); the old copy is kept.
 */
export function openState(stateDir: string, cooldownMs: number): { state: WardenState; unclean: boolean; backupError: string | null } {
  ensureStateDir(stateDir);
  const { state, fresh } = loadState(stateDir, cooldownMs);
  let backupError: string | null = null;
  // atomically, and from a fresh file: a backup cut short by a full disk must not replace a good
  // one, and copyFile would write through a symlink planted as the .bak
  if (!fresh) {
    try {
      writeFileAtomic(`${statePath(stateDir)}.bak`, readRegularText(statePath(stateDir)));
    } catch (err) {
      backupError = (err as Error).message;
    }
  }
  return { state, unclean: !fresh && !state.cleanShutdown, backupError };
}

export function parseState(text: string, path: string): WardenState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new StateError(
      `${path}: state file is corrupt (${(err as Error).message}). warden will not start from an empty state, which would re-run every task. ${restoreHint(path)}`,
    );
  }
  const result = stateSchema.safeParse(doc);
  if (!result.success) {
    throw new StateError(`${path}: state file does not match the expected format:\n${z.prettifyError(result.error)}\n${restoreHint(path)}`);
  }
  return result.data;
}

/** Names the backup only when there is one to restore from. */
function restoreHint(path: string): string {
  return existsSync(`${path}.bak`)
    ? `Restore it from ${path}.bak or move it aside deliberately.`
    : `There is no ${path}.bak to restore from; move it aside deliberately (warden then starts empty and re-runs every task).`;
}

export function serializeState(state: WardenState): string {
  return JSON.stringify(state) + '\n';
}

export function saveState(stateDir: string, state: WardenState): void {
  writeFileAtomic(statePath(stateDir), serializeState(state));
}
