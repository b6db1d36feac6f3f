// Files under a root that is not ours to trust: a container's filesystem, whose symlinks its image chose
// ("/etc -> /home/teacher", "../../../../tmp"). `tsrun cp` and the daemon's archive endpoints read and write
// it through a descriptor of its root, never through a host path:
//
//   a path            opened with openat2(root, path, RESOLVE_IN_ROOT): ".." stops at the root, an absolute
//                     symlink starts again from it, as if the root were "/" (and no /proc magic link is taken)
//   below that        every further step is one name in a directory held open: openat2 with RESOLVE_BENEATH
//                     and RESOLVE_NO_SYMLINKS, or a plain call on /proc/self/fd/DIR/NAME, the kernel's name
//                     of the very directory the descriptor holds, whatever a running container renames meanwhile
//
// The same code reads and writes the host's side of a copy, with "/" as the root.
import fs from 'node:fs';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';
import type { TarEntry, TarHeader } from '../image/tar-writer.js';
import { readTar } from '../image/tar-reader.js';
import { fail, printable } from '../errors.js';

/** A directory's descriptor as a path, with one name below it: that name is never a symlink followed. */
const at = (dirFd: number, name = '.') => `/proc/self/fd/${dirFd}/${name}`;

/** One step below a directory held open, refusing a symlink: the only way this file goes further down. */
const IN_DIR = ['RESOLVE_BENEATH', 'RESOLVE_NO_SYMLINKS'] as const;

// #region locate
/** Docker's reading of a container path: its directory resolved inside the root (symlinks followed there), its
 *  last name kept as it is, so that a symlink at the end is the link itself. "/etc/" and "/etc/." ask for what
 *  /etc leads to, and their last name is ".". */
export function splitPath(containerPath: string): { dir: string; base: string } {
  const absolute = path.posix.join('/', containerPath);
  if (absolute === '/' || /\/\.?$/.test(containerPath)) return { dir: absolute.replace(/(.)\/$/, '$1'), base: '.' };
  return { dir: path.posix.dirname(absolute), base: path.posix.basename(absolute) };
}

/** The directory of `containerPath` opened inside the root (O_PATH), and its last name. ENOENT, ENOTDIR as the
 *  kernel says them. The caller closes `dirFd`. */
export function locate(sys: Syscalls, rootFd: number, containerPath: string): { dirFd: number; base: string } {
  const { dir, base } = splitPath(containerPath);
  const dirFd = sys.openat2(rootFd, dir, ['O_PATH', 'O_DIRECTORY'], ['RESOLVE_IN_ROOT', 'RESOLVE_NO_MAGICLINKS']);
  return { dirFd, base };
}
// #endregion

/** What is at `containerPath`, not following a symlink at its end; throws ENOENT when nothing is. */
export function lstatIn(sys: Syscalls, rootFd: number, containerPath: string): { stat: fs.Stats; linkTarget: string } {
  const { dirFd, base } = locate(sys, rootFd, containerPath);
  try {
    const stat = fs.lstatSync(at(dirFd, base));
    // Where a link leads, as a path of the container's; the docker CLI asks again there (cp -L).
    const linkTarget = stat.isSymbolicLink()
      ? path.posix.resolve(path.posix.dirname(path.posix.join('/', containerPath)), fs.readlinkSync(at(dirFd, base)))
      : '';
    return { stat, linkTarget };
  } finally {
    fs.closeSync(dirFd);
  }
}

// #region tree-entries
/** The entries of a tar of what is at `containerPath` (all below it, for a directory), named `name`,
 *  `name/a`, `name/a/b`…; a symlink is written as a link, never followed. Read as the tar is written. */
export async function* treeEntries(sys: Syscalls, rootFd: number, containerPath: string, name: string): AsyncGenerator<TarEntry> {
  const { dirFd, base } = locate(sys, rootFd, containerPath);
  try {
    yield* entriesBelow(sys, dirFd, base, name);
  } finally {
    fs.closeSync(dirFd);
  }
}

async function* entriesBelow(sys: Syscalls, dirFd: number, base: string, name: string): AsyncGenerator<TarEntry> {
  const stat = fs.lstatSync(at(dirFd, base));
  const header: TarHeader = { name, type: 'file', mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, mtime: stat.mtime };
  if (stat.isDirectory()) {
    const fd = sys.openat2(dirFd, base, ['O_RDONLY', 'O_DIRECTORY', 'O_NOFOLLOW'], [...IN_DIR]);
    try {
      yield { header: { ...header, name: `${name}/`, type: 'directory' } };
      for (const child of fs.readdirSync(at(fd)).sort()) yield* entriesBelow(sys, fd, child, `${name}/${child}`);
    } finally {
      fs.closeSync(fd);
    }
  } else if (stat.isFile()) {
    // Opened, not named: the size is the descriptor's, and tarBytes reads and closes it.
    const fd = sys.openat2(dirFd, base, ['O_RDONLY', 'O_NOFOLLOW', 'O_NONBLOCK'], [...IN_DIR]);
    const opened = fs.fstatSync(fd);
    if (opened.isFile()) yield { header: { ...header, size: opened.size }, file: fd };
    else fs.closeSync(fd); // a running container swapped it for something else (a FIFO) since: left out
  } else if (stat.isSymbolicLink()) {
    yield { header: { ...header, type: 'symlink', linkname: fs.readlinkSync(at(dirFd, base)) } };
  } else if (stat.isFIFO()) {
    yield { header: { ...header, type: 'fifo' } };
  } else if (stat.isCharacterDevice() || stat.isBlockDevice()) {
    const type = stat.isCharacterDevice() ? 'character-device' : 'block-device';
    yield { header: { ...header, type, devmajor: Math.floor(stat.rdev / 256), devminor: stat.rdev % 256 } };
  } // a socket has no tar entry; Docker leaves it out too
}
// #endregion

export interface ExtractOptions {
  /** Refuse to put a directory where a file is, or the other way round (the docker CLI always asks this). */
  noOverwriteDirNonDir: boolean;
  /** Keep the archive's owners (`cp -a`); without, everything is root's, as Docker makes it. */
  copyUidGid: boolean;
  /** A container's files unpacked on the host, by root: no device node (its numbers could name the host's disk)
   *  and no set-uid or set-gid bit (a container's set-uid file would be a set-uid program of root's). */
  toHost?: boolean;
}

// #region extract
/** Unpack the tar in `input` into the directory `dirPath` of the root. Nothing lands outside that directory: an
 *  entry's name with ".." that climbs out of it is refused, and a symlink met on the way (one the root had, or
 *  one the tar made) is resolved with the directory as its root. */
export async function extractInto(sys: Syscalls, rootFd: number, dirPath: string, input: AsyncIterable<Buffer>, options: ExtractOptions): Promise<void> {
  const destFd = sys.openat2(rootFd, dirPath, ['O_PATH', 'O_DIRECTORY'], ['RESOLVE_IN_ROOT', 'RESOLVE_NO_MAGICLINKS']);
  const directories: { name: string; mtime: Date }[] = [];
  try {
    for await (const { header, data } of readTar(input)) {
      const name = path.posix.normalize(header.name).replace(/^\/+|\/+$/g, '');
      if (name === '..' || name.startsWith('../')) throw fail(`${printable(header.name)} is outside of ${printable(dirPath)}`, 'the archive is malformed or malicious');
      if (name === '.' || header.type === 'unknown') continue; // the directory itself is there; a type with no file
      if (options.toHost && ['character-device', 'block-device'].includes(header.type)) continue;
      const parentFd = openDirCreating(sys, destFd, path.posix.dirname(name));
      try {
        const base = path.posix.basename(name);
        replaceExisting(sys, parentFd, base, header.type === 'directory', name, options);
        const owner = options.copyUidGid ? [header.uid, header.gid] as const : [0, 0] as const;
        const mode = options.toHost ? header.mode & 0o1777 : header.mode;
        await create(sys, destFd, parentFd, base, { ...header, type: header.type, mode }, data, owner);
        if (header.type === 'directory') directories.push({ name, mtime: header.mtime });
      } finally {
        fs.closeSync(parentFd);
      }
    }
    // A directory's time last, after the entries written into it changed it.
    for (const { name, mtime } of directories.reverse()) {
      const fd = sys.openat2(destFd, name, ['O_RDONLY', 'O_DIRECTORY'], ['RESOLVE_IN_ROOT', 'RESOLVE_NO_MAGICLINKS']);
      fs.futimesSync(fd, mtime, mtime);
      fs.closeSync(fd);
    }
  } finally {
    fs.closeSync(destFd);
  }
}
// #endregion

/** The directory `dir` below `destFd`, made (root's, 0755) where missing, as Docker makes an entry's parents. */
function openDirCreating(sys: Syscalls, destFd: number, dir: string): number {
  const open = (at: string) => sys.openat2(destFd, at, ['O_PATH', 'O_DIRECTORY'], ['RESOLVE_IN_ROOT', 'RESOLVE_NO_MAGICLINKS']);
  try {
    return open(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dir === '.') throw error;
  }
  const parentFd = openDirCreating(sys, destFd, path.posix.dirname(dir));
  try {
    fs.mkdirSync(at(parentFd, path.posix.basename(dir)), 0o755);
  } finally {
    fs.closeSync(parentFd);
  }
  return open(dir);
}

/** What is at `base` goes, unless a directory meets a directory (they merge), or Docker's rule refuses. */
function replaceExisting(sys: Syscalls, parentFd: number, base: string, isDirectory: boolean, name: string, options: ExtractOptions): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(at(parentFd, base));
  } catch {
    return; // nothing there
  }
  if (options.noOverwriteDirNonDir && stat.isDirectory() !== isDirectory) {
    throw fail(stat.isDirectory()
      ? `cannot overwrite directory "${printable(name)}" with non-directory`
      : `cannot overwrite non-directory "${printable(name)}" with directory`);
  }
  if (!(stat.isDirectory() && isDirectory)) removeTree(sys, parentFd, base);
}

/** rm -r of one name, through descriptors: a directory swapped for a symlink meanwhile is not followed. */
function removeTree(sys: Syscalls, parentFd: number, base: string): void {
  if (fs.lstatSync(at(parentFd, base)).isDirectory()) {
    const fd = sys.openat2(parentFd, base, ['O_RDONLY', 'O_DIRECTORY', 'O_NOFOLLOW'], [...IN_DIR]);
    try {
      for (const child of fs.readdirSync(at(fd))) removeTree(sys, fd, child);
    } finally {
      fs.closeSync(fd);
    }
    fs.rmdirSync(at(parentFd, base));
  } else {
    fs.unlinkSync(at(parentFd, base));
  }
}

/** One entry made at `base`: owner, mode and time set on what was made, never through a symlink. */
async function create(
  sys: Syscalls, destFd: number, parentFd: number, base: string, header: TarHeader, data: AsyncIterable<Buffer>, [uid, gid]: readonly [number, number],
): Promise<void> {
  const target = at(parentFd, base);
  const mode = header.mode & 0o7777;
  const onDescriptor = (fd: number) => {
    try {
      fs.fchownSync(fd, uid, gid);
      fs.fchmodSync(fd, mode); // after the chown, which clears set-uid and set-gid
      if (header.type === 'file') fs.futimesSync(fd, header.mtime, header.mtime);
    } finally {
      fs.closeSync(fd);
    }
  };
  switch (header.type) {
    case 'directory':
      if (!fs.lstatSync(target, { throwIfNoEntry: false })) fs.mkdirSync(target, 0o700); // else a directory, merged
      return onDescriptor(sys.openat2(parentFd, base, ['O_RDONLY', 'O_DIRECTORY', 'O_NOFOLLOW'], [...IN_DIR]));
    case 'file': {
      // O_EXCL: made here and now, so never a symlink or a FIFO someone put in its place.
      const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      try {
        for await (const chunk of data) for (let written = 0; written < chunk.length;) written += fs.writeSync(fd, chunk, written);
      } catch (error) {
        fs.closeSync(fd);
        throw error;
      }
      return onDescriptor(fd);
    }
    case 'symlink':
      fs.symlinkSync(header.linkname ?? '', target);
      fs.lchownSync(target, uid, gid);
      return fs.lutimesSync(target, header.mtime, header.mtime);
    case 'link': {
      // The file it names is an earlier entry: found below the same directory, by the same rules.
      const linked = path.posix.normalize(header.linkname ?? '').replace(/^\/+/, '');
      if (linked === '..' || linked.startsWith('../')) throw fail(`the hard link ${printable(header.name)} points outside of the archive`);
      const { dirFd, base: linkedBase } = locate(sys, destFd, linked);
      try {
        return fs.linkSync(at(dirFd, linkedBase), target);
      } finally {
        fs.closeSync(dirFd);
      }
    }
    default: { // fifo, character-device, block-device
      const type = { 'fifo': fs.constants.S_IFIFO, 'character-device': fs.constants.S_IFCHR, 'block-device': fs.constants.S_IFBLK }[header.type];
      sys.mknod(target, type | mode, header.devmajor ?? 0, header.devminor ?? 0);
      fs.lchownSync(target, uid, gid);
      return fs.chmodSync(target, mode); // a node just made by name, in a directory held open
    }
  }
}
