// The tar reader is checked against writers: tsrun's own (tar-writer.ts) and GNU tar, in its own
// format and in POSIX's; and against damaged tars, each refused with its own words.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readTar, type ReadHeader } from '../../../src/image/tar-reader.js';
import { tarBytes, type TarEntry } from '../../../src/image/tar-writer.js';
import { encodePaxRecords } from '../../../src/image/xattrs.js';
import { realSyscalls as sys } from '../../../src/kernel/native.js';
import { TsrunError } from '../../../src/errors.js';
import { FIXTURE_MTIME, makeTempDir, streamOf } from './tar-fixtures.js';

let tmp: string;
beforeEach(() => {
  tmp = makeTempDir('tar-reader');
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** `setcap cap_setuid=ep`: struct vfs_cap_data, revision 2; 0x80 alone is not UTF-8. */
const CAP_SETUID = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const base = { mode: 0o644, uid: 1000, gid: 1000, mtime: FIXTURE_MTIME };

async function written(entries: TarEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarBytes(entries)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Every entry of `tar` as readTar gives it, delivered `chunkSize` bytes at a time: header and content. */
async function read(tar: Buffer, chunkSize = 700): Promise<{ header: ReadHeader; content: string }[]> {
  const entries = [];
  for await (const { header, data } of readTar(streamOf(tar, chunkSize))) {
    const chunks: Buffer[] = [];
    for await (const chunk of data) chunks.push(chunk);
    entries.push({ header, content: Buffer.concat(chunks).toString() });
  }
  return entries;
}

/** What reading `tar` fails with. */
async function refusal(tar: Buffer): Promise<TsrunError> {
  const error = await read(tar).then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(TsrunError);
  expect((error as TsrunError).hint).toMatch(/damaged or malicious/);
  return error as TsrunError;
}

/** Set the checksum of the header at `at` to what its bytes add up to now (as signed bytes, as some old writers did). */
function fixChecksum(tar: Buffer, at = 0, bytes: 'unsigned' | 'signed' = 'unsigned'): void {
  tar.fill(' ', at + 148, at + 156);
  const sum = tar.subarray(at, at + 512).reduce((total, byte) => total + (bytes === 'signed' && byte >= 0x80 ? byte - 256 : byte), 0);
  tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
}

/** `tar` with an 'x' header holding `records` before its first header, which it copies. */
function withPax(tar: Buffer, records: Buffer): Buffer {
  const header = Buffer.from(tar.subarray(0, 512));
  header.write('PaxHeader'.padEnd(100, '\0'), 0, 'latin1');
  header.write('x', 156, 'latin1');
  header.write(`${records.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  fixChecksum(header);
  return Buffer.concat([header, records, Buffer.alloc((512 - (records.length % 512)) % 512), tar]);
}

describe('readTar: what tar-writer writes', () => {
  const entries: TarEntry[] = [
    { header: { ...base, name: 'd/', type: 'directory', mode: 0o755 } },
    { header: { ...base, name: 'd/file', type: 'file', size: 1000 } },
    { header: { ...base, name: `deep/${'n'.repeat(150)}`, type: 'file', size: 0 } }, // a PAX path
    { header: { ...base, name: 'café', type: 'file', size: 0, uid: 3_000_000 } },     // a PAX path; base-256 uid
    { header: { ...base, name: 'old', type: 'file', size: 0, mtime: new Date('1960-01-01T00:00:00Z') } }, // negative, base-256
    { header: { ...base, name: 'ping', type: 'file', size: 0, mode: 0o755, xattrs: new Map([['security.capability', CAP_SETUID], ['user.text', Buffer.from('ok')]]) } },
    { header: { ...base, name: 'link', type: 'symlink', linkname: `/${'t'.repeat(120)}` } }, // a PAX linkpath
    { header: { ...base, name: 'again', type: 'link', linkname: 'd/file' } },
    { header: { ...base, name: 'null', type: 'character-device', devmajor: 1, devminor: 3 } },
    { header: { ...base, name: 'loop0', type: 'block-device', devmajor: 7, devminor: 0 } },
    { header: { ...base, name: 'pipe', type: 'fifo' } },
  ];
  const typeflags = ['5', '0', '0', '0', '0', '0', '2', '1', '3', '4', '6'];

  it('reads every header back as it was, binary xattr values byte for byte, however the bytes arrive', async () => {
    const file = path.join(tmp, 'content');
    fs.writeFileSync(file, 'x'.repeat(1000)); // two blocks, the second one padded
    const tar = await written(entries.map((entry) => (entry.header.name === 'd/file' ? { ...entry, file } : entry)));
    const expected = entries.map(({ header }, i) => ({
      size: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map(), ...header, typeflag: typeflags[i],
    }));
    for (const chunkSize of [1, 100, 511, 512, 513, 64 * 1024]) {
      const entriesRead = await read(tar, chunkSize);
      expect(entriesRead.map((entry) => entry.header), `chunks of ${chunkSize}`).toEqual(expected);
      expect(entriesRead[1]!.content).toBe('x'.repeat(1000));
      expect(entriesRead[5]!.header.xattrs.get('security.capability')).toEqual(CAP_SETUID);
    }
  });
});

describe('readTar: what GNU tar writes', () => {
  /** A directory of one of each: a file with a binary xattr, a hard link, a long name, a long link target, a fifo. */
  function makeTree(): string {
    const dir = path.join(tmp, 'tree', 'd');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'f'), 'hi\n');
    sys.lsetxattr(path.join(dir, 'f'), 'user.bin', Buffer.from([0xff, 0x00, 0xfe]));
    fs.linkSync(path.join(dir, 'f'), path.join(dir, 'hard'));
    fs.writeFileSync(path.join(dir, 'n'.repeat(150)), '');
    fs.symlinkSync('t'.repeat(120), path.join(dir, 'long-link'));
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    return path.join(tmp, 'tree');
  }

  /** The header GNU tar should have written for `name` in `tree`; times to the second, or finer. */
  function expectedHeader(tree: string, name: string, times: 'seconds' | 'fractions'): ReadHeader {
    const stat = fs.lstatSync(path.join(tree, name));
    const [type, typeflag] = stat.isDirectory() ? ['directory', '5'] as const : stat.isSymbolicLink() ? ['symlink', '2'] as const
      : stat.isFIFO() ? ['fifo', '6'] as const : name === 'd/hard' ? ['link', '1'] as const : ['file', '0'] as const;
    const xattrs = times === 'fractions' && name === 'd/f' ? new Map([['user.bin', Buffer.from([0xff, 0x00, 0xfe])]]) : new Map();
    return {
      name: type === 'directory' ? `${name}/` : name, type, typeflag,
      mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid,
      mtime: new Date(times === 'seconds' ? Math.floor(stat.mtimeMs / 1000) * 1000 : Math.trunc(stat.mtimeMs)),
      size: type === 'file' ? stat.size : 0,
      linkname: type === 'symlink' ? fs.readlinkSync(path.join(tree, name)) : type === 'link' ? 'd/f' : '',
      devmajor: 0, devminor: 0, xattrs,
    };
  }

  const names = ['d', 'd/f', 'd/hard', 'd/long-link', `d/${'n'.repeat(150)}`, 'd/pipe'];

  it('reads its own format: long names and link targets as GNU writes them (L, K)', async () => {
    const tree = makeTree();
    const tar = execFileSync('tar', ['--format=gnu', '--sort=name', '-C', tree, '-cf', '-', 'd']);
    expect(tar.includes('././@LongLink')).toBe(true);
    const entries = await read(tar);
    expect(entries.map((entry) => entry.header)).toEqual(names.map((name) => expectedHeader(tree, name, 'seconds')));
    expect(entries[1]!.content).toBe('hi\n');
  });

  it('reads its ustar format: a path too long for the name field, its directories in the prefix field', async () => {
    const dir = path.join(tmp, 'tree', 'd', 'p'.repeat(60));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'q'.repeat(60)), '');
    const tar = execFileSync('tar', ['--format=ustar', '-C', path.join(tmp, 'tree'), '-cf', '-', `d/${'p'.repeat(60)}/${'q'.repeat(60)}`]);
    expect(tar.toString('latin1', 345, 350)).toBe('d/ppp');
    expect((await read(tar)).map((entry) => entry.header.name)).toEqual([`d/${'p'.repeat(60)}/${'q'.repeat(60)}`]);
  });

  it('reads its POSIX format: PAX records with binary xattrs and times in fractions of seconds, a global header skipped', async () => {
    const tree = makeTree();
    // comment=… goes into a global header ('g') at the start.
    const tar = execFileSync('tar', ['--format=posix', '--xattrs', '--xattrs-include=user.*', '--pax-option=comment=made by GNU tar', '--sort=name', '-C', tree, '-cf', '-', 'd']);
    expect(tar[156]).toBe('g'.charCodeAt(0));
    const entries = await read(tar);
    expect(entries.map((entry) => entry.header)).toEqual(names.map((name) => expectedHeader(tree, name, 'fractions')));
    expect(entries[1]!.content).toBe('hi\n');
  });
});

describe('readTar: headers about the next entry', () => {
  it('applies none of a global header\'s records, as Docker applies none', async () => {
    // tar-writer puts the xattr in an 'x' header before the file's; as a 'g' header, it says nothing of the file.
    const tar = await written([{ header: { ...base, name: 'f', type: 'file', size: 0, xattrs: new Map([['user.a', Buffer.from('b')]]) } }]);
    tar.write('g', 156, 'latin1');
    fixChecksum(tar);
    expect((await read(tar)).map((entry) => [entry.header.name, entry.header.xattrs])).toEqual([['f', new Map()]]);
  });

  it('lets PAX records set the size, owner and time (numbers too large or too fine for the header)', async () => {
    const records = encodePaxRecords([['size', Buffer.from('3')], ['uid', Buffer.from('4000000000')], ['gid', Buffer.from('5')], ['mtime', Buffer.from('1580608922.25')]]);
    // f's header says size 0: the PAX size wins, and three bytes of data follow.
    const f = (await written([{ header: { ...base, name: 'f', type: 'file', size: 0 } }])).subarray(0, 512);
    const [entry] = await read(withPax(Buffer.concat([f, Buffer.from('abc'), Buffer.alloc(509 + 1024)]), records));
    expect(entry!.header).toMatchObject({ size: 3, uid: 4_000_000_000, gid: 5, mtime: new Date(1_580_608_922_250) });
    expect(entry!.content).toBe('abc');
  });

  it('lets a PAX path win over a GNU long name', async () => {
    fs.mkdirSync(path.join(tmp, 'empty'));
    const gnu = execFileSync('tar', ['--format=gnu', '-C', path.join(tmp, 'empty'), '-cf', '-', '--transform', `s,^,${'g'.repeat(120)},`, '.']);
    expect(gnu.includes('././@LongLink')).toBe(true);
    const tar = withPax(gnu, encodePaxRecords([['path', Buffer.from('from-pax')]]));
    expect((await read(tar))[0]!.header.name).toBe('from-pax');
  });

  it('gives links, devices and directories no data, whatever their size fields say', async () => {
    const tar = await written([
      { header: { ...base, name: 'link', type: 'symlink', linkname: 'x' } },
      { header: { ...base, name: 'dir/', type: 'directory' } },
      { header: { ...base, name: 'last', type: 'fifo' } },
    ]);
    tar.write('00000000005\0', 124, 'latin1');
    fixChecksum(tar);
    const withPaxSize = withPax(tar.subarray(512), encodePaxRecords([['size', Buffer.from('700')]]));
    expect((await read(Buffer.concat([tar.subarray(0, 512), withPaxSize]))).map(({ header }) => [header.name, header.size])).toEqual([['link', 0], ['dir/', 0], ['last', 0]]);
  });

  it('accepts a checksum summed over signed bytes, as some old writers summed it', async () => {
    const tar = await written([{ header: { ...base, name: 'x', type: 'directory' } }]);
    tar.write('é/\0', 0, 'utf8');
    fixChecksum(tar, 0, 'signed');
    expect((await read(tar))[0]!.header.name).toBe('é/');
  });

  it('reads a directory as pre-POSIX tars write one: a file whose name ends in "/"', async () => {
    const tar = await written([{ header: { ...base, name: 'dir/', type: 'file', size: 0 } }]);
    tar[156] = 0;
    fixChecksum(tar);
    expect((await read(tar))[0]!.header).toMatchObject({ name: 'dir/', type: 'directory', typeflag: '\0' });
  });

  it('hands over an entry of a type it does not know, and skips its data', async () => {
    const file = path.join(tmp, 'content');
    fs.writeFileSync(file, 'sparse');
    const tar = await written([{ header: { ...base, name: 's', type: 'file', size: 6 }, file }, { header: { ...base, name: 'next', type: 'fifo' } }]);
    tar.write('S', 156, 'latin1');
    fixChecksum(tar);
    expect((await read(tar)).map(({ header }) => [header.name, header.type, header.typeflag])).toEqual([['s', 'unknown', 'S'], ['next', 'fifo', '6']]);
  });
});

describe('readTar: streaming', () => {
  /** `tar` in chunks of 512 bytes, counting how many have been taken, and whether the last one was. */
  function counted(tar: Buffer) {
    const seen = { chunks: 0, ended: false };
    async function* chunks() {
      for (let at = 0; at < tar.length; at += 512) {
        seen.chunks++;
        yield tar.subarray(at, at + 512);
      }
      seen.ended = true;
    }
    return { seen, input: chunks() };
  }

  it('takes input only as the entries and their data are read, and skips data left unread', async () => {
    const file = path.join(tmp, 'content');
    fs.writeFileSync(file, Buffer.alloc(1024 * 1024, 'z'));
    const tar = await written([
      { header: { ...base, name: 'big', type: 'file', size: 1024 * 1024 }, file },
      { header: { ...base, name: 'skipped-over', type: 'file', size: 1024 * 1024 }, file },
      { header: { ...base, name: 'last', type: 'directory' } },
    ]);
    const { seen, input } = counted(tar);
    const entries = readTar(input);
    const big = (await entries.next()).value!;
    expect(seen.chunks).toBe(1); // its header, and not a byte more
    const bigData = big.data[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) await bigData.next();
    expect(seen.chunks).toBe(11);
    const names = [big.header.name];
    for await (const { header } of entries) names.push(header.name);
    expect(names).toEqual(['big', 'skipped-over', 'last']);
    expect(seen.ended).toBe(true);
    expect(await bigData.next()).toEqual({ done: true, value: undefined }); // nothing of the entries after it
  });

  it('reads through whatever follows the end-of-archive blocks, and finds no entry there', async () => {
    const tar = await written([{ header: { ...base, name: 'only', type: 'directory' } }]);
    const trailing = Buffer.concat([tar, Buffer.alloc(512, 'not a header')]);
    const { seen, input } = counted(trailing);
    const names = [];
    for await (const { header } of readTar(input)) names.push(header.name);
    expect(names).toEqual(['only']);
    expect(seen).toEqual({ chunks: trailing.length / 512, ended: true });
  });

  it('accepts a tar that ends without its end-of-archive blocks, or with one', async () => {
    const tar = await written([{ header: { ...base, name: 'only', type: 'directory' } }]);
    expect((await read(tar.subarray(0, 512))).map((entry) => entry.header.name)).toEqual(['only']);
    expect((await read(tar.subarray(0, 1024))).map((entry) => entry.header.name)).toEqual(['only']);
  });
});

describe('readTar: a damaged or hostile tar', () => {
  const oneFile = async (content = 'hello') => {
    const file = path.join(tmp, 'content');
    fs.writeFileSync(file, content);
    return written([{ header: { ...base, name: 'f', type: 'file', size: content.length }, file }, { header: { ...base, name: 'g', type: 'fifo' } }]);
  };

  it('refuses a header whose checksum is wrong', async () => {
    const tar = await oneFile();
    tar[0] = 'F'.charCodeAt(0);
    expect((await refusal(tar)).message).toBe('the tar header at byte 0 has a wrong checksum (not a tar, or damaged)');
  });

  it('refuses a header that is neither ustar nor GNU', async () => {
    const tar = await oneFile();
    tar.write('ustar!', 257, 'latin1');
    fixChecksum(tar);
    expect((await refusal(tar)).message).toBe('the tar header at byte 0 is neither ustar nor GNU');
  });

  it('refuses a number field that is not octal', async () => {
    const tar = await oneFile();
    tar.write('0000000012x\0', 124, 'latin1');
    fixChecksum(tar);
    expect((await refusal(tar)).message).toBe('the tar header at byte 0 has "0000000012x\\u0000", not an octal number, in its size field');
  });

  it('refuses a negative size, and numbers too large, in base-256', async () => {
    const tar = await oneFile();
    tar.fill(0xff, 124, 136); // -1
    fixChecksum(tar);
    expect((await refusal(tar)).message).toBe('the tar header at byte 0 has a negative size');
    tar.fill(0, 124, 136);
    tar[124] = 0x80;
    tar[128] = 0x01; // 2^56 bytes
    fixChecksum(tar);
    expect((await refusal(tar)).message).toBe('the tar header at byte 0 has a number too large in its size field');
    tar.fill(0, 124, 136);
    tar[108] = 0x80;
    tar.fill(0xff, 109, 116); // a uid of 2^56 - 1
    fixChecksum(tar);
    expect((await refusal(tar)).message).toBe('the tar header at byte 0 has a number too large in its uid field');
  });

  it('refuses a tar cut short: in a header, in the data, in the padding, in PAX records', async () => {
    const tar = await oneFile();
    for (const cut of [1024 + 100, 512 + 3, 700]) { // 'hello' is bytes 512 to 517, padded to 1024
      expect((await refusal(tar.subarray(0, cut))).message).toBe(`the tar ends in the middle of an entry, after ${cut} bytes`);
    }
    // Records of two whole blocks, "1024 SCHILY.xattr.user.x=…\n", cut after the first: no padding to miss.
    const pax = await written([{ header: { ...base, name: 'f', type: 'file', size: 0, xattrs: new Map([['user.x', Buffer.alloc(998)]]) } }]);
    expect(pax.toString('latin1', 512, 517)).toBe('1024 ');
    expect((await refusal(pax.subarray(0, 512 + 512))).message).toBe('the tar ends in the middle of an entry, after 1024 bytes');
  });

  it('takes a tar that ends in its last padding only when asked (unpaddedEnd: a docker build context)', async () => {
    const tar = await oneFile();
    const unpadded = tar.subarray(0, 512 + 5); // 'hello', then nothing: no padding, no end-of-archive blocks
    const names: string[] = [];
    for await (const entry of readTar(streamOf(unpadded), { unpaddedEnd: true })) {
      for await (const chunk of entry.data) names.push(`${entry.header.name} ${chunk.toString()}`);
    }
    expect(names).toEqual(['f hello']);
    expect((await refusal(unpadded)).message).toBe('the tar ends in the middle of an entry, after 517 bytes');
    // The data itself must still be whole.
    await expect((async () => {
      for await (const entry of readTar(streamOf(tar.subarray(0, 512 + 3)), { unpaddedEnd: true })) for await (const chunk of entry.data) void chunk;
    })()).rejects.toThrow('the tar ends in the middle of an entry, after 515 bytes');
  });

  it('fails the data of an entry cut short as it is read, not only the entry after it', async () => {
    const { value: entry } = await readTar(streamOf((await oneFile()).subarray(0, 512 + 3))).next();
    const reading = (async () => {
      for await (const chunk of entry!.data) expect(chunk.toString()).toBe('hel');
    })();
    await expect(reading).rejects.toThrow('the tar ends in the middle of an entry, after 515 bytes');
  });

  it('refuses a PAX record whose length is wrong', async () => {
    const tar = await written([{ header: { ...base, name: 'f', type: 'file', size: 0, xattrs: new Map([['user.x', Buffer.from('y')]]) } }]);
    const at = tar.indexOf(' SCHILY.xattr.user.x=y');
    tar.write('99', at - 2, 'latin1'); // past the end of the records
    expect((await refusal(tar)).message).toBe('malformed PAX record at byte 0 of an extended header');
    tar.write('22', at - 2, 'latin1'); // one short: the record would end in "y", not a newline
    expect((await refusal(tar)).message).toBe('malformed PAX record at byte 0 of an extended header');
  });

  it('refuses a PAX number that is not one', async () => {
    const tar = withPax(await oneFile(), encodePaxRecords([['size', Buffer.from('12abc')]]));
    expect((await refusal(tar)).message).toBe('the PAX header before the tar header at byte 1024 has a malformed size: "12abc"');
  });

  it('refuses a PAX or GNU long-name header of more than 1 MiB', async () => {
    const tar = await written([{ header: { ...base, name: 'f', type: 'file', size: 0, xattrs: new Map([['user.x', Buffer.alloc(1024 * 1024)]]) } }]);
    expect((await refusal(tar)).message).toBe('the tar header at byte 0 announces 1048605 bytes of PAX records, more than 1048576');
    const gnu = await oneFile();
    gnu.write('L', 156, 'latin1');
    gnu.write(`${(2 * 1024 * 1024).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    fixChecksum(gnu);
    expect((await refusal(gnu)).message).toBe('the tar header at byte 0 announces 2097152 bytes of long name, more than 1048576');
  });

  it('refuses a lone zero block followed by more entries', async () => {
    const tar = await oneFile();
    const gap = Buffer.concat([tar.subarray(0, 1024), Buffer.alloc(512), tar.subarray(1024)]);
    expect((await refusal(gap)).message).toBe('the tar has a lone zero block at byte 1024, with more after it');
  });
});
