// Bringing an image into the store, whoever fetched it (`tsrun load` from a
// file, `tsrun pull` from a registry): every blob is checked against the
// digest that names it, every layer is unpacked and its diff id checked
// against the config, all of it in a staging directory under <root>/tmp.
// Only when everything checked out is it renamed into the store, under the
// store lock. Until then nothing is visible; on failure the directory goes.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Syscalls } from '../kernel/syscalls.js';
import { errorText, fail, hasErrorCode, withContext } from '../errors.js';
import { blobPath, layerDir, lockPath, tmpDir, type StorePaths } from './paths.js';
import { hashFile } from './digest.js';
import { makeStagingDir } from './atomic.js';
import { withLock } from './lock.js';
import { listImages, saveImagesLocked, type ImageRecord, type LayerRecord } from './images.js';
import type { ImageConfig } from '../image/oci.js';

/** Manifests and configs are small; anything bigger than this is not one. */
export const MAX_JSON_BYTES = 8 * 1024 * 1024;

/** What a blob must hash to (and measure, when its descriptor says). */
export interface Expected {
  digest: string;
  size?: number;
}


export function wrongSize(kind: string, digest: string, size: number, expected: number, corruptHint: string): Error {
  return fail(`${kind} ${digest} is ${size} bytes, but its descriptor says ${expected}`, corruptHint);
}

export interface StagedBlob {
  path: string;
  digest: string;
  size: number;
}

/** Run `work` with a fresh staging directory, then move the images it returns into the store
 *  and record them, under the lock. The directory is removed whatever happens. Returns the
 *  images as `work` made them (with the names this load or pull gave them). */
export async function withStaging(
  sys: Syscalls, paths: StorePaths, label: string, corruptHint: string,
  work: (staging: Staging) => Promise<ImageRecord[]>,
): Promise<ImageRecord[]> {
  const dir = makeStagingDir(tmpDir(paths), label);
  try {
    const staging = new Staging(sys, paths, dir, corruptHint);
    const images = await work(staging);
    await withLock(sys, lockPath(paths), () => staging.moveIntoStore(images));
    return images;
  } catch (error) {
    if (hasErrorCode(error, 'ENOSPC')) {
      throw fail(`no space left on the device that holds ${paths.root} (${errorText(error)})`,
        'nothing was stored; free some space, or keep tsrun\'s store on a larger disk (--root), and try again', error);
    }
    throw error;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// #region staging
/** The blobs and layers of one load or pull, checked and kept under <root>/tmp/<label>-…/ until the move into the store. */
export class Staging {
  /** digest -> checked blob file in the staging directory. */
  private readonly blobs = new Map<string, string>();
  /** diff id -> checked unpacked layer directory in the staging directory. */
  private readonly layers = new Map<string, string>();
  /** blob digest -> what it unpacked to, in this staging or (from the image records) an earlier one. */
  private readonly unpacked = new Map<string, { diffId: string; unpackedSize: number }>();
  private counter = 0;

  constructor(
    private readonly sys: Syscalls,
    private readonly paths: StorePaths,
    readonly dir: string,
    /** What to tell the user when something does not match its digest. */
    private readonly corruptHint: string,
  ) {
    fs.mkdirSync(path.join(dir, 'blobs'));
    fs.mkdirSync(path.join(dir, 'layers'));
    for (const image of listImages(paths)) {
      for (const layer of image.layers) this.unpacked.set(layer.digest, layer);
    }
  }

  /** A fresh name in the staging directory for bytes on their way in. */
  incomingFile(): string {
    return path.join(this.dir, 'blobs', `incoming-${this.counter++}`);
  }

  /** The checked blob with this digest, if this staging already has it. */
  stagedBlob(digest: string): StagedBlob | undefined {
    const staged = this.blobs.get(digest);
    return staged === undefined ? undefined : { path: staged, digest, size: fs.statSync(staged).size };
  }

  /** Check the file `incoming` (from incomingFile()) against `expected`, when there is one, and keep it
   *  under its digest. `hashed` is what the caller already measured while writing it, if it did. */
  async keepBlob(incoming: string, kind: string, expected: Expected | undefined, hashed?: { digest: string; size: number }): Promise<StagedBlob> {
    const { digest, size } = hashed ?? await hashFile(incoming);
    // The size first: "is 10 bytes, but its descriptor says 20" tells more than the digest that cannot match.
    if (expected?.size !== undefined && size !== expected.size) throw wrongSize(kind, expected.digest, size, expected.size, this.corruptHint);
    if (expected && digest !== expected.digest) {
      throw fail(`${kind} ${expected.digest} does not match its digest: got ${digest}`, this.corruptHint);
    }
    const target = path.join(this.dir, 'blobs', digest.slice('sha256:'.length));
    if (this.blobs.has(digest)) fs.rmSync(incoming);
    else fs.renameSync(incoming, target);
    fs.chmodSync(target, 0o444); // content-addressed: its name says what it holds, so it never changes
    this.blobs.set(digest, target);
    return { path: target, digest, size };
  }

  /** What the layer in blob `digest` unpacked to, if it is unpacked to `diffId` already
   *  (in the store, or earlier in this staging): then it need not be fetched or unpacked again.
   *  Its blob must be at hand too: `tsrun system check --repair` may have removed a damaged one. */
  alreadyUnpacked(digest: string, diffId: string): { diffId: string; unpackedSize: number } | undefined {
    const known = this.unpacked.get(digest);
    if (known?.diffId !== diffId) return undefined;
    const unpacked = this.layers.has(diffId) || fs.existsSync(layerDir(this.paths, diffId));
    const blob = this.blobs.has(digest) || fs.existsSync(blobPath(this.paths, digest));
    return unpacked && blob ? known : undefined;
  }

  /** Make sure the layer in blob `digest` is unpacked and has diff id `diffId`; returns its unpacked size. */
  async layer(blob: string, digest: string, diffId: string): Promise<number> {
    const known = this.alreadyUnpacked(digest, diffId);
    if (known) return known.unpackedSize;
    return this.unpack(fs.createReadStream(blob), digest, diffId);
  }

  /** Unpack the layer `compressed` streams (the bytes of blob `digest`) and check that it has diff id
   *  `diffId`; returns its unpacked size. `tsrun pull` feeds it from the network as the bytes arrive. */
  async unpack(compressed: Readable, digest: string, diffId: string): Promise<number> {
    const dest = path.join(this.dir, 'layers', `${this.counter++}`);
    let unpacked;
    try {
      fs.mkdirSync(dest, { mode: 0o755 });
      // Loaded when there is something to unpack: a pull of layers the store has starts sooner without it.
      const { unpackLayer } = await import('../image/unpack.js');
      unpacked = await unpackLayer(this.sys, compressed, dest);
    } catch (error) {
      throw withContext(`layer ${digest}`, error);
    }
    if (unpacked.diffId !== diffId) {
      throw fail(`layer ${digest} unpacks to diff id ${unpacked.diffId}, but the image config says ${diffId}`, this.corruptHint);
    }
    if (this.layers.has(diffId)) fs.rmSync(dest, { recursive: true, force: true });
    else this.layers.set(diffId, dest);
    this.unpacked.set(digest, { diffId, unpackedSize: unpacked.size });
    return unpacked.size;
  }

  /** Rename every blob and layer `images` need into the store, then record the images (the caller holds the
   *  store lock). What the store already has stays; if anything fails (a full disk cannot take the records,
   *  say), what was moved goes back into staging, and the store is as it was. */
  moveIntoStore(images: ImageRecord[]): void {
    const moved: { from: string; to: string }[] = [];
    const move = (staged: string | undefined, target: string, what: string) => {
      if (fs.existsSync(target)) return;
      // Checked outside the lock, present then, gone now: another tsrun removed it meanwhile.
      if (!staged) throw fail(`${what} was removed from the store meanwhile`, 'run the command again');
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.renameSync(staged, target);
      moved.push({ from: staged, to: target });
    };
    try {
      for (const image of images) {
        for (const digest of [image.id, image.manifestDigest, ...image.layers.map((layer) => layer.digest)]) {
          if (digest) move(this.blobs.get(digest), blobPath(this.paths, digest), `blob ${digest}`);
        }
        for (const { diffId } of image.layers) move(this.layers.get(diffId), layerDir(this.paths, diffId), `layer ${diffId}`);
      }
      saveImagesLocked(this.paths, images);
    } catch (error) {
      for (const { from, to } of moved.reverse()) fs.renameSync(to, from);
      throw error;
    }
  }
}
// #endregion

/** The config of an image, checked for what tsrun relies on: one valid diff id per layer. */
export function readImageConfig(file: string, layerCount: number, corruptHint: string): ImageConfig {
  const config = readJsonFile<ImageConfig>(file, 'the image config', corruptHint);
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || !diffIds.every((id) => /^sha256:[a-f0-9]{64}$/.test(id))) {
    throw fail('the image config has no valid rootfs.diff_ids', corruptHint);
  }
  if (diffIds.length !== layerCount) {
    throw fail(`the image config lists ${diffIds.length} layers but the manifest ${layerCount}`, corruptHint);
  }
  return config;
}

export function readJsonFile<T>(file: string, what: string, corruptHint: string): T {
  if (!fs.existsSync(file)) throw fail(`${what} is missing`, corruptHint);
  if (fs.statSync(file).size > MAX_JSON_BYTES) throw fail(`${what} is larger than ${MAX_JSON_BYTES} bytes: not an image document`, corruptHint);
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw fail(`${what} is not valid JSON`, corruptHint, error);
  }
  // Every image document is an object (or, a docker-archive's manifest.json, a list): the callers read fields of it.
  if (typeof value !== 'object' || value === null) throw fail(`${what} is not a JSON object`, corruptHint);
  return value as T;
}

export function imageRecord(id: string, config: ImageConfig, layers: LayerRecord[], names: { repoTags: string[]; repoDigests: string[] }): ImageRecord {
  return {
    id,
    ...names,
    created: config.created ?? new Date(0).toISOString(),
    config,
    layers,
    size: layers.reduce((total, layer) => total + layer.unpackedSize, 0),
  };
}
