// USER as docker reads it: "name", "uid", "name:group", "uid:gid", resolved
// through the container's own /etc/passwd and /etc/group (never the host's).
import { fail } from '../errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: every group in /etc/group that lists the user. */
  groups: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).map((fields) => ({ name: fields[0]!, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] ?? '/' }))
    .filter((entry) => Number.isInteger(entry.uid) && Number.isInteger(entry.gid));
}

function parseGroup(text: string): GroupEntry[] {
  return lines(text).map((fields) => ({ name: fields[0]!, gid: Number(fields[2]), members: (fields[3] ?? '').split(',').filter(Boolean) }))
    .filter((entry) => Number.isInteger(entry.gid));
}

function lines(text: string): string[][] {
  return text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')).map((line) => line.split(':'));
}

const isNumeric = (s: string) => /^\d+$/.test(s);

/** `spec` is the USER value ('' means root); passwd and group are the files' contents ('' when absent). */
export function resolveUser(spec: string, passwd: string, group: string): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const users = parsePasswd(passwd);
  const groups = parseGroup(group);

  const user = userPart === '' ? users.find((u) => u.uid === 0) ?? { name: 'root', uid: 0, gid: 0, home: '/root' }
    : isNumeric(userPart) ? users.find((u) => u.uid === Number(userPart)) ?? { name: '', uid: Number(userPart), gid: 0, home: '/' }
    : users.find((u) => u.name === userPart);
  if (!user) {
    throw fail(`unable to find user ${userPart}: no matching entries in the container's /etc/passwd`, 'use a numeric uid or a user the image defines');
  }

  let gid = user.gid;
  if (groupPart !== undefined && groupPart !== '') {
    const named = isNumeric(groupPart) ? { gid: Number(groupPart) } : groups.find((g) => g.name === groupPart);
    if (!named) {
      throw fail(`unable to find group ${groupPart}: no matching entries in the container's /etc/group`, 'use a numeric gid or a group the image defines');
    }
    gid = named.gid;
  }
  // An explicit group replaces the supplementary groups too, as docker does.
  const supplementary = groupPart ? [] : groups.filter((g) => user.name !== '' && g.members.includes(user.name)).map((g) => g.gid);
  return { uid: user.uid, gid, groups: [...new Set([gid, ...supplementary])], home: user.home || '/' };
}
