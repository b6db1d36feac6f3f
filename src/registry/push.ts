// Pushing an image from the store to a registry, the way `docker push` does:
// the blobs first (every layer, then the config), the manifest last. A
// registry refuses a manifest that names a blob it does not have, so once
// the manifest is in, the whole image is.
//
// For each blob, the cheapest way that works:
//
//   HEAD   the registry has it already      -> "Layer already exists"
//   mount  another repository there has it  -> "Mounted from <repository>"
//   upload in one PUT if it is small, else in PATCH chunks then a PUT
//
// What goes up are the very bytes the image came with (its compressed layers,
// its config, its manifest), so the digest the registry ends up with is the
// digest the image had when it was pulled or loaded.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { fail } from '../errors.js';
import { blobPath, lockPath, type StorePaths } from '../store/paths.js';
import { withLock } from '../store/lock.js';
import { findImage, saveImageLocked, type ImageRecord } from '../store/images.js';
import { familiarString, parseReference, type ImageReference } from '../image/reference.js';
import { MEDIA_TYPES, type Descriptor } from '../image/oci.js';
import type { Syscalls } from '../kernel/syscalls.js';
import { readRegistryConfig } from './config.js';
import { endpointFor } from './endpoint.js';
import { credentialsFor, type Credentials } from './auth.js';
import { RegistryClient } from './client.js';

export interface PushOptions {
  /** Blobs larger than this go up in chunks of this size; smaller ones in one request. */
  chunkSize?: number;
  /** Told how the push goes; nothing is told when absent. */
  progress?: (event: PushEvent) => void;
  /** Who to be to the registry: the daemon's client's, from its X-Registry-Auth header. Default: the config's
   *  (`tsrun login`, Docker's config.json). */
  credentials?: Credentials;
}

/** What a push tells as it goes: `tsrun push` writes each as docker push's line (pushEventLine), the daemon
 *  sends it as dockerd's progress message, which the docker CLI draws. */
export type PushEvent =
  | { type: 'start'; repository: string }
  /** `layer` is the first 12 hex digits of the layer's digest; `status` is in docker's words: Preparing, Pushed,
   *  Layer already exists, Mounted from REPOSITORY. */
  | { type: 'layer'; layer: string; status: string }
  /** `sent` of the layer's `total` bytes have gone up. */
  | { type: 'bytes'; layer: string; sent: number; total: number }
  | { type: 'done'; tag: string; digest: string; size: number };

/** The line docker push writes for an event; none for the byte counts. */
export function pushEventLine(event: PushEvent): string | undefined {
  switch (event.type) {
    case 'start': return `The push refers to repository [${event.repository}]`;
    case 'layer': return `${event.layer}: ${event.status}`;
    case 'bytes': return undefined;
    case 'done': return `${event.tag}: digest: ${event.digest} size: ${event.size}`;
  }
}

export interface PushResult {
  /** The manifest's digest: the image is now `name@digest` in the registry. */
  digest: string;
  size: number;
}

/** Docker uploads in 5 streams at once by default ("max-concurrent-uploads"). */
const CONCURRENT_UPLOADS = 5;
const CHUNK_BYTES = 16 * 1024 * 1024;

// #region push
export async function pushImage(sys: Syscalls, paths: StorePaths, reference: ImageReference, options: PushOptions = {}): Promise<PushResult> {
  if (reference.tag === undefined) throw fail(`cannot push ${familiarString(reference)}: a push needs a tag, not a digest`, 'tag the image with a name to push: `tsrun tag IMAGE NAME:TAG`');
  const image = findImage(paths, reference.canonical);
  if (!image) throw fail(`an image does not exist locally with the tag: ${familiarString(reference)}`, `tag one with that name first: \`tsrun tag IMAGE ${familiarString(reference)}\``);
  const tell = options.progress ?? (() => {});
  const config = readRegistryConfig(paths);
  const manifest = manifestOf(paths, image);

  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort(fail('push interrupted', 'the tag was not changed in the registry; run the push again'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const client = new RegistryClient(endpointFor(reference.domain, config), reference.path, options.credentials ?? credentialsFor(reference.domain, config), interrupted.signal, 'pull,push');
  try {
    tell({ type: 'start', repository: reference.name });
    const mountFrom = otherRepositories(image, reference);
    const short = (descriptor: Descriptor) => descriptor.digest.slice('sha256:'.length, 'sha256:'.length + 12);
    const layers = [...manifest.layers].reverse(); // top first, as docker lists them
    for (const layer of layers) tell({ type: 'layer', layer: short(layer), status: 'Preparing' });
    await eachAtMost(CONCURRENT_UPLOADS, layers, async (layer) => {
      const sent = (bytes: number) => tell({ type: 'bytes', layer: short(layer), sent: bytes, total: layer.size });
      tell({ type: 'layer', layer: short(layer), status: await pushBlob(client, paths, layer, mountFrom, options.chunkSize ?? CHUNK_BYTES, sent) });
    });
    await pushBlob(client, paths, manifest.config, mountFrom, options.chunkSize ?? CHUNK_BYTES, () => {});

    const claimed = await client.putManifest(reference.tag, manifest.mediaType, manifest.bytes);
    if (claimed !== undefined && claimed !== manifest.digest) {
      throw fail(`${reference.domain} stored the manifest as ${claimed}, but it is ${manifest.digest}`, 'the registry changed the manifest; tell its administrator');
    }
    await rememberDigest(sys, paths, image.id, `${reference.name}@${manifest.digest}`);
    tell({ type: 'done', tag: reference.tag, digest: manifest.digest, size: manifest.bytes.length });
    return { digest: manifest.digest, size: manifest.bytes.length };
  } finally {
    client.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
// #endregion

// #region push-blob
/** One blob into the registry by the cheapest way that works; returns what happened, in docker's words. `sent` is
 *  told how many bytes have gone up after each request that sends some. */
async function pushBlob(
  client: RegistryClient, paths: StorePaths, blob: Descriptor, mountFrom: string[], chunkSize: number, sent: (bytes: number) => void,
): Promise<string> {
  if (await client.hasBlob(blob.digest)) return 'Layer already exists';
  const from = mountFrom[0];
  // A registry that cannot mount (it lacks the blob there, or we may not read from there) starts an upload instead.
  let location = from === undefined ? await client.startUpload() : await client.mountBlob(blob.digest, from);
  if (location === undefined) return `Mounted from ${from}`;

  const file = fs.openSync(blobPath(paths, blob.digest), 'r');
  try {
    let offset = 0;
    // A blob that fits in one chunk goes up whole with the closing PUT; a larger one in PATCHes first.
    while (blob.size - offset > chunkSize) {
      location = await client.uploadChunk(location, offset, readAt(file, offset, chunkSize));
      offset += chunkSize;
      sent(offset);
    }
    await client.finishUpload(location, blob.digest, readAt(file, offset, blob.size - offset));
    sent(blob.size);
  } finally {
    fs.closeSync(file);
  }
  return 'Pushed';
}
// #endregion

interface ManifestToPush {
  bytes: Buffer;
  digest: string;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** The manifest the image came with; an image loaded from a docker-archive has none, and gets one written for it. */
function manifestOf(paths: StorePaths, image: ImageRecord): ManifestToPush {
  const missing = [image.id, ...image.layers.map((layer) => layer.digest)].find((digest) => !fs.existsSync(blobPath(paths, digest)));
  if (missing) throw fail(`the store lacks blob ${missing} of image ${image.id}`, 'pull or load the image again');
  if (image.manifestDigest && fs.existsSync(blobPath(paths, image.manifestDigest))) {
    const bytes = fs.readFileSync(blobPath(paths, image.manifestDigest));
    const json = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; config: Descriptor; layers: Descriptor[] };
    return { bytes, digest: image.manifestDigest, mediaType: json.mediaType ?? MEDIA_TYPES.ociManifest, config: json.config, layers: json.layers };
  }
  const docker = image.layers.every((layer) => layer.mediaType.startsWith('application/vnd.docker.'));
  const config: Descriptor = {
    mediaType: docker ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.ociConfig,
    digest: image.id,
    size: fs.statSync(blobPath(paths, image.id)).size,
  };
  const layers = image.layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size }));
  const mediaType = docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest;
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config, layers }));
  return { bytes, digest: `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`, mediaType, config, layers };
}

/** Docker notes where an image was pushed as one of its repo digests. Under the lock, and only if the image is
 *  still there: a `tsrun rmi` while we pushed must not be undone. */
async function rememberDigest(sys: Syscalls, paths: StorePaths, imageId: string, repoDigest: string): Promise<void> {
  await withLock(sys, lockPath(paths), () => {
    const current = findImage(paths, imageId);
    if (current) saveImageLocked(paths, { ...current, repoTags: [], repoDigests: [repoDigest] });
  });
}

/** Repositories of the same registry this image also has names in: blobs can be mounted from there. */
function otherRepositories(image: ImageRecord, target: ImageReference): string[] {
  const repositories = new Set<string>();
  for (const name of [...image.repoTags, ...image.repoDigests]) {
    const other = parseReference(name);
    if (other.domain === target.domain && other.path !== target.path) repositories.add(other.path);
  }
  return [...repositories];
}

function readAt(file: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const n = fs.readSync(file, buffer, read, length - read, offset + read);
    if (n === 0) throw fail('a blob in the store is shorter than its descriptor says', 'the store is damaged: pull or load the image again');
    read += n;
  }
  return buffer;
}

/** Run `work` on every item, at most `limit` at a time; the first failure is thrown once all have settled. */
async function eachAtMost<T>(limit: number, items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}
