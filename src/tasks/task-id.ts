// Task IDs become file names, worktree paths and systemd unit names, so they are checked at the
// edge and anything outside this pattern is refused before a single file is written.
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type TaskIdCheck = { ok: true } | { ok: false; error: string };

// Tasks live in plain objects keyed by ID (the state file is JSON), where `constructor` or
// `toString` would read as inherited properties: those names are reserved.
const RESERVED = new Set(Object.getOwnPropertyNames(Object.prototype));

export function checkTaskId(id: string): TaskIdCheck {
  if (RESERVED.has(id)) return { ok: false, error: `invalid task ID ${JSON.stringify(id)}: the name is reserved; pick another` };
  if (TASK_ID_PATTERN.test(id)) return { ok: true };
  const shown = JSON.stringify(id);
  if (id.length === 0) return { ok: false, error: 'invalid task ID: it is empty' };
  if (id.length > 64) return { ok: false, error: `invalid task ID ${shown.slice(0, 40)}…: it is ${id.length} characters, the limit is 64` };
  return {
    ok: false,
    error: `invalid task ID ${shown}: use 1-64 characters from A-Z a-z 0-9 . _ - starting with a letter or digit (IDs become file and unit names)`,
  };
}
