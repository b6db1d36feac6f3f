import { describe, expect, it } from 'vitest';
import { resolveUser } from '../../../src/image/passwd.js';

const passwd = [
  'root:x:0:0:root:/root:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  'student:x:1000:1000::/home/student:/bin/sh',
].join('\n');
const group = ['root:x:0:', 'wheel:x:10:student', 'nogroup:x:65534:', 'student:x:1000:', 'audio:x:29:student,other'].join('\n');

describe('resolveUser', () => {
  it('treats an empty USER as root', () => {
    expect(resolveUser('', passwd, group)).toEqual({ uid: 0, gid: 0, groups: [0], home: '/root' });
  });

  it('resolves a name through /etc/passwd, with supplementary groups from /etc/group', () => {
    expect(resolveUser('student', passwd, group)).toEqual({ uid: 1000, gid: 1000, groups: [1000, 10, 29], home: '/home/student' });
  });

  it('accepts a uid that the image does not define, with gid 0', () => {
    expect(resolveUser('4242', passwd, group)).toEqual({ uid: 4242, gid: 0, groups: [0], home: '/' });
  });

  it("uses a known uid's passwd entry", () => {
    expect(resolveUser('1000', passwd, group).home).toBe('/home/student');
  });

  it('takes an explicit group by name or number, which replaces supplementary groups', () => {
    expect(resolveUser('student:nogroup', passwd, group)).toMatchObject({ uid: 1000, gid: 65534, groups: [65534] });
    expect(resolveUser('student:77', passwd, group)).toMatchObject({ gid: 77, groups: [77] });
  });

  it('fails clearly on an unknown user or group', () => {
    expect(() => resolveUser('ghost', passwd, group)).toThrow(/unable to find user ghost/);
    expect(() => resolveUser('student:ghosts', passwd, group)).toThrow(/unable to find group ghosts/);
  });

  it('works for images without /etc/passwd when the user is numeric or root', () => {
    expect(resolveUser('', '', '')).toEqual({ uid: 0, gid: 0, groups: [0], home: '/root' });
    expect(resolveUser('12:34', '', '')).toEqual({ uid: 12, gid: 34, groups: [34], home: '/' });
    expect(() => resolveUser('student', '', '')).toThrow(/unable to find user/);
  });

  it('accepts ids up to 2^31-1 and refuses larger or negative ones, naming the value', () => {
    expect(resolveUser('2147483647:2147483647', '', '')).toMatchObject({ uid: 2147483647, gid: 2147483647 });
    // 2^32 would wrap round to uid 0 on its way to setuid.
    expect(() => resolveUser('4294967296', passwd, group)).toThrow(/invalid user "4294967296": uid 4294967296 is out of range/);
    expect(() => resolveUser('2147483648', passwd, group)).toThrow(/uid 2147483648 is out of range/);
    expect(() => resolveUser('-1', passwd, group)).toThrow(/uid -1 is out of range/);
    expect(() => resolveUser('student:4294967296', passwd, group)).toThrow(/gid 4294967296 is out of range/);
  });

  it('refuses a USER with an empty side of the colon', () => {
    expect(() => resolveUser(':', passwd, group)).toThrow(/invalid user ":": the user is empty/);
    expect(() => resolveUser(':1000', passwd, group)).toThrow(/the user is empty/);
    expect(() => resolveUser('1000:', passwd, group)).toThrow(/invalid user "1000:": the group is empty/);
  });

  it('never reads a broken id in the image\'s files as 0', () => {
    // An empty uid field is not root: "evil" must not be found as uid 0, nor run as it.
    const broken = ['evil:x::0::/evil:/bin/sh', 'wrap:x:4294967296:0::/:/bin/sh', passwd].join('\n');
    expect(resolveUser('', broken, group).home).toBe('/root');
    expect(() => resolveUser('evil', broken, group)).toThrow(/\/etc\/passwd gives user evil the invalid id ""/);
    expect(() => resolveUser('wrap', broken, group)).toThrow(/invalid id "4294967296"/);
    const brokenGroup = [group, 'staff:x::student'].join('\n');
    expect(() => resolveUser('student', passwd, brokenGroup)).toThrow(/\/etc\/group gives group staff the invalid id ""/);
    expect(() => resolveUser('student:staff', passwd, brokenGroup)).toThrow(/group staff the invalid id/);
  });
});
