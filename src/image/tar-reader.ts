// Reading a layer tar, as unpack does: the other half of tar-writer.ts. A tar is
// a list of entries, each a 512-byte header and its content padded to 512
// bytes; a zero block (two, normally) ends it. Besides the entries a layer
// means, a tar may hold headers about the next entry:
//   'x'       PAX extended header: records "LENGTH KEY=VALUE\n" (xattrs.ts) whose
//             path, linkpath, size, uid, gid and mtime replace the next header's,
//             and whose SCHILY.xattr.* records carry its extended attributes
//   'L', 'K'  GNU's long name and long link target for the next entry, as their content
//   'g'       PAX global header: skipped, as Docker and containerd skip it
//
// PAX values are read as bytes, not text: an xattr such as security.capability
// is binary (see xattrs.ts). Layers can be large, so the reader pulls from its
// input only as fast as entries and their data are consumed.
import { fail, type TsrunError } from '../errors.js';
import type { TarHeader } from './tar-writer.js';
import { parsePaxRecords, xattrsInPax, type PaxRecords } from './xattrs.js';

/** An entry's header as read: every field of tar-writer's, and the type flag as it was written.
 *  A type this reader does not know (a GNU sparse file, a volume label…) is 'unknown', and its data is skipped. */
export interface ReadHeader extends Required<Omit<TarHeader, 'type'>> {
  type: TarHeader['type'] | 'unknown';
  typeflag: string;
}

/** One entry: its header, and its data, which must be read before the next entry is asked for
 *  (whatever is left unread then is skipped). */
export interface ReadEntry {
  header: ReadHeader;
  data: AsyncIterable<Buffer>;
}

const BLOCK = 512;
const DAMAGED = 'the image is damaged or malicious; tsrun will not unpack it';
/** PAX and GNU long-name headers are read whole; Go's archive/tar (Docker's) refuses them past 1 MiB too. */
const MAX_META_SIZE = 1024 * 1024;

const TYPES: Record<string, ReadHeader['type']> = {
  '0': 'file', '\0': 'file', '7': 'file', // '\0' is pre-POSIX; '7', a contiguous file, is a file on Linux
  '1': 'link', '2': 'symlink', '3': 'character-device', '4': 'block-device', '5': 'directory', '6': 'fifo',
};
/** Types with no content, whatever their size field says (POSIX; Go's reader does the same). */
const HEADER_ONLY = new Set<ReadHeader['type']>(['link', 'symlink', 'character-device', 'block-device', 'directory', 'fifo']);

export interface ReadOptions {
  /** Take a tar whose last entry's padding is missing, as Go's reader (Docker's) does: the docker CLI 28 sends a
   *  build context so when its Dockerfile comes from standard input. A layer must be whole. */
  unpaddedEnd?: boolean;
}

/** The entries of the tar in `input`, one at a time. After the end-of-archive blocks it reads the
 *  rest of `input` through, unparsed, so that a hash taken of the bytes on their way covers them all. */
export async function* readTar(input: AsyncIterable<Buffer>, options: ReadOptions = {}): AsyncGenerator<ReadEntry> {
  const bytes = new Bytes(input[Symbol.asyncIterator]());
  let pax: PaxRecords = new Map();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const at = bytes.position;
    const block = await bytes.read(BLOCK);
    if (block.length === 0) return; // the input ended between entries: no end-of-archive blocks, as some writers do
    if (block.length < BLOCK) throw truncated(bytes);
    if (isZero(block)) return endOfArchive(bytes, at);

    const header = parseHeader(block, at);
    if ('xgLK'.includes(header.typeflag)) { // about the next entry: read whole ('g' then dropped)
      const what = 'xg'.includes(header.typeflag) ? 'PAX records' : 'long name';
      if (header.size > MAX_META_SIZE) throw damaged(`the tar header at byte ${at} announces ${header.size} bytes of ${what}, more than ${MAX_META_SIZE}`);
      const content = await bytes.read(header.size);
      if (content.length < header.size) throw truncated(bytes);
      await bytes.skip(padding(header.size));
      if (header.typeflag === 'x') pax = parsePaxRecords(content);
      if (header.typeflag === 'L') longName = cString(content, 0, content.length);
      if (header.typeflag === 'K') longLink = cString(content, 0, content.length);
      continue;
    }

    amend(header, pax, longName, longLink, at);
    pax = new Map();
    longName = longLink = undefined;
    const data = { left: header.size };
    yield { header, data: dataOf(bytes, data) };
    await bytes.skip(data.left); // what the consumer left unread
    data.left = 0;
    // Fewer bytes when the input ends here, which the next read finds: a tar whose last padding is missing.
    if (options.unpaddedEnd) await bytes.read(padding(header.size));
    else await bytes.skip(padding(header.size));
  }
}

/** The header's own fields; `size` is how much content follows it. */
function parseHeader(block: Buffer, at: number): ReadHeader {
  const field = (offset: number, length: number, what: string) => parseNumber(block, offset, length, what, at);
  const checksum = field(148, 8, 'checksum');
  if (checksum !== checksumOf(block, 'unsigned') && checksum !== checksumOf(block, 'signed')) {
    throw damaged(`the tar header at byte ${at} has a wrong checksum (not a tar, or damaged)`);
  }
  const magic = block.toString('latin1', 257, 265);
  const ustar = magic.startsWith('ustar\0'); // POSIX; GNU's own format says "ustar  \0" and has no prefix field
  if (!ustar && magic !== 'ustar  \0') throw damaged(`the tar header at byte ${at} is neither ustar nor GNU`);

  const typeflag = String.fromCharCode(block[156]!);
  let name = cString(block, 0, 100);
  if (ustar && block[345] !== 0) name = `${cString(block, 345, 155)}/${name}`;
  const type = TYPES[typeflag] ?? 'unknown';
  const size = field(124, 12, 'size');
  if (size < 0) throw damaged(`the tar header at byte ${at} has a negative size`);
  return {
    name, type, typeflag,
    mode: field(100, 8, 'mode'),
    uid: field(108, 8, 'uid'),
    gid: field(116, 8, 'gid'),
    size: HEADER_ONLY.has(type) ? 0 : size,
    mtime: new Date(field(136, 12, 'mtime') * 1000),
    linkname: cString(block, 157, 100),
    devmajor: field(329, 8, 'devmajor'),
    devminor: field(337, 8, 'devminor'),
    xattrs: new Map(),
  };
}

/** Let the records and long names read before `header` amend it. A PAX record wins over a GNU long name. */
function amend(header: ReadHeader, pax: PaxRecords, longName: string | undefined, longLink: string | undefined, at: number): void {
  if (longName !== undefined) header.name = longName;
  if (longLink !== undefined) header.linkname = longLink;
  if (pax.size > 0) {
    const text = (key: string) => pax.get(key)!.toString('utf8');
    const number = (key: string, pattern: RegExp) => {
      const value = text(key);
      if (!pattern.test(value)) throw damaged(`the PAX header before the tar header at byte ${at} has a malformed ${key}: ${JSON.stringify(value)}`);
      return Number(value);
    };
    if (pax.has('path')) header.name = text('path');
    if (pax.has('linkpath')) header.linkname = text('linkpath');
    if (pax.has('uid')) header.uid = number('uid', /^[0-9]{1,15}$/);
    if (pax.has('gid')) header.gid = number('gid', /^[0-9]{1,15}$/);
    if (pax.has('mtime')) header.mtime = new Date(number('mtime', /^-?[0-9]{1,15}(\.[0-9]+)?$/) * 1000);
    if (pax.has('size') && !HEADER_ONLY.has(header.type)) header.size = number('size', /^[0-9]{1,15}$/);
    header.xattrs = xattrsInPax(pax);
  }
  // Before POSIX, a directory was a file whose name ends in "/" (GNU tar still reads it so).
  if (header.type === 'file' && header.name.endsWith('/')) header.type = 'directory';
}

/** An entry's data, chunk by chunk as the input delivers it. `data.left` is shared with readTar, which
 *  skips what is left unread, and sets it to 0 then: a stale iterator yields nothing more. */
async function* dataOf(bytes: Bytes, data: { left: number }): AsyncGenerator<Buffer> {
  while (data.left > 0) {
    const chunk = await bytes.next(data.left);
    if (chunk === null) throw truncated(bytes);
    data.left -= chunk.length;
    yield chunk;
  }
}

/** After a zero block, one more (or nothing: some writers stop there); then anything at all, read through. */
async function endOfArchive(bytes: Bytes, at: number): Promise<void> {
  const second = await bytes.read(BLOCK);
  if (second.length > 0 && !isZero(second)) throw damaged(`the tar has a lone zero block at byte ${at}, with more after it`);
  while (await bytes.next(Infinity) !== null);
}

/** A number field: octal digits, ending in NUL or space (leading spaces allowed); or, with the first byte's
 *  high bit set, GNU's base-256, big-endian two's complement (tar-writer.ts writes it for numbers octal cannot hold). */
function parseNumber(block: Buffer, offset: number, length: number, what: string, at: number): number {
  const bad = (reason: string) => damaged(`the tar header at byte ${at} has ${reason} in its ${what} field`);
  if (block[offset]! & 0x80) {
    let value = BigInt(block[offset]! & 0x7f);
    for (let i = 1; i < length; i++) value = (value << 8n) | BigInt(block[offset + i]!);
    if (block[offset]! & 0x40) value -= 1n << BigInt(8 * length - 1); // the sign bit
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) throw bad('a number too large');
    return Number(value);
  }
  const text = block.toString('latin1', offset, offset + length);
  const digits = /^ *([0-7]*)(?:[ \0]|$)/.exec(text);
  if (digits === null) throw bad(`${JSON.stringify(text)}, not an octal number,`);
  return digits[1] === '' ? 0 : parseInt(digits[1]!, 8);
}

/** The header's bytes added up, its checksum field counted as eight spaces; some old writers summed signed bytes. */
function checksumOf(block: Buffer, bytes: 'unsigned' | 'signed'): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += bytes === 'signed' ? (block[i]! << 24) >> 24 : block[i]!;
  return sum;
}

/** Text up to the first NUL (or the field's end), as UTF-8. */
function cString(bytes: Buffer, offset: number, length: number): string {
  const end = bytes.indexOf(0, offset);
  return bytes.toString('utf8', offset, end === -1 || end > offset + length ? offset + length : end);
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** The zeros after `size` bytes of content, up to a whole block. */
function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function damaged(message: string): TsrunError {
  return fail(message, DAMAGED);
}

function truncated(bytes: Bytes): TsrunError {
  return damaged(`the tar ends in the middle of an entry, after ${bytes.position} bytes`);
}

/** The input, taken as the reader asks for it: a few bytes at a time, or whatever the next chunk holds.
 *  `position` counts the bytes taken so far. */
class Bytes {
  position = 0;
  private chunk: Buffer = Buffer.alloc(0);

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  /** The next bytes of the input, at most `max` of them, as they are (not copied); null once it has ended. */
  async next(max: number): Promise<Buffer | null> {
    while (this.chunk.length === 0) {
      const next = await this.chunks.next();
      if (next.done) return null;
      this.chunk = next.value;
    }
    const taken = this.chunk.subarray(0, max);
    this.chunk = this.chunk.subarray(taken.length);
    this.position += taken.length;
    return taken;
  }

  /** `length` bytes, or fewer if the input ends first. */
  async read(length: number): Promise<Buffer> {
    const first = await this.next(length);
    if (first === null) return Buffer.alloc(0);
    if (first.length === length) return first;
    const parts = [first];
    let got = first.length;
    while (got < length) {
      const part = await this.next(length - got);
      if (part === null) break;
      parts.push(part);
      got += part.length;
    }
    return Buffer.concat(parts, got);
  }

  /** Pass over `length` bytes, which must be there. */
  async skip(length: number): Promise<void> {
    for (let left = length; left > 0;) {
      const part = await this.next(left);
      if (part === null) throw truncated(this);
      left -= part.length;
    }
  }
}
