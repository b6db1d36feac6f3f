// The tar writer is checked against other readers: tar-stream's extract, and GNU tar.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { extract } from 'tar-stream';
import { tarBytes, type TarEntry, type TarHeader } from '../../../src/image/tar-writer.js';
import { realSyscalls as sys } from '../../../src/kernel/native.js';
import { FIXTURE_MTIME, IS_ROOT, makeTempDir, streamOf } from './tar-fixtures.js';

let tmp: string;
beforeEach(() => {
  tmp = makeTempDir('tar-writer');
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const base = { mode: 0o644, uid: 1000, gid: 1000, mtime: FIXTURE_MTIME };

async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarBytes(entries)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** What tar-stream reads back: each entry's header and content. */
async function readBack(tar: Buffer): Promise<{ header: Partial<TarHeader>; content: string }[]> {
  const parser = extract();
  streamOf(tar, 700).pipe(parser);
  const entries = [];
  for await (const entry of parser) {
    let content = '';
    for await (const chunk of entry as AsyncIterable<Buffer>) content += chunk.toString();
    const { name, type, mode, uid, gid, mtime, size, linkname } = entry.header;
    entries.push({ header: { name, type, mode, uid, gid, mtime, size, ...(linkname ? { linkname } : {}) } as Partial<TarHeader>, content });
  }
  return entries;
}

describe('tarBytes', () => {
  it('writes ustar entries that another reader reads back as they were', async () => {
    const file = path.join(tmp, 'content');
    fs.writeFileSync(file, 'x'.repeat(1000)); // two blocks, the second one padded
    const longName = `deep/${'n'.repeat(150)}`;
    const entries: TarEntry[] = [
      { header: { ...base, name: 'd/', type: 'directory', mode: 0o755 } },
      { header: { ...base, name: 'd/file', type: 'file', size: 1000 }, file },
      { header: { ...base, name: longName, type: 'file', size: 0 } },            // too long for the 100-byte field
      { header: { ...base, name: 'café', type: 'file', size: 0, uid: 3_000_000 } }, // not ASCII, and a uid past 7 octal digits
      { header: { ...base, name: 'link', type: 'symlink', linkname: `/${'t'.repeat(120)}` } },
      { header: { ...base, name: 'again', type: 'link', linkname: 'd/file' } },
    ];
    const read = await readBack(await tarOf(entries));
    expect(read.map((entry) => entry.header)).toEqual(entries.map(({ header }) => ({ size: 0, ...header })));
    expect(read[1]!.content).toBe('x'.repeat(1000));
  });

  it('is a tar GNU tar lists, times before 1970 included', async () => {
    const tar = path.join(tmp, 'layer.tar');
    fs.writeFileSync(tar, await tarOf([
      { header: { ...base, name: 'd/', type: 'directory', mode: 0o755 } },
      { header: { ...base, name: `d/${'long'.repeat(40)}`, type: 'file', size: 0, xattrs: new Map([['user.a', Buffer.from([0xff])]]) } },
      { header: { ...base, name: 'old', type: 'file', size: 0, uid: 3_000_000, mtime: new Date('1960-01-01T00:00:00Z') } },
    ]));
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', tar], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    expect(listing.split('\n').map((line) => line.split(/\s+/).slice(1).join(' '))).toEqual([
      '1000/1000 0 2020-02-02 02:02:02 d/',
      `1000/1000 0 2020-02-02 02:02:02 d/${'long'.repeat(40)}`,
      '3000000/1000 0 1960-01-01 00:00:00 old',
      '',
    ]);
  });

  it.skipIf(!IS_ROOT)('carries a file capability that GNU tar extracts byte for byte', async () => {
    const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const tar = path.join(tmp, 'layer.tar');
    fs.writeFileSync(tar, await tarOf([{ header: { ...base, uid: 0, gid: 0, name: 'ping', type: 'file', size: 0, mode: 0o755, xattrs: new Map([['security.capability', capability]]) } }]));
    fs.mkdirSync(path.join(tmp, 'out'));
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', path.join(tmp, 'out'), '-xf', tar]);
    expect(sys.lgetxattr(path.join(tmp, 'out', 'ping'), 'security.capability')).toEqual(capability);
    expect(execFileSync('getcap', [path.join(tmp, 'out', 'ping')], { encoding: 'utf8' })).toContain('cap_setuid=ep');
  });

  it('fails when a file is not the size its header says', async () => {
    const file = path.join(tmp, 'content');
    fs.writeFileSync(file, 'grew');
    await expect(tarOf([{ header: { ...base, name: 'f', type: 'file', size: 2 }, file }])).rejects.toThrow('f changed size while it was read (2 bytes, then 4)');
  });
});
