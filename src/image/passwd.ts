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

/** The largest uid or gid tsrun accepts. The kernel's ids are 32 bits, but runc and
 *  containerd refuse anything above 2^31-1 (it would be negative in a signed field), and an
 *  id past 2^32 would wrap round to root when it reaches setuid. */
export const MAX_ID = 2 ** 31 - 1;
const RANGE_HINT = `uids and gids are numbers from 0 to ${MAX_ID}`;

// Ids stay text until used: an entry with a broken id ("", "x", "4294967296") must
// never quietly become 0, which is what Number("") gives.
interface PasswdEntry { name: string; uid: string; gid: string; home: string }
interface GroupEntry { name: string; gid: string; members: string[] }

function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).map((fields) => ({ name: fields[0]!, uid: fields[2] ?? '', gid: fields[3] ?? '', home: fields[5] ?? '/' }));
}

function parseGroup(text: string): GroupEntry[] {
  return lines(text).map((fields) => ({ name: fields[0]!, gid: fields[2] ?? '', members: (fields[3] ?? '').split(',').filter(Boolean) }));
}

function lines(text: string): string[][] {
  return text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')).map((line) => line.split(':'));
}

/** "1000" -> 1000; anything that is not plain digits in range -> undefined. */
function parseId(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const id = Number(text);
  return id <= MAX_ID ? id : undefined;
}

/** The id an entry of the container's /etc/passwd or /etc/group gives, or a clear error. */
function entryId(text: string, what: string, file: string): number {
  const id = parseId(text);
  if (id === undefined) throw fail(`the container's ${file} gives ${what} the invalid id "${text}"`, RANGE_HINT);
  return id;
}

type UserPart = { id: number } | { name: string };

/** One half of a USER value: a number is an id (in range), anything else a name. */
function specPart(part: string, kind: 'user' | 'group', spec: string): UserPart {
  if (part === '') throw fail(`invalid user "${spec}": the ${kind} is empty`, 'give <name|uid>[:<group|gid>], as in "1000:1000"');
  if (!/^[-+]?\d+$/.test(part)) return { name: part };
  const id = parseId(part);
  if (id === undefined) throw fail(`invalid user "${spec}": ${kind === 'user' ? 'uid' : 'gid'} ${part} is out of range`, RANGE_HINT);
  return { id };
}

/** A USER value split and checked: `user` undefined means root ('' is the default). */
export function parseUserSpec(spec: string): { user?: UserPart; group?: UserPart } {
  if (spec === '') return {};
  const colon = spec.indexOf(':');
  if (colon === -1) return { user: specPart(spec, 'user', spec) };
  return { user: specPart(spec.slice(0, colon), 'user', spec), group: specPart(spec.slice(colon + 1), 'group', spec) };
}

/** `spec` is the USER value ('' means root); passwd and group are the files' contents ('' when absent). */
export function resolveUser(spec: string, passwd: string, group: string): ResolvedUser {
  const { user: userPart, group: groupPart } = parseUserSpec(spec);
  const users = parsePasswd(passwd);
  const groups = parseGroup(group);

  const byUid = (uid: number) => users.find((u) => parseId(u.uid) === uid);
  const entry = userPart === undefined ? byUid(0)
    : 'id' in userPart ? byUid(userPart.id)
    : users.find((u) => u.name === userPart.name);
  let user: { name: string; uid: number; gid: number; home: string };
  if (entry) {
    user = { name: entry.name, uid: entryId(entry.uid, `user ${entry.name}`, '/etc/passwd'), gid: entryId(entry.gid, `user ${entry.name}'s group`, '/etc/passwd'), home: entry.home };
  } else if (userPart === undefined) {
    user = { name: 'root', uid: 0, gid: 0, home: '/root' };
  } else if ('id' in userPart) {
    user = { name: '', uid: userPart.id, gid: 0, home: '/' };
  } else {
    throw fail(`unable to find user ${userPart.name}: no matching entries in the container's /etc/passwd`, 'use a numeric uid or a user the image defines');
  }

  let gid = user.gid;
  if (groupPart && 'id' in groupPart) gid = groupPart.id;
  if (groupPart && 'name' in groupPart) {
    const named = groups.find((g) => g.name === groupPart.name);
    if (!named) {
      throw fail(`unable to find group ${groupPart.name}: no matching entries in the container's /etc/group`, 'use a numeric gid or a group the image defines');
    }
    gid = entryId(named.gid, `group ${named.name}`, '/etc/group');
  }
  // An explicit group replaces the supplementary groups too, as docker does.
  const supplementary = groupPart ? [] : groups.filter((g) => user.name !== '' && g.members.includes(user.name))
    .map((g) => entryId(g.gid, `group ${g.name}`, '/etc/group'));
  return { uid: user.uid, gid, groups: [...new Set([gid, ...supplementary])], home: user.home || '/' };
}
