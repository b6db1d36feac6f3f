// Reading one file of a container's filesystem without mounting it: we look
// through the layer directories the way overlayfs will, topmost first. Before
// the container starts, tsrun needs its /etc/passwd and /etc/group (to turn
// `USER name` into numbers), and they must be the container's, not the host's.
//
// For each layer, from the top, the path is looked up component by component:
//   - nothing there               this layer says nothing; look in the next one
//   - a whiteout (char dev 0:0)   deleted: the lower layers' copies are hidden
//   - a directory marked opaque   the layers below contribute nothing under it
//   - a regular file (the end)    found
//   - anything else               a file or symlink where a directory should be
//                                 hides the lower directories; a symlink or a
//                                 directory at the end is "not a regular file"
//
// Symlinks are not followed: resolving them correctly means resolving them
// inside the container's root, layer by layer. tsrun only needs /etc/passwd
// and /etc/group, which are regular files in practice, so a symlink there
// reads as "not found" (and the read itself refuses one: readInLayers).
import fs from 'node:fs';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';
import { OVERLAY_OPAQUE_XATTR, OVERLAY_OPAQUE_VALUE } from './whiteouts.js';
import { lstatOrNull } from './lstat.js';

// #region read-in-layers
/** The text of `filePath` (absolute, as the container sees it, e.g. "/etc/passwd") as the overlay of
 *  `layerDirsTopFirst` will show it, or null if it is absent, deleted, or not a regular file. The file is
 *  opened again beneath its layer, refusing any symlink on the way, and without waiting for a writer: a
 *  running container writes its upper directory, and may have swapped /etc for a symlink to the host's
 *  files, or /etc/passwd for a FIFO, since the lookup (tsrun exec -u NAME). */
export function readInLayers(layerDirsTopFirst: string[], filePath: string, sys: Syscalls): string | null {
  const found = statInLayers(layerDirsTopFirst, filePath, sys);
  if (!found?.stat.isFile()) return null;
  const layer = fs.openSync(found.layerDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    const fd = sys.openat2(layer, path.relative(found.layerDir, found.hostPath), ['O_RDONLY', 'O_NONBLOCK'], ['RESOLVE_BENEATH', 'RESOLVE_NO_SYMLINKS']);
    try {
      return fs.fstatSync(fd).isFile() ? fs.readFileSync(fd, 'utf8') : null;
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    // Gone, or a symlink on the way now: what the container has there is not a file tsrun reads.
    if (['ENOENT', 'ELOOP', 'EXDEV', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return null;
    throw error;
  } finally {
    fs.closeSync(layer);
  }
}
// #endregion

/** What the overlay of these layers shows at `filePath`, without following symlinks: the entry's
 *  host path and lstat, or null when nothing is there (absent, or deleted by a whiteout). */
export function statInLayers(layerDirsTopFirst: string[], filePath: string, sys: Syscalls): { layerDir: string; hostPath: string; stat: fs.Stats } | null {
  const parts = filePath.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.length === 0 || parts.includes('..')) return null;

  for (const layerDir of layerDirsTopFirst) {
    const found = lookUp(layerDir, parts, sys);
    if (found.kind === 'found') return found.stat.isCharacterDevice() && found.stat.rdev === 0 ? null : { layerDir, ...found };
    if (found.kind === 'hidden') return null;
  }
  return null;
}

type LookUp =
  /** Something at the end of the path (a whiteout too: it is this layer's last word). */
  | { kind: 'found'; hostPath: string; stat: fs.Stats }
  /** Deleted or shadowed in this layer: the layers below must not be asked. */
  | { kind: 'hidden' }
  /** This layer has nothing there: ask the next one down. */
  | { kind: 'absent' };

/** What one layer directory says about the path `parts`. */
function lookUp(layerDir: string, parts: string[], sys: Syscalls): LookUp {
  let hostPath = layerDir;
  let underOpaque = false;
  for (const dir of parts.slice(0, -1)) {
    hostPath = path.join(hostPath, dir);
    const stat = lstatOrNull(hostPath);
    if (stat === null) return underOpaque ? { kind: 'hidden' } : { kind: 'absent' };
    // A whiteout, a file or a symlink where the path needs a directory hides the lower directories.
    if (!stat.isDirectory()) return { kind: 'hidden' };
    if (isOpaque(hostPath, sys)) underOpaque = true;
  }

  hostPath = path.join(hostPath, parts[parts.length - 1]!);
  const stat = lstatOrNull(hostPath);
  if (stat === null) return underOpaque ? { kind: 'hidden' } : { kind: 'absent' };
  return { kind: 'found', hostPath, stat };
}

function isOpaque(dir: string, sys: Syscalls): boolean {
  return sys.lgetxattr(dir, OVERLAY_OPAQUE_XATTR)?.toString() === OVERLAY_OPAQUE_VALUE;
}

