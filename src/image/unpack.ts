// Unpacking one image layer: a tar stream (usually compressed) becomes a
// directory that overlayfs can use as a lowerdir just as it is.
//
// Three things make this more than `tar -x`:
//   1. The layer is untrusted input. Whatever its entries say, nothing may be
//      written outside the destination directory (see the safe-path region).
//   2. Deletions travel as ".wh." marker files; overlayfs wants whiteout
//      devices and opaque xattrs instead (see the whiteouts region).
//   3. The image config names each layer by its diff id, the sha256 of the
//      uncompressed tar, so we hash the bytes as they stream past the tar reader.
import fs from 'node:fs';
import { faultPoint } from '../faults.js';
import path from 'node:path';
import crypto from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Syscalls } from '../kernel/syscalls.js';
import { TsrunError, errorText, fail, withContext } from '../errors.js';
import { decompress } from './compression.js';
import { classifyEntryName, OVERLAY_OPAQUE_XATTR, OVERLAY_OPAQUE_VALUE } from './whiteouts.js';
import { lstatOrNull } from './lstat.js';
import { imageMayCarryXattr } from './xattrs.js';
import { readTar, type ReadEntry, type ReadHeader, type ReadOptions } from './tar-reader.js';

export interface UnpackedLayer {
  /** "sha256:<hex>" of the uncompressed tar: what the image config lists in rootfs.diff_ids. */
  diffId: string;
  /** The bytes of regular files written. */
  size: number;
}

/** What unpacking one layer keeps track of as it goes. */
interface LayerInProgress {
  sys: Syscalls;
  dest: string;
  size: number;
  /** Directories get their mtime last: creating anything inside a directory changes it. */
  directoryMtimes: Map<string, Date>;
  /** Paths in `dest` known to be real directories (not symlinks), which need no checking again:
   *  nothing else writes in `dest`, and clearTheWay forgets whatever it removes. */
  directories: Set<string>;
}

/** Unpack the layer in `compressed` (gzip, zstd or plain tar) into `dest`, an
 *  existing empty directory. On any error this throws, leaving `dest` half
 *  written: the caller removes it (it unpacks into a staging directory under
 *  <root>/tmp and renames it into place only on success). */
export async function unpackLayer(sys: Syscalls, compressed: Readable, dest: string, options: ReadOptions = {}): Promise<UnpackedLayer> {
  const hash = crypto.createHash('sha256');
  const layer: LayerInProgress = { sys, dest, size: 0, directoryMtimes: new Map(), directories: new Set([dest]) };

  // The bytes flow in (decompress, hash) only as fast as the tar reader takes them, which is as fast
  // as the entries are written out. Whatever fails, pipeline destroys the streams before it settles,
  // which closes `compressed`: nothing is left running.
  try {
    await pipeline(decompress(compressed), hashEverything(hash), (tar: AsyncIterable<Buffer>) => writeEntries(layer, readTar(tar, options)));
  } catch (error) {
    // A bad entry or bad tar bytes fail with a TsrunError; bad compressed bytes, with zlib's or fzstd's own.
    throw unreadable(error);
  }

  for (const [dir, mtime] of layer.directoryMtimes) fs.lutimesSync(dir, mtime, mtime);
  return { diffId: `sha256:${hash.digest('hex')}`, size: layer.size };
}

/** The bytes are not gzip or zstd: zlib's or fzstd's own error, told as ours. */
function unreadable(error: unknown): TsrunError {
  if (error instanceof TsrunError) return error; // a bad entry, or what the tar reader refused
  return fail(`not a readable layer: ${errorText(error)}`, 'the image is damaged or malicious; tsrun will not unpack it', error);
}

async function writeEntries(layer: LayerInProgress, entries: AsyncIterable<ReadEntry>): Promise<void> {
  for await (const entry of entries) {
    try {
      await writeEntry(layer, entry); // data it does not read (a marker's) the reader skips
      faultPoint('pull-unpack');
    } catch (error) {
      throw withContext(`layer entry ${JSON.stringify(entry.header.name)}`, error);
    }
  }
}

/** A pass-through that feeds every byte to `hash`. It sits right before the
 *  tar reader, so padding and end-of-archive blocks are hashed too, as the diff id requires. */
function hashEverything(hash: crypto.Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

async function writeEntry(layer: LayerInProgress, entry: ReadEntry): Promise<void> {
  const { header } = entry;
  const name = classifyEntryName(header.name);
  switch (name.kind) {
    case 'ignored': return;
    case 'whiteout': return writeWhiteout(layer, name.target);
    case 'opaque': return markOpaque(layer, name.dir);
    case 'normal': break;
  }

  const at = resolveInside(layer, header.name);
  // A "./" entry describes the layer's root: it may set its owner and mode, never replace it.
  if (at === layer.dest && header.type !== 'directory') throw unsafe('only a directory can stand for the layer root');

  makeParents(layer, at);

  switch (header.type) {
    case 'file':
      return writeRegularFile(layer, at, entry);
    case 'directory':
      return makeDirectory(layer, at, header);
    case 'symlink':
      return makeSymlink(layer, at, header);
    case 'link':
      return makeHardlink(layer, at, header);
    case 'character-device':
    case 'block-device':
    case 'fifo':
      return makeSpecialFile(layer, at, header);
    case 'unknown':
      throw fail(`unsupported kind of tar entry: type flag ${JSON.stringify(header.typeflag)}`);
  }
}

/** Make something new at `at`. A tar may hold the same path twice, and the later entry wins: if
 *  something is there already (EEXIST), it goes, and `make` runs again. Trying first costs nothing
 *  in the usual case, where an lstat before every entry would cost a system call each. */
function makeReplacing<T>(layer: LayerInProgress, at: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    clearTheWay(layer, at);
    return make();
  }
}

/** Remove whatever is at `at`, and forget what we knew of the directories it held. */
function clearTheWay(layer: LayerInProgress, at: string): void {
  const isRemoved = (dir: string) => dir === at || dir.startsWith(at + '/');
  for (const dir of layer.directoryMtimes.keys()) if (isRemoved(dir)) layer.directoryMtimes.delete(dir);
  for (const dir of layer.directories) if (isRemoved(dir)) layer.directories.delete(dir);
  fs.rmSync(at, { recursive: true, force: true }); // rm never follows symlinks
}

/** Parents missing from the tar are made as `tar -x` makes them: mode 0755. */
function makeParents(layer: LayerInProgress, at: string): void {
  const parent = path.dirname(at);
  if (layer.directories.has(parent)) return;
  fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  layer.directories.add(parent);
}

async function writeRegularFile(layer: LayerInProgress, at: string, entry: ReadEntry): Promise<void> {
  const { header } = entry;
  // 'wx' is O_CREAT|O_EXCL: it creates a new file or fails, and never follows a symlink.
  // The calls are synchronous on purpose: a layer has thousands of small files, and handing each
  // open, write and close to Node's thread pool costs more than the call itself. For the same
  // reason the file's metadata is set through its descriptor: no path to look up again.
  const fd = makeReplacing(layer, at, () => fs.openSync(at, 'wx', 0o600));
  try {
    for await (const chunk of entry.data) fs.writeSync(fd, chunk);
    fs.fchownSync(fd, header.uid, header.gid); // first: chown clears setuid/setgid bits and file capabilities
    applyXattrs(layer, at, header);
    fs.fchmodSync(fd, header.mode & 0o7777);
    fs.futimesSync(fd, header.mtime, header.mtime);
  } finally {
    fs.closeSync(fd);
  }
  layer.size += header.size;
}

/** A directory over a directory (a tar may name one twice) keeps its contents and gets new metadata. */
function makeDirectory(layer: LayerInProgress, at: string, header: ReadHeader): void {
  try {
    fs.mkdirSync(at, 0o700);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (!lstatOrNull(at)!.isDirectory()) {
      clearTheWay(layer, at);
      fs.mkdirSync(at, 0o700);
    }
  }
  layer.directories.add(at);
  applyMetadata(layer, at, header);
}

/** The link text is stored as it is: "/bin/busybox" is resolved inside the
 *  container's root when the container uses it, and we never write through it. */
function makeSymlink(layer: LayerInProgress, at: string, header: ReadHeader): void {
  if (!header.linkname) throw unsafe('a symbolic link without a target');
  makeReplacing(layer, at, () => fs.symlinkSync(header.linkname, at));
  applyMetadata(layer, at, header);
}

/** A hard link shares its target's inode, owner, mode and times, so there is no metadata to apply. */
function makeHardlink(layer: LayerInProgress, at: string, header: ReadHeader): void {
  if (!header.linkname) throw unsafe('a hard link without a target');
  const target = resolveHardlinkTarget(layer, header.linkname);
  // An entry that links to its own path replaces the very file it would link to.
  if (target === at) throw unsafe(`hard link target ${JSON.stringify(header.linkname)} is not in this layer`);
  makeReplacing(layer, at, () => fs.linkSync(target, at)); // link(2) does not follow a symlink target: it links the symlink itself
}

const FILE_TYPE_BITS: Partial<Record<ReadHeader['type'], number>> = {
  'character-device': fs.constants.S_IFCHR,
  'block-device': fs.constants.S_IFBLK,
  'fifo': fs.constants.S_IFIFO,
};

function makeSpecialFile(layer: LayerInProgress, at: string, header: ReadHeader): void {
  makeReplacing(layer, at, () => layer.sys.mknod(at, FILE_TYPE_BITS[header.type]! | 0o600, header.devmajor, header.devminor));
  applyMetadata(layer, at, header);
}

/** Owner, extended attributes, mode, then times, in that order: chown clears
 *  setuid/setgid bits and file capabilities, so it has to come first.
 *  (Regular files get the same through their descriptor, in writeRegularFile.) */
function applyMetadata(layer: LayerInProgress, at: string, header: ReadHeader): void {
  fs.lchownSync(at, header.uid, header.gid);
  applyXattrs(layer, at, header);
  // Linux symlinks have no mode of their own; chmod would change the target's.
  if (header.type !== 'symlink') fs.chmodSync(at, header.mode & 0o7777);
  if (header.type === 'directory') layer.directoryMtimes.set(at, header.mtime);
  else fs.lutimesSync(at, header.mtime, header.mtime);
}

/** Extended attributes travel as PAX records (see xattrs.ts), set here as the bytes they are. */
function applyXattrs(layer: LayerInProgress, at: string, header: ReadHeader): void {
  for (const [name, value] of header.xattrs) {
    if (!imageMayCarryXattr(name)) continue; // trusted.*, security.selinux: never the image's to set
    try {
      layer.sys.lsetxattr(at, name, value);
    } catch (error) {
      // This filesystem (or a non-root user) cannot hold that kind of attribute: it is not essential.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EPERM') continue;
      throw error;
    }
  }
}

// #region whiteouts
/** ".wh.NAME" becomes what overlayfs calls a whiteout: a character device 0:0 named NAME. */
function writeWhiteout(layer: LayerInProgress, target: string): void {
  const at = resolveInside(layer, target);
  // The whiteout hides NAME in lower layers only. If this layer has NAME too,
  // that already hides the lower ones, and it stays.
  if (lstatOrNull(at) !== null) return;
  makeParents(layer, at);
  layer.sys.mknod(at, fs.constants.S_IFCHR | 0o000, 0, 0);
}

/** "DIR/.wh..wh..opq" becomes the xattr trusted.overlay.opaque=y on DIR: overlayfs
 *  then shows DIR's contents from this layer (and those above) only. */
function markOpaque(layer: LayerInProgress, dir: string): void {
  const at = resolveInside(layer, dir);
  const existing = lstatOrNull(at);
  if (existing === null) fs.mkdirSync(at, { recursive: true, mode: 0o755 });
  else if (!existing.isDirectory()) throw fail(`cannot make ${JSON.stringify(dir)} opaque: it is not a directory`);
  layer.sys.lsetxattr(at, OVERLAY_OPAQUE_XATTR, Buffer.from(OVERLAY_OPAQUE_VALUE));
}
// #endregion

// #region safe-path
/** The host path for `name`, a path from the tar, inside `dest` — or a
 *  TsrunError if it could lead anywhere else. Three ways out are closed:
 *    "/etc/passwd"         absolute: refused, not quietly made relative
 *    "a/../../etc/passwd"  any ".." component
 *    "evil/passwd"         after an entry "evil -> /etc": a symlink among the
 *                          parents would carry the write through it
 *  The last component may be anything: callers replace it, never write through it.
 *  Checking first and writing afterwards is safe because nothing else writes
 *  in `dest` while the layer is unpacked: what we checked stays as it was
 *  (and so a directory checked once need not be checked again). */
function resolveInside(layer: LayerInProgress, name: string): string {
  const { dest } = layer;
  if (name.startsWith('/')) throw unsafe('absolute path');
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw unsafe('path contains ".."');

  // No part is "", "." or "..": joining them with "/" is what path.join would do, only cheaper.
  const parents = parts.slice(0, -1);
  if (layer.directories.has(parents.length ? `${dest}/${parents.join('/')}` : dest)) return [dest, ...parts].join('/'); // the usual case: checked already
  let parent = dest;
  for (const part of parents) {
    parent = `${parent}/${part}`;
    if (layer.directories.has(parent)) continue; // a directory we made or checked already
    const stat = lstatOrNull(parent);
    if (stat === null) break; // nothing exists below a missing directory: it will be created, as a directory
    const shown = JSON.stringify(path.relative(dest, parent));
    if (stat.isSymbolicLink()) throw unsafe(`path goes through the symlink ${shown}`);
    if (!stat.isDirectory()) throw unsafe(`path goes through ${shown}, which is not a directory`);
    layer.directories.add(parent);
  }
  return [dest, ...parts].join('/');
}

/** A hard link's target must be a file this layer already unpacked, reached the same safe way. */
function resolveHardlinkTarget(layer: LayerInProgress, linkname: string): string {
  const described = `hard link target ${JSON.stringify(linkname)}`;
  let target: string;
  try {
    target = resolveInside(layer, linkname);
  } catch (error) {
    throw withContext(described, error);
  }
  if (target === layer.dest || lstatOrNull(target) === null) throw unsafe(`${described} is not in this layer`);
  return target;
}

function unsafe(reason: string): TsrunError {
  return fail(reason, 'the image is damaged or malicious; tsrun will not unpack it');
}
// #endregion

