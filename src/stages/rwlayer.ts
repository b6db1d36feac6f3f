// Stage 3, rw layer: the container's root filesystem is an overlay. The
// image's layers are its read-only lower directories; a per-container upper
// directory takes every write, so the image itself never changes and a
// stopped container keeps its changes for the next start.
//
// The mount itself is made by the container's child process, inside its own
// mount namespace (see the namespaces stage): it exists only while the
// container runs and vanishes with it, so nothing can leak onto the host.
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerRecord, RootfsPlan } from '../container.js';
import type { Runtime } from '../runtime.js';
import type { StorePaths } from '../store/paths.js';
import { containerDir, containerRunDir, layerDir } from '../store/paths.js';
import { fail } from '../errors.js';

// The kernel takes mount options of at most one page.
const MAX_MOUNT_DATA = 4096;

// #region rwlayer
export async function rwlayer(runtime: Runtime, container: ContainerRecord): Promise<RootfsPlan> {
  const lowerdirs = lowerDirs(runtime.paths, container);
  for (const dir of lowerdirs) {
    if (!fs.existsSync(dir)) throw fail(`layer ${dir} of image ${container.image.name} is missing`, 'load the image again');
  }
  const upperdir = upperDir(runtime.paths, container);
  const workdir = workDir(runtime.paths, container);
  const mountpoint = path.join(containerRunDir(runtime.paths, container.id), 'rootfs');
  for (const dir of [upperdir, workdir, mountpoint]) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });

  const data = `lowerdir=${lowerdirs.join(':')},upperdir=${upperdir},workdir=${workdir}`;
  if (data.length >= MAX_MOUNT_DATA) {
    throw fail(`image ${container.image.name} has too many layers (${lowerdirs.length}) for one overlay mount`, 'flatten the image');
  }
  return {
    lowerdirs, upperdir, workdir, mountpoint,
    steps: [{ op: 'mount', source: 'overlay', target: mountpoint, fstype: 'overlay', flags: [], data }],
  };
}
// #endregion

/** The image's layers, topmost first: overlayfs lists lower directories that way, images list layers bottom first. */
export function lowerDirs(paths: StorePaths, container: ContainerRecord): string[] {
  return [...container.image.layers].reverse().map((diffId) => layerDir(paths, diffId));
}

/** Where the container's writes go, kept from one start to the next until `tsrun rm`. */
export const upperDir = (paths: StorePaths, container: ContainerRecord) => path.join(containerDir(paths, container.id), 'upper');

/** overlayfs's own scratch directory, on the same filesystem as the upper dir. */
export const workDir = (paths: StorePaths, container: ContainerRecord) => path.join(containerDir(paths, container.id), 'work');
