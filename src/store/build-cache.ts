// The build cache: which image a build step made, by the step's cache key (src/build/cache-key.ts), in
// <root>/build-cache.json:
//
//   { "sha256:<key>": "sha256:<image id>" }
//
// The images themselves are ordinary images in the store. Removing one (rmi, system prune) removes the
// entries that name it, under the same lock; an entry whose image is gone anyway is a miss.
import fs from 'node:fs';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';
import { imageRecordPath, lockPath, type StorePaths } from './paths.js';
import { readJson, writeJsonAtomic } from './atomic.js';
import { withLock } from './lock.js';

const cacheFile = (paths: StorePaths) => path.join(paths.root, 'build-cache.json');

/** The id of the image a step with this key made, if that image is still in the store. */
export function cachedImage(paths: StorePaths, key: string): string | undefined {
  const id = readCache(paths)[key];
  return id !== undefined && fs.existsSync(imageRecordPath(paths, id)) ? id : undefined;
}

/** Remember that the step with this key made image `id`. */
export async function rememberImage(sys: Syscalls, paths: StorePaths, key: string, id: string): Promise<void> {
  await withLock(sys, lockPath(paths), () => writeJsonAtomic(cacheFile(paths), { ...readCache(paths), [key]: id }));
}

/** Forget every step that made image `id`, which is being removed; the caller holds the store lock. */
export function forgetImageLocked(paths: StorePaths, id: string): void {
  const cache = readCache(paths);
  const kept = Object.fromEntries(Object.entries(cache).filter(([, image]) => image !== id));
  if (Object.keys(kept).length !== Object.keys(cache).length) writeJsonAtomic(cacheFile(paths), kept);
}

function readCache(paths: StorePaths): Record<string, string> {
  const file = cacheFile(paths);
  return fs.existsSync(file) ? readJson<Record<string, string>>(file) : {};
}
