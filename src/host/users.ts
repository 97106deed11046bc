// Resolves users and groups from /etc/passwd and /etc/group (no child process, no NSS daemon
// needed): the worker user for the systemd executor, the control socket's group.
import { readOrNull } from '../host/read-file.js';

export interface UserIds {
  name: string;
  uid: number;
  gid: number;
}

/** The colon-separated fields of `name`'s line in a passwd-style file, if it has `minFields`. */
function accountFields(file: string, name: string, minFields: number): string[] | null {
  const text = readOrNull(file, 'utf8');
  if (text === null) return null;
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= minFields) return f;
  }
  return null;
}

export function lookupUser(name: string, passwd = '/etc/passwd'): UserIds | null {
  const f = accountFields(passwd, name, 4);
  return f ? { name, uid: Number(f[2]), gid: Number(f[3]) } : null;
}

/** The numeric ID of a group, from /etc/group. */
export function lookupGroupId(name: string, groupFile = '/etc/group'): number | null {
  const f = accountFields(groupFile, name, 3);
  return f && /^\d+$/.test(f[2] ?? '') ? Number(f[2]) : null;
}

/** The name of a group ID, from /etc/group. */
export function groupName(gid: number, groupFile = '/etc/group'): string | null {
  const text = readOrNull(groupFile, 'utf8');
  for (const line of text?.split('\n') ?? []) {
    const f = line.split(':');
    if (f.length >= 3 && f[2] === String(gid)) return f[0] ?? null;
  }
  return null;
}

/** Whether `user` belongs to `group` by /etc/passwd (primary group) or /etc/group (member list). */
export function userInGroup(user: string, group: string, files = { passwd: '/etc/passwd', group: '/etc/group' }): boolean {
  const g = accountFields(files.group, group, 4);
  if (!g) return false;
  if ((g[3] ?? '').split(',').includes(user)) return true;
  return lookupUser(user, files.passwd)?.gid === Number(g[2]);
}
