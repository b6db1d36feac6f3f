// Volumes and bind mounts become steps of the container's child: after the
// overlay is its root, each one is mounted on its path inside, before
// pivot_root. Two things are settled here first, on the host:
//
// - A mount's path inside the container is checked in the image's layers, so
//   that a mistake is one clear line before anything runs: a path through a
//   symlink is refused, a file where a directory should be too. (The child
//   resolves every path inside the root anyway, src/kernel/steps.ts: a symlink
//   in the image, "/data -> /etc", could not lead it to the host's files.)
// - A new named volume starts as a copy of what the image has at its path,
//   as docker's does, so `-v data:/var/lib/app` keeps the image's files.
import fs from 'node:fs';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';
import { ancestors, type ChildStep } from '../kernel/steps.js';
import type { StorePaths } from '../store/paths.js';
import { fail } from '../errors.js';
import { statInLayers } from '../image/layer-stack.js';
import { OVERLAY_OPAQUE_VALUE, OVERLAY_OPAQUE_XATTR } from '../image/whiteouts.js';
import { volumeDataDir } from './store.js';
import type { MountSpec, TmpfsAllow } from '../container.js';

/** A mount ready for the child: its host source, and whether its target is a file. */
export interface PreparedMount extends MountSpec {
  hostPath: string;
  file: boolean;
}

// #region prepare-mounts
/** Resolve each mount against the container's layers (upper dir first) and the host. */
export function prepareMounts(paths: StorePaths, mounts: MountSpec[], layersTopFirst: string[], sys: Syscalls): PreparedMount[] {
  // Outer paths first: /data must be mounted before /data/logs, or it would hide it.
  const ordered = [...mounts].sort((a, b) => a.target.split('/').length - b.target.split('/').length);
  return ordered.map((mount) => {
    const inImage = checkMountTarget(mount.target, layersTopFirst, sys);
    if (mount.type === 'tmpfs') return { ...mount, hostPath: 'tmpfs', file: false };
    const hostPath = mount.type === 'volume' ? volumeDataDir(paths, mount.source) : mount.source;
    if (!fs.existsSync(hostPath)) {
      throw fail(`invalid mount config for type "${mount.type}": bind source path does not exist: ${hostPath}`, 'create it, or check the path');
    }
    const file = !fs.statSync(hostPath).isDirectory();
    if (inImage && inImage.isDirectory() === file) {
      throw fail(`cannot mount ${file ? 'a file' : 'a directory'} on ${mount.target}: the container has a ${file ? 'directory' : 'file'} there`, 'mount it somewhere else');
    }
    return { ...mount, hostPath, file };
  });
}
// #endregion

/** What the container's layers have at `target` (null: nothing), after checking that no directory on the way
 *  is a symlink or a file. */
export function checkMountTarget(target: string, layersTopFirst: string[], sys: Syscalls): fs.Stats | null {
  const parts = target.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const prefix = '/' + parts.slice(0, i).join('/');
    const found = statInLayers(layersTopFirst, prefix, sys);
    if (!found) return null; // nothing there: the child creates the rest as plain directories
    if (found.stat.isSymbolicLink()) {
      throw fail(`cannot mount on ${target}: ${prefix} is a symbolic link in the container`, 'mount on the path it points to instead');
    }
    if (i < parts.length && !found.stat.isDirectory()) throw fail(`cannot mount on ${target}: ${prefix} is not a directory in the container`);
    if (i === parts.length) return found.stat;
  }
  return null;
}

// #region mount-steps
const TMPFS_LOCKS: Array<{ allow: TmpfsAllow; flag: string }> = [
  { allow: 'exec', flag: 'MS_NOEXEC' }, { allow: 'suid', flag: 'MS_NOSUID' }, { allow: 'dev', flag: 'MS_NODEV' },
];

/** The child's steps for the mounts: their mount points, then the mounts; read-only ones remounted so. */
export function mountSteps(mounts: PreparedMount[], root: string): ChildStep[] {
  return mounts.flatMap((mount): ChildStep[] => {
    const target = mount.target;
    const parents = ancestors(path.posix.dirname(target)).map((dir): ChildStep => ({ op: 'mkdir', root, path: dir, mode: 0o755 }));
    const point: ChildStep = mount.file ? { op: 'create_file', root, path: target, mode: 0o644 } : { op: 'mkdir', root, path: target, mode: 0o755 };
    if (mount.type === 'tmpfs') {
      // Docker's defaults: nothing on a tmpfs is run, setuid or a device unless its flag allows it (/t:exec).
      const allowed = mount.allow ?? [];
      const flags = [
        ...TMPFS_LOCKS.filter(({ allow }) => !allowed.includes(allow)).map(({ flag }) => flag),
        ...(mount.readOnly ? ['MS_RDONLY'] : []),
      ];
      return [...parents, point, { op: 'mount', source: 'tmpfs', root, target, fstype: 'tmpfs', flags, data: mount.options ?? '' }];
    }
    return [
      ...parents, point,
      { op: 'mount', source: mount.hostPath, root, target, fstype: '', flags: ['MS_BIND', 'MS_REC'], data: '' },
      // A bind mount takes the flags of what it binds; read-only needs a remount of the new mount point.
      ...(mount.readOnly ? [{ op: 'mount', source: '', root, target, fstype: '', flags: ['MS_BIND', 'MS_REMOUNT', 'MS_RDONLY'], data: '' } as ChildStep] : []),
    ];
  });
}
// #endregion

// #region copy-up
/** A new volume gets what the image has at its path: each layer's copy, bottom to top, with whiteouts and
 *  opaque directories honoured, so the result is what the container would have seen there. */
export function copyImageContent(layersBottomFirst: string[], containerPath: string, dest: string, sys: Syscalls): void {
  for (const layer of layersBottomFirst) {
    const found = inLayer(layer, containerPath);
    if (found === 'hides') clearDirectory(dest); // deleted, or not a directory, in this layer
    else if (found !== 'absent') copyLayerDirectory(found, dest, sys);
  }
}

/** The directory at `containerPath` in this one layer, looked up a component at a time without following
 *  symlinks (a symlink in a layer points into the container, not at the host): 'absent' if the layer has
 *  nothing there, 'hides' if it has something else there, which hides what the layers below had. */
function inLayer(layer: string, containerPath: string): string | 'absent' | 'hides' {
  let at = layer;
  for (const part of containerPath.split('/').filter(Boolean)) {
    at = path.join(at, part);
    const stat = fs.lstatSync(at, { throwIfNoEntry: false });
    if (!stat) return 'absent';
    if (!stat.isDirectory()) return 'hides';
  }
  return at;
}
// #endregion

function copyLayerDirectory(source: string, dest: string, sys: Syscalls): void {
  if (sys.lgetxattr(source, OVERLAY_OPAQUE_XATTR)?.toString() === OVERLAY_OPAQUE_VALUE) clearDirectory(dest);
  const dirStat = fs.lstatSync(source);
  fs.chmodSync(dest, dirStat.mode & 0o7777);
  fs.chownSync(dest, dirStat.uid, dirStat.gid);
  for (const name of fs.readdirSync(source)) {
    const from = path.join(source, name);
    const to = path.join(dest, name);
    const stat = fs.lstatSync(from);
    const existing = fs.lstatSync(to, { throwIfNoEntry: false });
    if (stat.isCharacterDevice() && stat.rdev === 0) { // a whiteout: the lower layers' entry is gone
      fs.rmSync(to, { recursive: true, force: true });
      continue;
    }
    if (existing && !(existing.isDirectory() && stat.isDirectory())) fs.rmSync(to, { recursive: true, force: true });
    if (stat.isDirectory()) {
      if (!existing?.isDirectory()) fs.mkdirSync(to);
      copyLayerDirectory(from, to, sys);
    } else if (stat.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(from), to);
      fs.lchownSync(to, stat.uid, stat.gid);
    } else if (stat.isFile()) {
      fs.copyFileSync(from, to);
      fs.chownSync(to, stat.uid, stat.gid);
      fs.chmodSync(to, stat.mode & 0o7777); // after chown, which clears setuid bits
    }
    // Devices, fifos and sockets in a volume's starting content are left out: a volume holds data.
  }
}

function clearDirectory(dir: string): void {
  for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}
