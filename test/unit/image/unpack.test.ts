import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { unpackLayer } from '../../../src/image/unpack.js';
import { readInLayers } from '../../../src/image/layer-stack.js';
import { realSyscalls as sys } from '../../../src/kernel/native.js';
import { TsrunError } from '../../../src/errors.js';
import { tarBytes, type TarHeader } from '../../../src/image/tar-writer.js';
import { buildTar, FIXTURE_MTIME, gzip, HAVE_ZSTD, IS_ROOT, makeTempDir, streamOf, zstd, type FixtureEntry } from './tar-fixtures.js';

// Each test gets <tmp>/dest to unpack into, and <tmp>/outside: what a
// malicious layer would like to reach. Nothing may ever appear there.
let tmp: string;
let dest: string;
let outside: string;

beforeEach(() => {
  tmp = makeTempDir('unpack');
  dest = path.join(tmp, 'dest');
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(dest);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret'), 'do not touch\n');
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function unpack(entries: FixtureEntry[], into = dest) {
  return unpackLayer(sys, streamOf(await buildTar(entries)), into);
}

/** A tar of one empty file with extended attributes, made by tsrun's own writer (tar-stream's writes PAX values as text). */
async function tarWithXattrs(name: string, xattrs: Map<string, Buffer>, owner: Partial<TarHeader> = {}): Promise<Buffer> {
  const header: TarHeader = { name, type: 'file', mode: 0o755, uid: process.getuid!(), gid: process.getgid!(), mtime: FIXTURE_MTIME, size: 0, xattrs, ...owner };
  const chunks: Buffer[] = [];
  for await (const chunk of tarBytes([{ header }])) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Buffer) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
const inDest = (name: string) => path.join(dest, name);
const modeOf = (name: string) => fs.lstatSync(inDest(name)).mode & 0o7777;

/** Change the type flag of the tar's first header, fixing up its checksum. */
function setTypeFlag(tar: Buffer, flag: string): void {
  tar.write(flag, 156, 'latin1');
  tar.fill(' ', 148, 156); // the checksum counts its own field as spaces
  const sum = tar.subarray(0, 512).reduce((total, byte) => total + byte, 0);
  tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}

const SAMPLE: FixtureEntry[] = [
  { name: 'etc/', type: 'directory', mode: 0o755 },
  { name: 'etc/hostname', content: 'layer\n', mode: 0o644 },
  { name: 'bin/', type: 'directory', mode: 0o711 },
  { name: 'bin/tool', content: '#!/bin/sh\necho hi\n', mode: 0o750 },
  { name: 'bin/sh', type: 'symlink', linkname: '/bin/tool' },
  { name: 'bin/tool-again', type: 'link', linkname: 'bin/tool' },
  { name: 'deep/er/file', content: 'no parent entries in the tar\n' },
];

describe('unpackLayer: an honest layer', () => {
  it('writes files, directories, symlinks and hard links with their modes and times', async () => {
    await unpack(SAMPLE);

    expect(fs.readFileSync(inDest('etc/hostname'), 'utf8')).toBe('layer\n');
    expect(modeOf('etc/hostname')).toBe(0o644);
    expect(modeOf('bin')).toBe(0o711);
    expect(modeOf('bin/tool')).toBe(0o750);
    expect(fs.readlinkSync(inDest('bin/sh'))).toBe('/bin/tool'); // absolute targets are kept as they are
    expect(fs.statSync(inDest('bin/tool-again')).ino).toBe(fs.statSync(inDest('bin/tool')).ino);
    expect(fs.readFileSync(inDest('deep/er/file'), 'utf8')).toBe('no parent entries in the tar\n');
    expect(modeOf('deep/er')).toBe(0o755);

    // Directory times are set last, after their contents were written.
    for (const name of ['etc', 'bin', 'etc/hostname', 'bin/tool', 'bin/sh']) {
      expect(fs.lstatSync(inDest(name)).mtime.getTime(), name).toBe(FIXTURE_MTIME.getTime());
    }
  });

  it('reports the diff id (sha256 of the whole uncompressed tar) and the file bytes', async () => {
    const tar = await buildTar(SAMPLE);
    const result = await unpackLayer(sys, streamOf(tar, 1000), dest);
    expect(result.diffId).toBe(sha256(tar));
    expect(result.size).toBe('layer\n'.length + '#!/bin/sh\necho hi\n'.length + 'no parent entries in the tar\n'.length);
  });

  it('hashes trailing zero blocks past the end-of-archive marker too', async () => {
    const tar = Buffer.concat([await buildTar(SAMPLE), Buffer.alloc(10 * 512)]);
    expect((await unpackLayer(sys, streamOf(tar), dest)).diffId).toBe(sha256(tar));
  });

  it('unpacks gzip layers, and names them by the uncompressed digest', async () => {
    const tar = await buildTar(SAMPLE);
    const result = await unpackLayer(sys, streamOf(gzip(tar)), dest);
    expect(result.diffId).toBe(sha256(tar));
    expect(fs.readFileSync(inDest('bin/tool'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
  });

  it.skipIf(!HAVE_ZSTD)('unpacks zstd layers, and names them by the uncompressed digest', async () => {
    const tar = await buildTar(SAMPLE);
    const result = await unpackLayer(sys, streamOf(zstd(tar), 4096), dest);
    expect(result.diffId).toBe(sha256(tar));
    expect(fs.readFileSync(inDest('etc/hostname'), 'utf8')).toBe('layer\n');
  });

  it('streams a large file through without trouble', async () => {
    const big = crypto.randomBytes(5 * 1024 * 1024 + 123);
    const result = await unpack([{ name: 'big.bin', content: big }]);
    expect(fs.readFileSync(inDest('big.bin')).equals(big)).toBe(true);
    expect(result.size).toBe(big.length);
  });

  it('lets a later entry for the same path win', async () => {
    await unpack([
      { name: 'a', content: 'first' },
      { name: 'a', content: 'second' },
      { name: 'b', content: 'file' },
      { name: 'b', type: 'symlink', linkname: 'a' },
      { name: 'c/', type: 'directory', mode: 0o755 },
      { name: 'c/inside', content: 'x' },
      { name: 'c/', type: 'directory', mode: 0o700 }, // a directory over a directory keeps its contents
      { name: 'd/', type: 'directory' },
      { name: 'd/inside', content: 'x' },
      { name: 'd', content: 'a file replaces the whole directory' },
      { name: 'e', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'e', content: 'replaces the symlink, does not write through it' },
      { name: 'f', content: 'a directory replaces the file' },
      { name: 'f/', type: 'directory', mode: 0o750 },
    ]);
    expect(fs.readFileSync(inDest('a'), 'utf8')).toBe('second');
    expect(fs.readlinkSync(inDest('b'))).toBe('a');
    expect(modeOf('c')).toBe(0o700);
    expect(fs.readFileSync(inDest('c/inside'), 'utf8')).toBe('x');
    expect(fs.readFileSync(inDest('d'), 'utf8')).toBe('a file replaces the whole directory');
    expect(fs.lstatSync(inDest('e')).isFile()).toBe(true);
    expect(fs.lstatSync(inDest('f')).isDirectory()).toBe(true);
    expect(modeOf('f')).toBe(0o750);
  });

  it('reads long names and link targets (PAX and GNU extensions)', async () => {
    const long = `${'directory-with-a-long-name/'.repeat(6)}file-${'x'.repeat(120)}`;
    await unpack([
      { name: long, content: 'deep' },
      { name: 'to-long', type: 'symlink', linkname: `/${long}` },
      { name: 'hard-to-long', type: 'link', linkname: long },
    ]);
    expect(fs.readFileSync(inDest(long), 'utf8')).toBe('deep');
    expect(fs.readlinkSync(inDest('to-long'))).toBe(`/${long}`);
    expect(fs.statSync(inDest('hard-to-long')).ino).toBe(fs.statSync(inDest(long)).ino);
  });

  it('applies a "./" entry to the layer root itself', async () => {
    await unpack([{ name: './', type: 'directory', mode: 0o750 }, { name: './x', content: 'x' }]);
    expect(fs.statSync(dest).mode & 0o7777).toBe(0o750);
    expect(fs.readFileSync(inDest('x'), 'utf8')).toBe('x');
  });

  it('refuses entry types it does not know (here a GNU sparse file)', async () => {
    const tar = await buildTar([{ name: 'sparse', content: 'x' }]);
    setTypeFlag(tar, 'S');
    await expect(unpackLayer(sys, streamOf(tar), dest)).rejects.toThrow('layer entry "sparse": unsupported kind of tar entry');
  });

  it('fails on a truncated tar', async () => {
    const tar = await buildTar(SAMPLE);
    await expect(unpackLayer(sys, streamOf(tar.subarray(0, 1500)), dest)).rejects.toThrow(/^the tar ends in the middle of an entry, after 1500 bytes$/);
  });

  it('fails on a damaged gzip stream', async () => {
    const compressed = gzip(await buildTar(SAMPLE));
    compressed.fill(0x55, 30, 60);
    await expect(unpackLayer(sys, streamOf(compressed), dest)).rejects.toThrow(TsrunError);
  });

  it('fails on a damaged header, saying so in its own words', async () => {
    const tar = await buildTar(SAMPLE);
    tar[0] = 0; // the first header's name: its checksum no longer matches
    const error = await unpackLayer(sys, streamOf(tar), dest).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TsrunError);
    expect((error as TsrunError).message).toMatch(/^the tar header at byte 0 has a wrong checksum/);
    expect((error as TsrunError).hint).toMatch(/damaged or malicious/);
  });
});

describe.skipIf(!IS_ROOT)('unpackLayer: what only root can write', () => {
  it('sets owners, and keeps setuid/setgid/sticky bits despite chown', async () => {
    await unpack([
      { name: 'usr/bin/su', content: 'su', mode: 0o4755, uid: 0, gid: 0 },
      { name: 'usr/bin/wall', content: 'wall', mode: 0o2755, uid: 1000, gid: 5 },
      { name: 'tmp/', type: 'directory', mode: 0o1777, uid: 0, gid: 0 },
      { name: 'home/user/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 },
      { name: 'home/user/link', type: 'symlink', linkname: 'nowhere', uid: 1000, gid: 1001 },
    ]);
    expect(modeOf('usr/bin/su')).toBe(0o4755);
    expect(modeOf('usr/bin/wall')).toBe(0o2755);
    expect(fs.statSync(inDest('usr/bin/wall'))).toMatchObject({ uid: 1000, gid: 5 });
    expect(modeOf('tmp')).toBe(0o1777);
    expect(fs.statSync(inDest('home/user'))).toMatchObject({ uid: 1000, gid: 1000 });
    expect(fs.lstatSync(inDest('home/user/link'))).toMatchObject({ uid: 1000, gid: 1001 });
  });

  it('makes device nodes and fifos', async () => {
    await unpack([
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, uid: 0, gid: 0 },
      { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660, uid: 0, gid: 6 },
      { name: 'run/pipe', type: 'fifo', mode: 0o620, uid: 0, gid: 0 },
    ]);
    const nullDevice = fs.lstatSync(inDest('dev/null'));
    expect(nullDevice.isCharacterDevice()).toBe(true);
    expect(nullDevice.rdev).toBe(fs.statSync('/dev/null').rdev);
    expect(nullDevice.mode & 0o7777).toBe(0o666);
    const loop = fs.lstatSync(inDest('dev/loop0'));
    expect(loop.isBlockDevice()).toBe(true);
    expect([Math.floor(loop.rdev / 256), loop.rdev % 256]).toEqual([7, 0]);
    expect(loop.gid).toBe(6);
    expect(fs.lstatSync(inDest('run/pipe')).isFIFO()).toBe(true);
    expect(modeOf('run/pipe')).toBe(0o620);
  });

  it('restores extended attributes from PAX records', async () => {
    await unpack([
      { name: 'f', content: 'x', pax: { 'SCHILY.xattr.user.colour': 'blue' } },
      { name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.user.kind': 'dir' } },
    ]);
    expect(sys.lgetxattr(inDest('f'), 'user.colour')?.toString()).toBe('blue');
    expect(sys.lgetxattr(inDest('d'), 'user.kind')?.toString()).toBe('dir');
  });

  it.skipIf(!IS_ROOT)('refuses trusted.* attributes, overlayfs\'s among them, and SELinux labels', async () => {
    await unpack([
      { name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } },
      { name: 'f', content: 'x', pax: { 'SCHILY.xattr.trusted.note': 'no', 'SCHILY.xattr.security.selinux': 'system_u:object_r:shadow_t:s0', 'SCHILY.xattr.user.ok': 'yes' } },
    ]);
    expect(sys.llistxattr(inDest('d'))).toEqual([]);
    expect(sys.llistxattr(inDest('f'))).toEqual(['user.ok']);
  });

  it('skips attributes this filesystem cannot hold, and fails on other refusals', async () => {
    await unpack([
      { name: 'f', content: 'x', pax: { 'SCHILY.xattr.nosuch.namespace': 'v', 'SCHILY.xattr.user.ok': 'yes' } }, // EOPNOTSUPP
      { name: 'l', type: 'symlink', linkname: 'f', pax: { 'SCHILY.xattr.user.on-symlink': 'v' } }, // EPERM
    ]);
    expect(sys.llistxattr(inDest('f'))).toEqual(['user.ok']);
    expect(sys.llistxattr(inDest('l'))).toEqual([]);

    fs.rmSync(dest, { recursive: true });
    fs.mkdirSync(dest);
    const tooBig = 'x'.repeat(70_000); // over XATTR_SIZE_MAX: E2BIG
    await expect(unpack([{ name: 'f', content: 'x', pax: { 'SCHILY.xattr.user.big': tooBig } }]))
      .rejects.toThrow(/layer entry "f": lsetxattr .*E2BIG/);
  });

  it('restores an attribute value that is not UTF-8 byte for byte', async () => {
    const binary = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
    await unpackLayer(sys, streamOf(await tarWithXattrs('f', new Map([['user.bin', binary], ['user.text', Buffer.from('ok')]]))), dest);
    expect(sys.lgetxattr(inDest('f'), 'user.bin')).toEqual(binary);
    expect(sys.lgetxattr(inDest('f'), 'user.text')?.toString()).toBe('ok');
  });

  it.skipIf(!IS_ROOT)('restores a file capability (setcap cap_setuid=ep) on a file owned by root', async () => {
    // struct vfs_cap_data, revision 2, effective; permitted bit 7 (CAP_SETUID): 0x80 alone is not UTF-8.
    const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const tar = await tarWithXattrs('tool', new Map([['security.capability', capability]]), { uid: 0, gid: 0 });
    await unpackLayer(sys, streamOf(tar), dest);
    expect(sys.lgetxattr(inDest('tool'), 'security.capability')).toEqual(capability);
  });

  it('refuses a malformed PAX record', async () => {
    const tar = await tarWithXattrs('f', new Map([['user.x', Buffer.from('y')]]));
    // PAX records are not checksummed: the length of the first one can be made to run past the end.
    const at = tar.indexOf(' SCHILY.xattr.user.x=y');
    tar.write('99', at - 2, 'latin1');
    await expect(unpackLayer(sys, streamOf(tar), dest)).rejects.toThrow(/malformed PAX record at byte 0/);
  });

  it('turns .wh.NAME into a 0:0 character device named NAME, and writes no marker', async () => {
    await unpack([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.motd', content: '' },
      { name: '.wh.gone', content: '' },
      { name: 'new/.wh.old', content: '' }, // the parent directory is not in the tar: made on the way
    ]);
    for (const name of ['etc/motd', 'gone', 'new/old']) {
      const stat = fs.lstatSync(inDest(name));
      expect(stat.isCharacterDevice(), name).toBe(true);
      expect(stat.rdev, name).toBe(0);
    }
    expect(fs.readdirSync(dest).sort()).toEqual(['etc', 'gone', 'new']);
    expect(fs.readdirSync(inDest('etc'))).toEqual(['motd']);
  });

  it('keeps a file the same layer also whites out: the whiteout only hides lower layers', async () => {
    await unpack([{ name: 'both', content: 'here' }, { name: '.wh.both', content: '' }]);
    expect(fs.readFileSync(inDest('both'), 'utf8')).toBe('here');
    await unpack([{ name: '.wh.later', content: '' }, { name: 'later', content: 'replaces the whiteout' }]);
    expect(fs.readFileSync(inDest('later'), 'utf8')).toBe('replaces the whiteout');
  });

  it('turns DIR/.wh..wh..opq into trusted.overlay.opaque=y on DIR, and ignores other AUFS names', async () => {
    await unpack([
      { name: 'var/', type: 'directory' },
      { name: 'var/cache/', type: 'directory', mode: 0o750 },
      { name: 'var/cache/.wh..wh..opq', content: '' },
      { name: 'var/cache/fresh', content: 'only this' },
      { name: 'srv/.wh..wh..opq', content: '' }, // DIR is not in the tar: made
      { name: '.wh..wh.plnk/', type: 'directory' },
      { name: '.wh..wh.plnk/1234.5678', content: 'aufs hard link store' },
    ]);
    expect(sys.lgetxattr(inDest('var/cache'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(sys.lgetxattr(inDest('srv'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(sys.lgetxattr(inDest('var'), 'trusted.overlay.opaque')).toBeNull();
    expect(fs.readdirSync(inDest('var/cache'))).toEqual(['fresh']);
    expect(modeOf('var/cache')).toBe(0o750);
    expect(fs.readdirSync(dest).sort()).toEqual(['srv', 'var']);
  });
});

describe('unpackLayer: a malicious layer', () => {
  // Each case's last entry is the one refused: the error must name it.
  const cases: { what: string; entries: () => FixtureEntry[] }[] = [
    { what: 'an absolute path', entries: () => [{ name: `${outside}/pwned`, content: 'x' }] },
    { what: 'a ../ path', entries: () => [{ name: '../outside/pwned', content: 'x' }] },
    { what: 'a path that climbs out through a/..', entries: () => [{ name: 'a/../../outside/pwned', content: 'x' }] },
    {
      what: 'a file written through a symlink to an absolute path',
      entries: () => [{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'evil/pwned', content: 'x' }],
    },
    {
      what: 'a file written through a relative symlink deeper down',
      entries: () => [
        { name: 'a/', type: 'directory' },
        { name: 'a/b', type: 'symlink', linkname: '../../outside' },
        { name: 'a/b/sub/pwned', content: 'x' },
      ],
    },
    {
      what: 'a directory made through a symlink',
      entries: () => [{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'evil/newdir/', type: 'directory' }],
    },
    {
      what: 'a symlink placed through a symlink',
      entries: () => [{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'evil/link', type: 'symlink', linkname: '/' }],
    },
    {
      what: 'a hard link to an absolute path',
      entries: () => [{ name: 'h', type: 'link', linkname: path.join(outside, 'secret') }],
    },
    { what: 'a hard link to /etc/passwd', entries: () => [{ name: 'passwd', type: 'link', linkname: '/etc/passwd' }] },
    { what: 'a hard link through ..', entries: () => [{ name: 'h', type: 'link', linkname: '../outside/secret' }] },
    {
      what: 'a hard link through a symlinked directory',
      entries: () => [{ name: 'd', type: 'symlink', linkname: outside }, { name: 'h', type: 'link', linkname: 'd/secret' }],
    },
    { what: 'a hard link to a file not in the layer', entries: () => [{ name: 'h', type: 'link', linkname: 'missing' }] },
    {
      what: 'a whiteout outside the layer',
      entries: () => [{ name: '../outside/.wh.secret', content: '' }],
    },
    {
      what: 'a whiteout through a symlink',
      entries: () => [{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'evil/.wh.secret', content: '' }],
    },
    {
      what: 'an opaque marker through a symlink',
      entries: () => [{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'evil/.wh..wh..opq', content: '' }],
    },
    { what: 'an opaque marker outside the layer', entries: () => [{ name: '../outside/.wh..wh..opq', content: '' }] },
    {
      what: 'the layer root replaced by a symlink',
      entries: () => [{ name: './', type: 'symlink', linkname: outside }],
    },
  ];

  for (const { what, entries } of cases) {
    it(`refuses ${what}`, async () => {
      const layer = entries();
      const attempt = unpack(layer);
      await expect(attempt).rejects.toBeInstanceOf(TsrunError);
      await expect(attempt).rejects.toThrow(`layer entry ${JSON.stringify(layer.at(-1)!.name)}`);
      expectOutsideUntouched();
    });
  }

  it('says why, with a hint', async () => {
    const error = await unpack([{ name: 'evil', type: 'symlink', linkname: '/etc' }, { name: 'evil/passwd', content: 'x' }])
      .then(() => undefined, (caught: unknown) => caught as TsrunError) as TsrunError;
    expect(error.message).toBe('layer entry "evil/passwd": path goes through the symlink "evil"');
    expect(error.hint).toMatch(/damaged or malicious/);
  });

  it('refuses before writing anything through the link, even when later entries look harmless', async () => {
    await expect(unpack([
      { name: 'evil', type: 'symlink', linkname: outside },
      { name: 'evil/secret', content: 'overwritten' },
      { name: 'fine', content: 'never reached' },
    ])).rejects.toThrow('layer entry "evil/secret"');
    expectOutsideUntouched();
    expect(fs.existsSync(inDest('fine'))).toBe(false);
  });

  it('lets a hard link to a symlink link the symlink itself, never its target', async () => {
    await unpack([
      { name: 's', type: 'symlink', linkname: path.join(outside, 'secret') },
      { name: 'h', type: 'link', linkname: 's' },
    ]);
    expect(fs.lstatSync(inDest('h')).isSymbolicLink()).toBe(true);
    expectOutsideUntouched();
  });

  it('refuses a hard link to itself: the entry replaces its own target', async () => {
    await expect(unpack([{ name: 'a', content: 'first' }, { name: 'a', type: 'link', linkname: 'a' }])).rejects.toThrow('layer entry "a": hard link target "a" is not in this layer');
  });

  it('refuses a link that names no target', async () => {
    await expect(unpack([{ name: 'a', type: 'link', linkname: '' }])).rejects.toThrow(/^layer entry "a": a hard link without a target$/);
    await expect(unpack([{ name: 'b', type: 'symlink', linkname: '' }])).rejects.toThrow(/^layer entry "b": a symbolic link without a target$/);
  });

  it('stops reading and closes its input when it refuses an entry', async () => {
    const tar = await buildTar([
      { name: 'evil', type: 'symlink', linkname: outside },
      { name: 'evil/pwned', content: 'x' },
      { name: 'padding', content: crypto.randomBytes(8 * 1024 * 1024) },
    ]);
    const file = path.join(tmp, 'layer.tar.gz');
    fs.writeFileSync(file, gzip(tar));
    const input = fs.createReadStream(file, { highWaterMark: 16 * 1024 });
    await expect(unpackLayer(sys, input, dest)).rejects.toThrow('layer entry "evil/pwned"');
    expect(input.destroyed).toBe(true);
    expect(input.bytesRead).toBeLessThan(fs.statSync(file).size);
    fs.rmSync(file);
    expectOutsideUntouched();
  });

  function expectOutsideUntouched() {
    expect(fs.readdirSync(outside)).toEqual(['secret']);
    const secret = fs.lstatSync(path.join(outside, 'secret'));
    expect(secret.isFile()).toBe(true);
    expect(secret.nlink).toBe(1);
    expect(fs.readFileSync(path.join(outside, 'secret'), 'utf8')).toBe('do not touch\n');
    expect(fs.readdirSync(tmp).sort()).toEqual(['dest', 'outside']);
    expect(sys.llistxattr(outside)).not.toContain('trusted.overlay.opaque');
    expect(fs.statSync('/etc/passwd').nlink).toBe(1);
  }
});

describe.skipIf(!IS_ROOT)('unpackLayer: layers stacked by overlayfs', () => {
  it('gives the merged view the image means, and readInLayers agrees with it', async () => {
    const lower = path.join(tmp, 'lower');
    const upper = path.join(tmp, 'upper');
    const merged = path.join(tmp, 'merged');
    for (const dir of [lower, upper, merged]) fs.mkdirSync(dir);

    await unpack([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
      { name: 'etc/motd', content: 'welcome\n' },
      { name: 'cache/', type: 'directory' },
      { name: 'cache/old-a', content: 'a' },
      { name: 'cache/sub/old-b', content: 'b' },
      { name: 'data/', type: 'directory' },
      { name: 'data/keep', content: 'kept' },
      { name: 'gone.txt', content: 'deleted above' },
    ], lower);
    await unpack([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.motd', content: '' },
      { name: 'cache/', type: 'directory' },
      { name: 'cache/.wh..wh..opq', content: '' },
      { name: 'cache/fresh', content: 'new' },
      { name: 'data/', type: 'directory' },
      { name: 'data/added', content: 'added' },
      { name: '.wh.gone.txt', content: '' },
    ], upper);

    sys.mount('overlay', merged, 'overlay', ['MS_RDONLY'], `lowerdir=${upper}:${lower}`);
    try {
      expect(fs.readdirSync(merged).sort()).toEqual(['cache', 'data', 'etc']);
      expect(fs.readdirSync(path.join(merged, 'etc'))).toEqual(['passwd']);
      expect(fs.readdirSync(path.join(merged, 'cache'))).toEqual(['fresh']);
      expect(fs.readdirSync(path.join(merged, 'data')).sort()).toEqual(['added', 'keep']);
      expect(fs.readFileSync(path.join(merged, 'etc/passwd'), 'utf8')).toBe('root:x:0:0:root:/root:/bin/sh\n');

      const layers = [upper, lower];
      for (const file of ['/etc/passwd', '/etc/motd', '/cache/old-a', '/cache/sub/old-b', '/cache/fresh', '/data/keep', '/data/added', '/gone.txt']) {
        const text = readInLayers(layers, file, sys);
        expect(text !== null, file).toBe(fs.existsSync(path.join(merged, file)));
        if (text !== null) expect(text, file).toBe(fs.readFileSync(path.join(merged, file), 'utf8'));
      }
    } finally {
      sys.umount2(merged, []);
    }
  });
});
