// COPY: files from the build context (or, with --from, another stage or an image) written into a new layer
// as entries of its tar, without a container. Every path is settled before a byte is read:
//   sources       found in their tree; a symlink on the way followed inside that tree, ".." stopping at its root
//   destinations  resolved inside the image being built, the way a process in it would see them (a symlink
//                 /app -> /srv sends the files to /srv), so the layer never holds a path through a symlink
//   parents       each directory above a file is in the layer too, with the owner and mode the image gives it
//                 (overlayfs shows the upper layer's directory, not the lower's), or, new, 0755
// The layer is then unpacked like any other (src/image/unpack.ts), which refuses anything unsafe again.
import crypto from 'node:crypto';
import path from 'node:path';
import { fail } from '../errors.js';
import { hashFile } from '../store/digest.js';
import type { TarEntry } from '../image/tar-writer.js';
import { cleanPath, glob, hasWildcard, resolveIn, type SourceEntry, type SourceTree } from './trees.js';

export interface CopyRequest {
  /** The paths as written (variables replaced), relative to the source tree's root. */
  sources: string[];
  /** As written: a trailing "/" means "into this directory". */
  destination: string;
  /** Where a relative destination starts: the image's WORKDIR. */
  workdir: string;
  /** --chown, resolved to numbers; without it, files from the context are root's, from an image their own. */
  owner?: { uid: number; gid: number };
  /** --chmod, for files and directories alike. */
  mode?: number;
  /** Keep the owners the source tree has (COPY --from), instead of root. */
  keepOwners: boolean;
}

/** One thing the layer will hold, at its place in the image (absolute, resolved). */
export interface CopyItem {
  target: string;
  entry: SourceEntry;
  mode: number;
  uid: number;
  gid: number;
}

// #region plan-copy
/** What `request` copies from `source` into `image`, in order; a later item at the same place replaces an earlier one. */
export function planCopy(source: SourceTree, image: SourceTree, request: CopyRequest): CopyItem[] {
  const found = request.sources.flatMap((written) => sourcesFor(source, written));
  const intoDirectory = namesDirectory(request.destination);
  if (found.length > 1 && !intoDirectory) throw oneDestination(request.destination);
  const destination = request.destination.startsWith('/') ? request.destination : path.posix.join('/', request.workdir, request.destination);
  const items = new Map<string, CopyItem>();
  const add = (target: string, entry: SourceEntry) => {
    // A directory is followed when it exists there (its contents go into the directory it leads to); anything
    // else replaces what is at its own place, in the directory its parent leads to.
    const resolved = entry.type === 'directory' ? resolveIn(image, target, true) : path.posix.join(resolveIn(image, path.posix.dirname(target), true), path.posix.basename(target));
    const at = `/${cleanPath(resolved)}`;
    items.delete(at); // re-inserted last: the tar lists it after what it replaces
    items.set(at, {
      target: at, entry,
      mode: request.mode ?? entry.mode,
      uid: request.owner?.uid ?? (request.keepOwners ? entry.uid : 0),
      gid: request.owner?.gid ?? (request.keepOwners ? entry.gid : 0),
    });
  };
  for (const { relative, entry } of found) {
    if (entry.type === 'directory') {
      // A directory's contents are copied, not the directory itself (Docker's rule); the destination takes its mode.
      if (image.entry(cleanPath(destination))?.type !== 'directory') add(destination, entry);
      for (const child of walk(source, relative)) add(path.posix.join(destination, child.relative.slice(relative.length)), child.entry);
    } else {
      const existingDirectory = image.entry(cleanPath(resolveIn(image, destination, true)))?.type === 'directory';
      add(intoDirectory || existingDirectory ? path.posix.join(destination, path.posix.basename(relative)) : destination, entry);
    }
  }
  return [...items.values()];
}
// #endregion

/** "dir/", ".", "..": a destination that is a directory by how it is written. */
export function namesDirectory(destination: string): boolean {
  return /(^|\/)\.{0,2}$/.test(destination);
}

export function oneDestination(destination: string): Error {
  return fail('with more than one source, the destination must be a directory and end with a /', `write ${destination}/`);
}

/** The entries one written source names: a path (symlinks on the way followed), or every match of a wildcard. */
export function sourcesFor(tree: SourceTree, written: string): Array<{ relative: string; entry: SourceEntry }> {
  const matches = hasWildcard(written) ? glob(tree, written) : [resolveIn(tree, written, true)];
  const found = matches.flatMap((relative) => {
    const entry = tree.entry(relative);
    return entry ? [{ relative, entry }] : [];
  });
  if (found.length === 0) {
    const hint = tree.label === 'the build context' ? 'check the path, relative to the context directory, and .dockerignore' : 'check the path inside that image';
    throw fail(`${written}: not found in ${tree.label}`, hint);
  }
  return found;
}

/** Everything under directory `relative`, parents before children, symlinks as they are. */
function walk(tree: SourceTree, relative: string): Array<{ relative: string; entry: SourceEntry }> {
  return tree.list(relative).flatMap((name) => {
    const at = relative === '' ? name : `${relative}/${name}`;
    const entry = tree.entry(at)!;
    return [{ relative: at, entry }, ...(entry.type === 'directory' ? walk(tree, at) : [])];
  });
}

// #region checksum
/** What the cache compares for a COPY: each item's place, kind, mode, owner and content (a file's sha256, a
 *  symlink's target), and not its times, so a file touched but not changed is still a hit. */
export async function copyChecksum(items: CopyItem[]): Promise<string> {
  const hash = crypto.createHash('sha256');
  for (const item of items) {
    const content = item.entry.type === 'file' ? (await hashFile(item.entry.hostPath)).digest : item.entry.linkname ?? '';
    hash.update(`${JSON.stringify([item.target, item.entry.type, item.mode, item.uid, item.gid, content])}\n`);
  }
  return `sha256:${hash.digest('hex')}`;
}
// #endregion

// #region copy-layer
/** The layer's entries: every directory above an item (as the image has it, or new: 0755, `owner`'s), then the
 *  items, each parent before its children; and `directories` (WORKDIR's), made the same way. */
export function copyLayer(items: CopyItem[], image: SourceTree, owner: { uid: number; gid: number }, now: Date, directories: string[] = []): TarEntry[] {
  const entries = new Map<string, TarEntry>();
  const targets = new Set(items.map((item) => item.target));
  const parent = (dir: string) => {
    if (dir === '/' || entries.has(dir) || targets.has(dir)) return;
    parent(path.posix.dirname(dir));
    const existing = image.entry(cleanPath(dir));
    if (existing && existing.type !== 'directory') throw fail(`cannot copy into ${dir}: it is not a directory in the image`);
    const metadata = existing ?? { mode: 0o755, ...owner, mtime: now };
    entries.set(dir, { header: { name: `${cleanPath(dir)}/`, type: 'directory', mode: metadata.mode, uid: metadata.uid, gid: metadata.gid, mtime: metadata.mtime } });
  };
  for (const item of [...items].sort((a, b) => (a.target < b.target ? -1 : 1))) {
    parent(path.posix.dirname(item.target));
    const { entry } = item;
    const name = cleanPath(item.target);
    const common = { mode: item.mode, uid: item.uid, gid: item.gid, mtime: entry.mtime };
    if (entry.type === 'directory') entries.set(item.target, { header: { ...common, name: `${name}/`, type: 'directory' } });
    else if (entry.type === 'symlink') entries.set(item.target, { header: { ...common, name, type: 'symlink', linkname: entry.linkname } });
    else entries.set(item.target, { header: { ...common, name, type: 'file', size: entry.size }, file: entry.hostPath });
  }
  for (const dir of directories) parent(dir);
  return [...entries.values()];
}
// #endregion
