// Writing a layer tar, as `tsrun commit` does. A tar is a list of entries,
// each a 512-byte header followed by its content, padded to 512 bytes; two
// zero blocks end it. The header (ustar) has fixed-size fields: a name of at
// most 100 bytes, numbers in octal. Text that does not fit (a long or
// non-ASCII name), and extended attributes, whose values are bytes, go in a
// PAX extended header: an entry of type 'x' just before, whose content is
// records "LENGTH KEY=VALUE\n" (xattrs.ts).
//
// tar-stream's pack() writes PAX values as UTF-8 text and writes no content
// for an entry of type 'x', so it could not carry a file capability: hence
// this writer.
import fs from 'node:fs';
import { fail } from '../errors.js';
import { encodePaxRecords, paxRecordsFor } from './xattrs.js';

export interface TarHeader {
  name: string;
  type: keyof typeof TYPE_FLAGS;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  /** A regular file's size in bytes. */
  size?: number;
  /** A symlink's target, or the earlier entry a hard link names. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

/** One entry: its header and, for a regular file, the file its content is read from. */
export interface TarEntry {
  header: TarHeader;
  /** The path of a regular file's content, or a descriptor open on it (closed once read). */
  file?: string | number;
}

const TYPE_FLAGS = {
  'file': '0', 'link': '1', 'symlink': '2', 'character-device': '3', 'block-device': '4', 'directory': '5', 'fifo': '6',
};

const BLOCK = 512;

// #region tar-writer
/** The bytes of a tar holding `entries`, made as they are read. */
export async function* tarBytes(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const { header, file } of entries) {
    const records: [string, Buffer][] = [];
    const block = ustarHeader(header, header.type, records);
    records.push(...paxRecordsFor(header.xattrs ?? new Map()));
    if (records.length > 0) {
      const pax = encodePaxRecords(records);
      yield ustarHeader({ name: 'PaxHeader', mode: 0o644, uid: 0, gid: 0, mtime: header.mtime, size: pax.length }, 'pax', []);
      yield pax;
      yield padding(pax.length);
    }
    yield block;
    if (file !== undefined) yield* fileContent(file, header);
  }
  yield Buffer.alloc(2 * BLOCK);
}
// #endregion

/** An entry's 512-byte header. What its fields cannot hold is added to `records`, for a PAX header. */
function ustarHeader(header: Omit<TarHeader, 'type'>, type: TarHeader['type'] | 'pax', records: [string, Buffer][]): Buffer {
  const block = Buffer.alloc(BLOCK);
  const text = (offset: number, length: number, value: string, key: string) => {
    // Old readers get what fits (Go's archive/tar writes the same); PAX readers, the whole.
    if (!/^[\x20-\x7e]*$/.test(value) || value.length > length) records.push([key, Buffer.from(value)]);
    block.write(value.replace(/[^\x20-\x7e]/g, '').slice(0, length), offset, 'latin1');
  };
  const number = (offset: number, length: number, value: number) => {
    const digits = value.toString(8);
    if (value >= 0 && digits.length < length) block.write(digits.padStart(length - 1, '0'), offset, 'latin1'); // and a NUL
    else writeBase256(block, offset, length, value);
  };
  text(0, 100, header.name, 'path');
  number(100, 8, header.mode);
  number(108, 8, header.uid);
  number(116, 8, header.gid);
  number(124, 12, header.size ?? 0);
  number(136, 12, Math.floor(header.mtime.getTime() / 1000));
  block.write(type === 'pax' ? 'x' : TYPE_FLAGS[type], 156, 'latin1');
  if (header.linkname) text(157, 100, header.linkname, 'linkpath');
  block.write('ustar\u000000', 257, 'latin1');
  number(329, 8, header.devmajor ?? 0);
  number(337, 8, header.devminor ?? 0);
  // The checksum is the sum of the header's bytes, its own field counted as eight spaces.
  block.fill(' ', 148, 156);
  const sum = block.reduce((total, byte) => total + byte, 0);
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

/** A number too large for its octal field (a uid past 2097151, a file of 8 GiB), or negative (a time before
 *  1970), as GNU tar writes it and every reader we know reads it, tar-stream included (PAX's "uid" record
 *  it ignores): big-endian two's complement, the first byte's high bit set. */
function writeBase256(block: Buffer, offset: number, length: number, value: number): void {
  let bits = BigInt(value) & ((1n << BigInt(8 * length)) - 1n);
  for (let i = length - 1; i >= 0; i--, bits >>= 8n) block[offset + i] = Number(bits & 0xffn);
  if (value >= 0) block[offset] = 0x80;
}

/** The zeros that fill `size` bytes of content up to a whole block. */
function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** A regular file's content, which must be the size its header says. */
async function* fileContent(file: string | number, header: TarHeader): AsyncGenerator<Buffer> {
  let read = 0;
  const stream = typeof file === 'number' ? fs.createReadStream('', { fd: file }) : fs.createReadStream(file);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    read += chunk.length;
    yield chunk;
  }
  if (read !== header.size) throw fail(`${header.name} changed size while it was read (${header.size} bytes, then ${read})`);
  yield padding(read);
}
