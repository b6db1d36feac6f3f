import { describe, expect, it } from 'vitest';
import { encodePaxRecords, imageMayCarryXattr, parsePaxRecords, paxRecordsFor, xattrsInPax } from '../../../src/image/xattrs.js';
import { TsrunError } from '../../../src/errors.js';

/** `setcap cap_setuid=ep`: struct vfs_cap_data, revision 2, effective; permitted bit 7 (CAP_SETUID). Not UTF-8. */
const CAP_SETUID = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

describe('parsePaxRecords', () => {
  it('reads a value as the bytes it is, with LENGTH counting bytes', () => {
    const record = Buffer.concat([Buffer.from('57 SCHILY.xattr.security.capability='), CAP_SETUID, Buffer.from('\n')]);
    expect(record.length).toBe(57);
    const block = Buffer.concat([record, Buffer.from('15 path=café/\n')]); // "é" is two bytes
    const records = parsePaxRecords(block);
    expect(records.get('SCHILY.xattr.security.capability')).toEqual(CAP_SETUID);
    expect(records.get('path')?.toString()).toBe('café/');
  });

  it('keeps the last of two records with the same key', () => {
    expect(parsePaxRecords(Buffer.from('11 user=aa\n11 user=bb\n')).get('user')?.toString()).toBe('bb');
  });

  it.each([
    ['a length that is not a number', '1x path=a\n'],
    ['a length past the end', '99 path=a\n'],
    ['a record not ending in a newline', '10 path=ab\n'],
    ['a record without "="', '9 pathab\n'],
    ['no length at all', 'path=a\n'],
    ['a length of zero', '0 path=a\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePaxRecords(Buffer.from(text))).toThrow(TsrunError);
    expect(() => parsePaxRecords(Buffer.from(text))).toThrow(/malformed PAX record at byte 0/);
  });
});

describe('encodePaxRecords', () => {
  it('writes what parsePaxRecords reads, bytes included', () => {
    const records: [string, Buffer][] = [['path', Buffer.from('bin/ping')], ...paxRecordsFor(new Map([['security.capability', CAP_SETUID]]))];
    const block = encodePaxRecords(records);
    expect(block.subarray(0, 3).toString()).toBe('17 ');
    expect(parsePaxRecords(block)).toEqual(new Map(records));
  });

  it('counts the digits of LENGTH in LENGTH, also when they make it one digit longer', () => {
    // " k=" + 93 bytes + "\n" is 97 bytes: 99 with two digits, so "99"; one byte more needs three digits: "101".
    expect(encodePaxRecords([['k', Buffer.alloc(93, 'v')]]).toString().split(' ')[0]).toBe('99');
    expect(encodePaxRecords([['k', Buffer.alloc(94, 'v')]]).toString().split(' ')[0]).toBe('101');
    expect(encodePaxRecords([['k', Buffer.alloc(94, 'v')]]).length).toBe(101);
  });
});

describe('xattrsInPax', () => {
  it('reads SCHILY.xattr records as they are, and LIBARCHIVE.xattr ones from %-encoded names and base64', () => {
    const xattrs = xattrsInPax(new Map([
      ['path', Buffer.from('f')],
      ['SCHILY.xattr.security.capability', CAP_SETUID],
      ['LIBARCHIVE.xattr.user.two%20words', Buffer.from(Buffer.from([0xff, 0x00, 0xfe]).toString('base64'))],
    ]));
    expect(xattrs).toEqual(new Map([['security.capability', CAP_SETUID], ['user.two words', Buffer.from([0xff, 0x00, 0xfe])]]));
  });

  it('refuses a LIBARCHIVE.xattr name that is not %-encoded text', () => {
    expect(() => xattrsInPax(new Map([['LIBARCHIVE.xattr.user.%ff', Buffer.from('')]]))).toThrow(/malformed extended attribute name/);
  });
});

describe('imageMayCarryXattr', () => {
  it.each([
    ['security.capability', true],
    ['user.colour', true],
    ['system.posix_acl_access', true],
    ['trusted.overlay.opaque', false],
    ['trusted.overlay.redirect', false],
    ['trusted.overlay.metacopy', false],
    ['trusted.note', false],
    ['security.selinux', false],
    ['security.ima', false],
  ])('%s: %s', (name, allowed) => {
    expect(imageMayCarryXattr(name)).toBe(allowed);
  });
});
