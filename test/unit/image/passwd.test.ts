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
});
