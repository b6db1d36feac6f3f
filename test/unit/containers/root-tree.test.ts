// A tree behind a root descriptor, on temporary directories with the real openat2: a symlink in the tree that
// points at a directory outside it leads nowhere outside, a tar's names stay below the directory they are
// unpacked in, and a tree read as a tar comes back the same.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractInto, lstatIn, treeEntries } from '../../../src/containers/root-tree.js';
import { tarBytes, type TarEntry } from '../../../src/image/tar-writer.js';
import { realSyscalls as sys } from '../../../src/kernel/native.js';
import { IS_ROOT, makeTempDir } from '../image/tar-fixtures.js';

let tmp: string;
/** The tree's root, and a directory beside it that its symlinks point at. */
let tree: string;
let outside: string;
let rootFd: number;

beforeEach(() => {
  tmp = makeTempDir('root-tree');
  tree = path.join(tmp, 'tree');
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(path.join(tree, 'dir', 'sub'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret'), 'outside\n');
  fs.writeFileSync(path.join(tree, 'dir', 'sub', 'f'), 'inside\n');
  fs.symlinkSync(outside, path.join(tree, 'absolute'));
  fs.symlinkSync(`../../../../../../..${outside}`, path.join(tree, 'climbing'));
  rootFd = fs.openSync(tree, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
});

afterEach(() => {
  fs.closeSync(rootFd);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const names = async (entries: AsyncIterable<TarEntry>) => {
  const seen: string[] = [];
  for await (const { header, file } of entries) {
    seen.push(header.type === 'symlink' ? `${header.name} -> ${header.linkname}` : header.name);
    if (typeof file === 'number') fs.closeSync(file);
  }
  return seen;
};
const header = (name: string, type: TarEntry['header']['type'], more: Partial<TarEntry['header']> = {}) =>
  ({ name, type, mode: 0o644, uid: 0, gid: 0, mtime: new Date('2020-02-02T02:02:02Z'), ...more });

describe('reading', () => {
  it('resolves a path\'s symlinks inside the root: one pointing outside finds nothing there', () => {
    for (const at of ['/absolute/secret', '/climbing/secret']) expect(() => lstatIn(sys, rootFd, at)).toThrow(/ENOENT/);
    expect(lstatIn(sys, rootFd, '/absolute')).toMatchObject({ linkTarget: outside });
    expect(lstatIn(sys, rootFd, '/../../dir/sub/f').stat.size).toBe('inside\n'.length);
  });

  it('tars a tree under the name asked, its symlinks as links, never followed', async () => {
    expect(await names(treeEntries(sys, rootFd, '/dir', 'copy'))).toEqual(['copy/', 'copy/sub/', 'copy/sub/f']);
    expect(await names(treeEntries(sys, rootFd, '/absolute', 'absolute'))).toEqual([`absolute -> ${outside}`]);
  });
});

describe.skipIf(!IS_ROOT)('unpacking (as root: the files are given to root)', () => {
  const options = { noOverwriteDirNonDir: true, copyUidGid: false };

  it('unpacks what the tree gave, into another directory, the same', async () => {
    fs.mkdirSync(path.join(tree, 'into'));
    await extractInto(sys, rootFd, '/into', tarBytes(treeEntries(sys, rootFd, '/dir', 'copy')), options);
    expect(fs.readFileSync(path.join(tree, 'into', 'copy', 'sub', 'f'), 'utf8')).toBe('inside\n');
  });

  it('keeps a tar below its directory: a name with "..", a link it made, a link the tree had', async () => {
    await expect(extractInto(sys, rootFd, '/dir', tarBytes([{ header: header(`../../../..${outside}/evil`, 'file', { size: 0 }), file: '/dev/null' }]), options))
      .rejects.toThrow(/is outside of \/dir/);
    const through = tarBytes([
      { header: header('esc', 'symlink', { linkname: outside }) },
      { header: header('esc/evil', 'file', { size: 0 }), file: '/dev/null' },
    ]);
    await expect(extractInto(sys, rootFd, '/dir', through, options)).rejects.toThrow();
    // Into the tree's own symlink: resolved inside the tree, where nothing of that name is.
    await expect(extractInto(sys, rootFd, '/absolute', tarBytes([{ header: header('evil', 'file', { size: 0 }), file: '/dev/null' }]), options)).rejects.toThrow(/ENOENT/);
    expect(fs.readdirSync(outside)).toEqual(['secret']);
  });

  it('refuses a file over a directory when asked, and on the host drops set-uid and device nodes', async () => {
    await expect(extractInto(sys, rootFd, '/', tarBytes([{ header: header('dir', 'file', { size: 0 }), file: '/dev/null' }]), options))
      .rejects.toThrow('cannot overwrite directory "dir" with non-directory');
    const planted = tarBytes([
      { header: header('suid', 'file', { size: 0, mode: 0o4755 }), file: '/dev/null' },
      { header: header('disk', 'block-device', { mode: 0o666, devmajor: 8, devminor: 0 }) },
    ]);
    await extractInto(sys, rootFd, '/dir', planted, { ...options, toHost: true });
    expect(fs.statSync(path.join(tree, 'dir', 'suid')).mode & 0o7777).toBe(0o755);
    expect(fs.existsSync(path.join(tree, 'dir', 'disk'))).toBe(false);
  });
});
