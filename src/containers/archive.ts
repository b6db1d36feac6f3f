// A container's files, read and written from outside it: what `tsrun cp` and the daemon's archive endpoints
// (`docker cp`) share. Everything goes through a descriptor of the container's root (root-tree.ts), which is:
//
//   running      /proc/PID/root of its first process: the overlay as the container sees it, with its
//                volumes mounted, so a copy into a volume's target lands in the volume, as the container sees it
//   stopped      its overlay (image layers below, its upper dir on top) mounted for a moment on a directory of
//                the store, opened, and detached at once (umount2 MNT_DETACH): the descriptor keeps the overlay
//                alive, nothing stays mounted on the host whatever happens next, and every write lands in the
//                container's upper dir, as if it had made it itself
//
// Mounting is clearer than reading through the layers by hand (src/image/layer-stack.ts): overlayfs already
// knows whiteouts, opaque directories and copy-up, and the running and stopped cases become one.
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerRecord, MountSpec } from '../container.js';
import type { Runtime } from '../runtime.js';
import { isUp } from '../container.js';
import { isRunningProcess } from '../kernel/proc.js';
import { lowerDirs, upperDir, workDir } from '../stages/rwlayer.js';
import { tmpDir } from '../store/paths.js';
import { TsrunError, fail, withContext } from '../errors.js';
import { extractInto, lstatIn, treeEntries, type ExtractOptions } from './root-tree.js';
import type { TarEntry } from '../image/tar-writer.js';

/** What Docker says of a path: the X-Docker-Container-Path-Stat header's JSON, and what the docker CLI acts on. */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: the permission bits, and the file's type as high bits (see goFileMode). */
  mode: number;
  mtime: string;
  /** Where a symlink leads, as a path of the container's; '' for anything else. */
  linkTarget: string;
}

/** Docker's errors, with a code for the daemon to answer with Docker's status. */
const fileNotFound = (containerPath: string, container: string) =>
  new TsrunError(`Could not find the file ${containerPath} in container ${container}`, { code: 'NOT_FOUND' });
const readOnly = (what: string) => new TsrunError(`${what} is marked read-only`, { code: 'READ_ONLY' });

// #region container-root
/** `work` given a descriptor of the container's root (see the top of the file), closed after it. */
export async function withContainerRoot<T>(runtime: Runtime, container: ContainerRecord, work: (rootFd: number) => Promise<T>): Promise<T> {
  const rootFd = isUp(container.state) ? openRunningRoot(container) : openStoppedRoot(runtime, container);
  try {
    return await work(rootFd);
  } finally {
    fs.closeSync(rootFd);
  }
}

function openRunningRoot(container: ContainerRecord): number {
  const { pid, pidStartTime } = container.state;
  const rootFd = fs.openSync(`/proc/${pid}/root`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  // The pid is the container's still (not a process that took the number after it exited): checked after the open.
  if (pid === null || !isRunningProcess(pid, pidStartTime)) {
    fs.closeSync(rootFd);
    throw fail(`container ${container.name} stopped while its files were opened`, 'try again');
  }
  return rootFd;
}

function openStoppedRoot(runtime: Runtime, container: ContainerRecord): number {
  const upperdir = upperDir(runtime.paths, container);
  const workdir = workDir(runtime.paths, container);
  // A container made and never started has no upper dir yet (`docker create`, then `docker cp` into it).
  for (const dir of [upperdir, workdir, tmpDir(runtime.paths)]) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const mountpoint = fs.mkdtempSync(path.join(tmpDir(runtime.paths), 'cp-'));
  try {
    const data = `lowerdir=${lowerDirs(runtime.paths, container).join(':')},upperdir=${upperdir},workdir=${workdir}`;
    try {
      runtime.sys.mount('overlay', mountpoint, 'overlay', [], data);
    } catch (error) {
      throw withContext(`mount the files of container ${container.name}`, error);
    }
    try {
      return fs.openSync(mountpoint, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } finally {
      runtime.sys.umount2(mountpoint, ['MNT_DETACH']);
    }
  } finally {
    fs.rmdirSync(mountpoint);
  }
}
// #endregion

/** The volume, bind or tmpfs mount whose target holds `containerPath`, by its name (a symlink on the way is not
 *  followed for this: what it answers is a refusal, never an access). */
function mountHolding(container: ContainerRecord, containerPath: string): MountSpec | undefined {
  const absolute = path.posix.join('/', containerPath);
  return (container.config.mounts ?? []).find(({ target }) => absolute === target || absolute.startsWith(target.replace(/\/$/, '') + '/'));
}

/** A stopped container's volumes are not mounted in its overlay: what is under their targets there is hidden
 *  from the container, so tsrun neither reads nor writes it (Docker mounts them for the copy). */
function refuseUnmountedVolume(container: ContainerRecord, containerPath: string): void {
  const mount = mountHolding(container, containerPath);
  if (mount && !isUp(container.state)) {
    throw new TsrunError(`${containerPath} is in the ${mount.type} mount ${mount.target} of container ${container.name}, which is not running`,
      { code: 'NOT_RUNNING', hint: `start the container to copy into or out of its ${mount.type} mount` });
  }
}

/** What is at `containerPath` (a symlink at its end not followed), as Docker tells it. */
export function statPath(runtime: Runtime, container: ContainerRecord, rootFd: number, containerPath: string, asked = container.name): PathStat {
  refuseUnmountedVolume(container, containerPath);
  try {
    const { stat, linkTarget } = lstatIn(runtime.sys, rootFd, containerPath);
    return { name: archiveName(containerPath), size: stat.size, mode: goFileMode(stat.mode), mtime: stat.mtime.toISOString(), linkTarget };
  } catch (error) {
    if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes((error as NodeJS.ErrnoException).code ?? '')) throw fileNotFound(containerPath, asked);
    throw error;
  }
}

/** The name the archive of `containerPath` gives its first entry: its last name, or "." for "/dir/." (its content). */
export function archiveName(containerPath: string): string {
  if (/(^|\/)\.$/.test(containerPath)) return '.';
  return path.posix.basename(path.posix.join('/', containerPath)) || '.';
}

// #region archive
/** The tar entries of what is at `containerPath`, its first named `name` (by default archiveName's). */
export function archiveOf(runtime: Runtime, rootFd: number, containerPath: string, name = archiveName(containerPath)): AsyncIterable<TarEntry> {
  return treeEntries(runtime.sys, rootFd, containerPath, name);
}

/** Unpack a tar into the directory `dirPath` of the container, where its process sees it. Docker's refusals: no
 *  such directory (404), not a directory (400), a read-only root or volume (403). */
export async function extractToContainer(
  runtime: Runtime, container: ContainerRecord, rootFd: number, dirPath: string, tar: AsyncIterable<Buffer>, options: ExtractOptions, asked = container.name,
): Promise<void> {
  refuseUnmountedVolume(container, dirPath);
  let isDirectory: boolean;
  try {
    isDirectory = lstatIn(runtime.sys, rootFd, dirPath.replace(/\/?$/, '/.')).stat.isDirectory(); // followed to its end
  } catch (error) {
    if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes((error as NodeJS.ErrnoException).code ?? '')) throw fileNotFound(dirPath, asked);
    throw error;
  }
  if (!isDirectory) throw new TsrunError('extraction point is not a directory', { code: 'NOT_DIRECTORY' });
  const mount = mountHolding(container, dirPath);
  if (mount?.readOnly) throw readOnly('mounted volume');
  if (!mount && container.config.readOnly) throw readOnly('container rootfs');
  try {
    await extractInto(runtime.sys, rootFd, dirPath, tar, options);
  } catch (error) {
    // A read-only mount the record does not name (the container's own /sys, say).
    if ((error as NodeJS.ErrnoException).code === 'EROFS') throw readOnly(dirPath);
    throw withContext(`copy into ${dirPath} of container ${asked}`, error);
  }
}
// #endregion

// #region go-file-mode
/** st_mode as Go's os.FileMode, the mode Docker's stat carries: the permission bits as they are, set-uid,
 *  set-gid and sticky, and the file's type, as bits at the top (a directory is 1 << 31). */
export function goFileMode(mode: number): number {
  const { S_IFMT, S_IFDIR, S_IFLNK, S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK } = fs.constants;
  const TYPES: Record<number, number> = {
    [S_IFDIR]: 2 ** 31, [S_IFLNK]: 2 ** 27, [S_IFBLK]: 2 ** 26, [S_IFCHR]: 2 ** 26 + 2 ** 21, [S_IFIFO]: 2 ** 25, [S_IFSOCK]: 2 ** 24,
  };
  return (mode & 0o777) + (TYPES[mode & S_IFMT] ?? 0)
    + (mode & 0o4000 ? 2 ** 23 : 0) + (mode & 0o2000 ? 2 ** 22 : 0) + (mode & 0o1000 ? 2 ** 20 : 0);
}
// #endregion

export const isDirectoryMode = (goMode: number) => goMode >= 2 ** 31;
export const isSymlinkMode = (goMode: number) => Math.floor(goMode / 2 ** 27) % 2 === 1;
