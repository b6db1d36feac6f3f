// Layers are tars from anyone's registry. Random tars, made of what makes unpacking hard (the same
// few names again and again, so that entries replace each other; links in and out; ".." and absolute
// paths; names too long for the header, as PAX and as GNU writes them; whiteouts and opaque markers;
// devices; damaged bytes), must unpack into the destination or fail with a TsrunError, and never
// touch anything beside it.
//
// The tars are written here, header by header, rather than with tar-stream's pack(): it writes no
// GNU long names, and it cannot be made to write the odd headers a hostile tar may hold.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { unpackLayer } from '../../../src/image/unpack.js';
import { encodePaxRecords } from '../../../src/image/xattrs.js';
import { realSyscalls as sys } from '../../../src/kernel/native.js';
import { IS_ROOT, gzip, makeTempDir, streamOf } from '../image/tar-fixtures.js';
import { fuzzOptions, settled } from './fuzz.js';

type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';

interface Entry {
  name: string;
  type: EntryType;
  /** A link's target; "OUTSIDE" stands for the absolute path of <tmp>/outside, known only when the test runs. */
  linkname: string;
  content: string;
  mode: number;
  uid: number;
  gid: number;
  /** How a name longer than the header's 100 bytes is written: cut short, in a PAX header, or GNU's way. */
  longNames: 'ustar' | 'pax' | 'gnu';
  xattrs: [string, Buffer][];
}

const TYPE_FLAGS: Record<EntryType, string> = {
  'file': '0', 'link': '1', 'symlink': '2', 'character-device': '3', 'block-device': '4', 'directory': '5', 'fifo': '6',
};

/** One 512-byte ustar header. Text fields are cut at their size, as a careless writer would. */
function header(name: string, typeflag: string, size: number, entry: Pick<Entry, 'mode' | 'uid' | 'gid'> & { linkname?: string }): Buffer {
  const block = Buffer.alloc(512);
  const octal = (value: number, offset: number, length: number) => block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
  block.write(name, 0, 100, 'utf8');
  octal(entry.mode, 100, 8);
  octal(entry.uid, 108, 8);
  octal(entry.gid, 116, 8);
  octal(size, 124, 12);
  octal(1_580_608_922, 136, 12);
  block.write(typeflag, 156, 1, 'latin1');
  block.write(entry.linkname ?? '', 157, 100, 'utf8');
  block.write('ustar\x0000', 257, 8, 'latin1');
  octal(1, 329, 8); // device major
  octal(3, 337, 8); // and minor: /dev/null's
  block.fill(' ', 148, 156); // the checksum counts its own field as spaces
  block.write(`${block.reduce((sum, byte) => sum + byte, 0).toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/** A header and its data, padded to whole blocks. */
function withData(head: Buffer, data: Buffer): Buffer[] {
  return [head, data, Buffer.alloc((512 - (data.length % 512)) % 512)];
}

function entryBlocks(entry: Entry, outside: string): Buffer[] {
  const linkname = entry.linkname.replace('OUTSIDE', outside);
  const data = entry.type === 'file' ? Buffer.from(entry.content) : Buffer.alloc(0);
  const blocks: Buffer[] = [];
  const pax: [string, Buffer][] = [...entry.xattrs];
  if (entry.longNames === 'pax') pax.push(['path', Buffer.from(entry.name)], ['linkpath', Buffer.from(linkname)]);
  if (pax.length > 0) blocks.push(...withData(header('PaxHeader', 'x', encodePaxRecords(pax).length, entry), encodePaxRecords(pax)));
  if (entry.longNames === 'gnu') {
    const gnu = (typeflag: string, text: string) => blocks.push(...withData(header('././@LongLink', typeflag, Buffer.byteLength(text) + 1, entry), Buffer.from(`${text}\0`)));
    gnu('L', entry.name);
    if (linkname) gnu('K', linkname);
  }
  blocks.push(...withData(header(entry.name, TYPE_FLAGS[entry.type], data.length, { ...entry, linkname }), data));
  return blocks;
}

function tarOf(entries: Entry[], outside: string): Buffer {
  return Buffer.concat([...entries.flatMap((entry) => entryBlocks(entry, outside)), Buffer.alloc(1024)]);
}

// A handful of names, so that entries land on each other: a file where a directory was, a link where a file was.
const LONG = 'long-'.repeat(25);
const component = (root: boolean) => fc.constantFrom('a', 'b', 'dir', '..', '.', '', LONG, 'é', 'line\nbreak',
  ...(root ? ['.wh.a', '.wh.dir', '.wh..wh..opq', '.wh..wh.plnk', '.wh.'] : []));
const name = (root: boolean) => fc.tuple(
  fc.constantFrom('', '', '', './', '/', '../'),
  fc.array(component(root), { minLength: 1, maxLength: 3 }),
  fc.constantFrom('', '', '/'),
).map(([prefix, parts, suffix]) => prefix + parts.join('/') + suffix);
// Targets that climb out land in <tmp>/outside, never beyond: if one got through, the check below would see
// it. (Aimed at /etc/passwd, an escape would rewrite the machine's own.)
const linkname = (root: boolean) => fc.oneof(name(root), fc.constantFrom('OUTSIDE', 'OUTSIDE/secret', '../outside/secret', '../../outside/secret', '../../outside'));

function entry(root: boolean): fc.Arbitrary<Entry> {
  const types: EntryType[] = ['file', 'file', 'directory', 'directory', 'symlink', 'link', ...(root ? ['character-device', 'block-device', 'fifo'] as const : [])];
  // Unprivileged, every entry is the user's own, and writable by them: anything else fails at chown or open.
  const owner = root ? fc.constantFrom(0, 1000, 65534) : fc.constant(process.getuid!());
  const group = root ? fc.constantFrom(0, 1000, 65534) : fc.constant(process.getgid!());
  const xattr = fc.tuple(fc.constantFrom('SCHILY.xattr.user.note', 'SCHILY.xattr.trusted.overlay.opaque', 'SCHILY.xattr.security.capability'), fc.uint8Array({ maxLength: 24 }).map(Buffer.from));
  return fc.record({
    name: name(root),
    type: fc.constantFrom(...types),
    linkname: linkname(root),
    content: fc.string({ maxLength: 40 }),
    mode: root ? fc.nat({ max: 0o7777 }) : fc.nat({ max: 0o7777 }).map((mode) => mode | 0o700),
    uid: owner,
    gid: group,
    longNames: fc.constantFrom('ustar', 'pax', 'gnu'),
    xattrs: root ? fc.array(xattr, { maxLength: 2 }) : fc.constant([]),
  });
}

/** Everything in `dir` but `skip`, as it is: type, mode, links, size, times, content or target. */
function snapshot(dir: string, skip: string): Record<string, string> {
  const seen: Record<string, string> = {};
  const walk = (at: string) => {
    const stat = fs.lstatSync(at);
    const what = stat.isFile() ? fs.readFileSync(at, 'base64') : stat.isSymbolicLink() ? fs.readlinkSync(at) : '';
    seen[at] = `${stat.mode.toString(8)} nlink=${stat.nlink} size=${stat.size} mtime=${stat.mtimeMs} ${what}`;
    if (stat.isDirectory()) for (const child of fs.readdirSync(at)) if (path.join(at, child) !== skip) walk(path.join(at, child));
  };
  walk(dir);
  return seen;
}

// <tmp>/dest is unpacked into; <tmp>/outside is what a hostile layer would like to reach.
let tmp: string;
let dest: string;
let outside: string;

beforeEach(() => {
  tmp = makeTempDir('fuzz-unpack');
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret'), 'do not touch\n');
});

afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Unpack `layer` (`tar`, perhaps compressed) into a fresh <tmp>/dest: a TsrunError or the diff id of `tar`,
 *  and <tmp> beside dest untouched. */
async function expectContained(tar: Buffer, layer = tar): Promise<void> {
  dest = fs.mkdtempSync(path.join(tmp, 'dest-'));
  const before = snapshot(tmp, dest);
  const unpacked = await settled(() => unpackLayer(sys, streamOf(layer, 700), dest));
  expect(snapshot(tmp, dest)).toEqual(before);
  if (unpacked.ok) expect(unpacked.value.diffId).toBe(`sha256:${crypto.createHash('sha256').update(tar).digest('hex')}`);
  // A layer may leave directories its owner cannot enter (mode 0): opened up, so that they can be removed.
  fs.chmodSync(dest, 0o700);
  fs.rmSync(dest, { recursive: true, force: true });
}

describe('fuzz: unpackLayer', () => {
  it('keeps any tar of files, directories and links inside the destination, or refuses it cleanly', async () => {
    await fc.assert(fc.asyncProperty(fc.array(entry(false), { minLength: 1, maxLength: 8 }), fc.boolean(), async (entries, compressed) => {
      const tar = tarOf(entries, outside);
      await expectContained(tar, compressed ? gzip(tar) : tar);
    }), fuzzOptions(150));
  });

  it.skipIf(!IS_ROOT)('(root) the same with whiteouts, opaque markers, devices, owners and extended attributes', async () => {
    await fc.assert(fc.asyncProperty(fc.array(entry(true), { minLength: 1, maxLength: 8 }), async (entries) => {
      await expectContained(tarOf(entries, outside));
    }), fuzzOptions(150));
  });

  it('refuses a damaged tar cleanly: bytes changed, or cut short', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(entry(false), { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.option(fc.nat()),
      async (entries, changes, cut) => {
        const tar = tarOf(entries, outside);
        for (const [at, byte] of changes) tar[at % tar.length] = byte;
        await expectContained(cut === null ? tar : tar.subarray(0, cut % tar.length));
      }), fuzzOptions(150));
  });
});
