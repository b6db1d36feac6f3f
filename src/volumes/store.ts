// Named volumes, Docker's "local" driver: a directory under the store that
// outlives every container using it.
//
//   <root>/volumes/<name>/volume.json   { Name, CreatedAt, Anonymous, Labels }
//   <root>/volumes/<name>/_data         what the container sees at its mount point
//
// A volume is in use while any container (running or not) names it, as with
// docker: it cannot be removed from under them.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Syscalls } from '../kernel/syscalls.js';
import { lockPath, type StorePaths } from '../store/paths.js';
import { withLock } from '../store/lock.js';
import { readJson, writeJsonAtomic } from '../store/atomic.js';
import { listContainers } from '../store/containers.js';
import { TsrunError, fail } from '../errors.js';

export interface VolumeRecord {
  Name: string;
  CreatedAt: string;
  /** Made for one container by `-v /path` (no name given): removed with a --rm container. */
  Anonymous: boolean;
  /** `docker volume create --label`: the user's notes, which `volume ls --filter label=` finds. */
  Labels?: Record<string, string>;
}

const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const volumesDir = (paths: StorePaths) => path.join(paths.root, 'volumes');
export const volumeDataDir = (paths: StorePaths, name: string) => path.join(volumesDir(paths), name, '_data');
const recordPath = (paths: StorePaths, name: string) => path.join(volumesDir(paths), name, 'volume.json');

export function listVolumes(paths: StorePaths): VolumeRecord[] {
  if (!fs.existsSync(volumesDir(paths))) return [];
  return fs.readdirSync(volumesDir(paths)).sort()
    .filter((name) => fs.existsSync(recordPath(paths, name)))
    .map((name) => readJson<VolumeRecord>(recordPath(paths, name)));
}

export function findVolume(paths: StorePaths, name: string): VolumeRecord | undefined {
  return VALID_NAME.test(name) && fs.existsSync(recordPath(paths, name)) ? readJson<VolumeRecord>(recordPath(paths, name)) : undefined;
}

/** What `tsrun volume inspect` and the daemon's volume endpoints show: Docker's shape, its local driver's fields. */
export function volumeDocument(paths: StorePaths, volume: VolumeRecord): object {
  return { CreatedAt: volume.CreatedAt, Driver: 'local', Labels: volume.Labels ?? null, Mountpoint: volumeDataDir(paths, volume.Name), Name: volume.Name, Options: null, Scope: 'local' };
}

/** The volume, made with these labels if it does not exist yet; `created` says which. A name of '' makes an
 *  anonymous volume. */
export async function ensureVolume(
  sys: Syscalls, paths: StorePaths, name: string, labels: Record<string, string> = {},
): Promise<{ volume: VolumeRecord; created: boolean }> {
  if (name !== '' && !VALID_NAME.test(name)) throw fail(`invalid volume name "${name}"`, 'use letters, digits, "_", "." and "-", starting with a letter or digit');
  return withLock(sys, lockPath(paths), () => {
    const existing = name === '' ? undefined : findVolume(paths, name);
    if (existing) return { volume: existing, created: false };
    const volume: VolumeRecord = {
      Name: name || crypto.randomBytes(32).toString('hex'), CreatedAt: new Date().toISOString(), Anonymous: name === '',
      ...(Object.keys(labels).length > 0 ? { Labels: labels } : {}),
    };
    fs.mkdirSync(volumeDataDir(paths, volume.Name), { recursive: true, mode: 0o755 });
    writeJsonAtomic(recordPath(paths, volume.Name), volume);
    return { volume, created: true };
  });
}

/** The containers (ids) whose mounts name this volume. */
export function containersUsingVolume(paths: StorePaths, name: string): string[] {
  return listContainers(paths)
    .filter((container) => (container.config.mounts ?? []).some((mount) => mount.type === 'volume' && mount.source === name))
    .map((container) => container.id);
}

// #region volume-rm
/** Remove a volume and its data, refused while a container names it. */
export async function removeVolume(sys: Syscalls, paths: StorePaths, name: string): Promise<void> {
  await withLock(sys, lockPath(paths), () => {
    if (!findVolume(paths, name)) throw fail(`no such volume: ${name}`, 'see `tsrun volume ls`');
    const users = containersUsingVolume(paths, name);
    if (users.length > 0) {
      throw new TsrunError(`remove ${name}: volume is in use - [${users.join(', ')}]`, { hint: 'remove those containers first (`tsrun rm`)', code: 'IN_USE' });
    }
    fs.rmSync(path.join(volumesDir(paths), name), { recursive: true, force: true });
  });
}
// #endregion

/** The anonymous volumes of a container that is being removed (`--rm`, `rm -v`): nobody can name them again. */
export async function removeAnonymousVolumes(sys: Syscalls, paths: StorePaths, mounts: Array<{ type: string; source: string }>): Promise<void> {
  for (const mount of mounts) {
    if (mount.type === 'volume' && findVolume(paths, mount.source)?.Anonymous && containersUsingVolume(paths, mount.source).length === 0) {
      await removeVolume(sys, paths, mount.source);
    }
  }
}

/** `tsrun volume prune`: every volume no container names. */
export async function pruneVolumes(sys: Syscalls, paths: StorePaths): Promise<string[]> {
  const removed: string[] = [];
  for (const volume of listVolumes(paths)) {
    if (containersUsingVolume(paths, volume.Name).length > 0) continue;
    await removeVolume(sys, paths, volume.Name);
    removed.push(volume.Name);
  }
  return removed;
}
