// A permission problem, for a person at the command line: one line naming the path and the fix,
// exit 77 (sysexits' EX_NOPERM), never a stack trace, and never exit 3 ("not running"), which a
// script would misread. The fix names the group that owns the path when it is not root: joining
// that group (`[control] group`, `warden` as install.sh sets it up) is how a user is let in.
import { lstatSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { groupName, userInGroup } from './users.js';

export const EX_NOPERM = 77;

export class PermissionDenied extends Error {}

export function isPermissionError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

/** What the person can do, given the group that owns the path (null: root's, or unknown). */
export function describeFix(group: string | null, member: { inThisLogin: boolean; inGroupFile: boolean }): string {
  if (group === null) return 'run it with sudo (to let a group in: [control] group, see README "Non-root use")';
  if (member.inThisLogin) return `group ${group} is not allowed this: run it with sudo`;
  if (member.inGroupFile) return `you are in group ${group}, but this login is not yet: log in again (or run: newgrp ${group})`;
  return `add yourself to group ${group}: sudo usermod -aG ${group} $USER (then log in again)`;
}

/** The group ID of `path`, or of its nearest ancestor that can be looked at. */
function owningGroup(path: string): number | null {
  for (let p = path; ; p = dirname(p)) {
    try {
      return lstatSync(p).gid;
    } catch {
      if (p === dirname(p)) return null;
    }
  }
}

/** `permission denied: cannot <action> <path>; <fix>`. */
export function permissionDenied(path: string, action: string): PermissionDenied {
  const gid = owningGroup(path);
  const group = gid === null || gid === 0 ? null : groupName(gid);
  let user = '';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry: the group file cannot say either
  }
  const fix = describeFix(group, {
    inThisLogin: gid !== null && (process.getgroups?.() ?? []).includes(gid),
    inGroupFile: group !== null && user !== '' && userInGroup(user, group),
  });
  return new PermissionDenied(`permission denied: cannot ${action} ${path}; ${fix}`);
}
