// `tsrun cp`: files between a container and the host, as `docker cp` copies them. One side is CONTAINER:PATH,
// the other a local path, or "-" for a tar on stdin or stdout. A copy is a tar written by one side and unpacked
// by the other (the same code the daemon's archive endpoints use), named so that it lands where docker cp puts it:
//
//   docker cp c:/etc /tmp/x    /tmp/x a directory: /tmp/x/etc;   /tmp/x absent: /tmp/x is the copy of /etc
//   docker cp c:/etc/. /tmp/x  /etc's content into /tmp/x, made if absent
//   docker cp f c:/tmp/g       /tmp/g a directory: /tmp/g/f;     else the file /tmp/g, replaced or made
//
// The docker CLI makes these decisions on its own side (the daemon is asked only to stat, tar and untar), and so
// does `copyPlan` here.
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { ContainerRecord } from '../container.js';
import type { Runtime } from '../runtime.js';
import { fail, hasErrorCode } from '../errors.js';
import { getContainer } from '../store/containers.js';
import { tarBytes } from '../image/tar-writer.js';
import { reconcile } from './reconcile.js';
import { archiveName, archiveOf, extractToContainer, isDirectoryMode, isSymlinkMode, statPath, withContainerRoot } from './archive.js';
import { extractInto, treeEntries } from './root-tree.js';

export interface CopyRequest {
  source: string;
  destination: string;
  /** -a: the archive's owners kept in the container (else root's). */
  archive: boolean;
  /** -L: a symlink named as the source is followed. */
  followLink: boolean;
}

/** What is known of the destination before the copy. */
export interface CopyInfo { path: string; exists: boolean; isDir: boolean }

/** "CONTAINER:PATH", or a local path: an absolute one, one without ":", or one that starts with "." (./a:b). */
export function splitCpArg(arg: string): { container?: string; path: string } {
  const colon = arg.indexOf(':');
  if (arg.startsWith('/') || colon < 0 || arg.startsWith('.')) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

// #region copy-plan
/** Where the source's tar is unpacked, and the name its first entry takes there: docker cp's rules. `source.name`
 *  is the source's last name, "." for "dir/." (its content only). */
export function copyPlan(source: { name: string; isDir: boolean }, destination: CopyInfo): { dir: string; name: string } {
  // An existing directory takes the source in, under its own name.
  if (destination.exists && destination.isDir) return { dir: destination.path, name: source.name };
  if (destination.exists && source.isDir) throw fail('cannot copy directory', `${destination.path} is not a directory`);
  // A destination ending in "/" must be a directory, and there is none to put a file in.
  if (!destination.exists && !source.isDir && /\/\.?$/.test(destination.path)) throw fail('no such directory', `${destination.path} does not exist`);
  // Otherwise the source becomes the destination: unpacked in its parent, under its name.
  const cleaned = path.posix.normalize(destination.path).replace(/(.)\/$/, '$1');
  return { dir: path.posix.dirname(cleaned), name: path.posix.basename(cleaned) };
}
// #endregion

/** The copy `request` asks for; `stdio` are the tar's ends for "-". */
export async function copy(runtime: Runtime, request: CopyRequest, stdio: { stdin: AsyncIterable<Buffer>; stdout: Writable }): Promise<void> {
  const source = splitCpArg(request.source);
  const destination = splitCpArg(request.destination);
  if (source.container !== undefined && destination.container !== undefined) throw fail('copying between containers is not supported');
  if (source.container !== undefined) return copyOut(runtime, await running(runtime, source.container), source.container, source.path, request, destination.path, stdio.stdout);
  if (destination.container !== undefined) return copyIn(runtime, await running(runtime, destination.container), destination.container, request, destination.path, stdio.stdin);
  throw fail('must specify at least one container source', 'name one side CONTAINER:PATH');
}

/** The container as it is now (its process perhaps gone since the record said running). */
async function running(runtime: Runtime, name: string): Promise<ContainerRecord> {
  const container = await reconcile(runtime, getContainer(runtime.paths, name));
  if (!container) throw fail(`No such container: ${name}`);
  return container;
}

// #region copy-out
/** From the container to a local path, or as a tar to stdout. */
async function copyOut(
  runtime: Runtime, container: ContainerRecord, asked: string, containerPath: string, request: CopyRequest, local: string, stdout: Writable,
): Promise<void> {
  await withContainerRoot(runtime, container, async (rootFd) => {
    let sourcePath = containerPath;
    let stat = statPath(runtime, container, rootFd, sourcePath, asked);
    const name = archiveName(containerPath); // a followed link is copied under its own name
    if (request.followLink && isSymlinkMode(stat.mode)) {
      sourcePath = stat.linkTarget;
      stat = statPath(runtime, container, rootFd, sourcePath, asked);
    }
    if (local === '-') {
      for await (const chunk of tarBytes(archiveOf(runtime, rootFd, sourcePath, name))) {
        if (!stdout.write(chunk)) await new Promise((resolve) => stdout.once('drain', resolve));
      }
      return;
    }
    const destination = localInfo(local);
    const plan = copyPlan({ name, isDir: isDirectoryMode(stat.mode) }, destination);
    await onHostRoot((hostFd) => {
      if (!fs.existsSync(plan.dir)) throw fail(`destination directory ${plan.dir} does not exist`);
      // Unpacked as root, tsrun's user: the owners inside the container mean nothing here (docker cp does the same).
      const tar = tarBytes(archiveOf(runtime, rootFd, sourcePath, plan.name));
      return extractInto(runtime.sys, hostFd, plan.dir, tar, { noOverwriteDirNonDir: true, copyUidGid: false, toHost: true });
    });
  });
}
// #endregion

// #region copy-in
/** From a local path, or a tar on stdin, into the container. */
async function copyIn(
  runtime: Runtime, container: ContainerRecord, asked: string, request: CopyRequest, containerPath: string, stdin: AsyncIterable<Buffer>,
): Promise<void> {
  const options = { noOverwriteDirNonDir: true, copyUidGid: request.archive };
  await withContainerRoot(runtime, container, async (rootFd) => {
    const destination = containerInfo(runtime, container, rootFd, containerPath, asked);
    if (request.source === '-') {
      if (!destination.isDir) throw fail(`destination "${asked}:${containerPath}" must be a directory`);
      return extractToContainer(runtime, container, rootFd, destination.path, stdin, options, asked);
    }
    const local = localPath(request.source);
    const linkFollowed = request.followLink && fs.lstatSync(local, { throwIfNoEntry: false })?.isSymbolicLink();
    const sourcePath = linkFollowed ? fs.realpathSync(local) : local;
    const stat = fs.lstatSync(sourcePath, { throwIfNoEntry: false });
    if (!stat) throw fail(`Could not find the file ${request.source}`, 'no such file or directory on this host');
    const plan = copyPlan({ name: archiveName(local), isDir: stat.isDirectory() }, destination);
    await onHostRoot((hostFd) => {
      const tar = tarBytes(treeEntries(runtime.sys, hostFd, sourcePath, plan.name));
      return extractToContainer(runtime, container, rootFd, plan.dir, tar, options, asked);
    });
  });
}
// #endregion

/** The destination in the container; a symlink there is followed once, as the docker CLI follows it. */
function containerInfo(runtime: Runtime, container: ContainerRecord, rootFd: number, containerPath: string, asked: string): CopyInfo {
  const absolute = withEnd(path.posix.join('/', containerPath), containerPath);
  try {
    let stat = statPath(runtime, container, rootFd, absolute, asked);
    let at = absolute;
    if (isSymlinkMode(stat.mode)) {
      at = stat.linkTarget;
      stat = statPath(runtime, container, rootFd, at, asked);
    }
    return { path: at, exists: true, isDir: isDirectoryMode(stat.mode) };
  } catch (error) {
    if (hasErrorCode(error, 'NOT_FOUND')) return { path: absolute, exists: false, isDir: false };
    throw error;
  }
}

/** A local path made absolute, keeping the end docker cp reads. */
const localPath = (local: string) => withEnd(path.resolve(local), local);

/** `absolute` with the end of `given` that docker cp reads put back: "/." (the content) or "/" (a directory). */
function withEnd(absolute: string, given: string): string {
  const trimmed = absolute.replace(/\/$/, '');
  if (/(^|\/)\.$/.test(given)) return `${trimmed}/.`;
  return given.endsWith('/') ? `${trimmed}/` : absolute;
}

function localInfo(local: string): CopyInfo {
  const at = localPath(local);
  const stat = fs.statSync(at, { throwIfNoEntry: false }); // a local symlink is followed, as docker cp follows it
  return { path: at, exists: stat !== undefined, isDir: stat?.isDirectory() ?? false };
}

/** `work` on the host's side, through a descriptor of "/": the same reading and writing as the container's side. */
async function onHostRoot<T>(work: (hostFd: number) => Promise<T>): Promise<T> {
  const hostFd = fs.openSync('/', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    return await work(hostFd);
  } finally {
    fs.closeSync(hostFd);
  }
}
