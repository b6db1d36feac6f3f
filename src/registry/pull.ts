// Pulling an image from a registry into the store, the way `docker pull` does:
//
//   reference ──> manifest (or an index, and from it the manifest for our platform)
//                   ├─> config: the image's settings, and the diff id of every layer
//                   └─> layers: fetched a few at a time, each unpacked while it arrives
//
// Nothing from the network is trusted. Every document and blob is hashed as it
// arrives and compared with the digest that named it; every layer, unpacked,
// must hash to the diff id its config lists. A layer goes through it all in one
// pass: download → hash → decompress → hash → untar, chunk by chunk. It all happens in a staging
// directory (src/store/staging.ts, shared with `tsrun load`) and moves into the
// store only once everything checked out. A layer the store already has is not
// fetched again.
import fs from 'node:fs';
import { faultPoint } from '../faults.js';
import crypto from 'node:crypto';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Syscalls } from '../kernel/syscalls.js';
import { fail, printable } from '../errors.js';
import { blobPath, type StorePaths } from '../store/paths.js';
import { findImage, type ImageRecord, type LayerRecord } from '../store/images.js';
import { familiarString, type ImageReference } from '../image/reference.js';
import { CONFIG_MEDIA_TYPES, LAYER_MEDIA_TYPES, checkDescriptor, hostPlatform, type Descriptor, type ImageIndex, type ImageManifest, type Platform } from '../image/oci.js';
import { imageRecord, readImageConfig, withStaging, type Staging, type StagedBlob } from '../store/staging.js';
import { readRegistryConfig, type RegistryConfig } from './config.js';
import { endpointsFor, type Endpoint } from './endpoint.js';
import { credentialsFor, type Credentials } from './auth.js';
import { RegistryClient } from './client.js';
import { manifestKind, pickPlatform } from './media.js';
import { inSpan } from '../trace/span.js';
import type { PullProgress } from './progress.js';

export interface PullOptions {
  /** Default: the host's. */
  platform?: Platform;
  /** Told how the pull goes (see progress.ts); nothing is told when absent. */
  progress?: PullProgress;
  /** Who to be to the reference's registry (never to a mirror): the daemon's client's, from its X-Registry-Auth
   *  header. Default: the config's (`tsrun login`, Docker's config.json). */
  credentials?: Credentials;
}

export interface PullResult {
  image: ImageRecord;
  /** The digest of what the reference named (for a multi-platform image, its index). */
  digest: string;
  /** The store already had this image under this name: nothing new was downloaded. */
  upToDate: boolean;
}

const CORRUPT = 'the registry sent something other than what the image names; try again, and if it persists tell the registry\'s administrator';

// #region pull
export async function pullImage(sys: Syscalls, paths: StorePaths, reference: ImageReference, options: PullOptions = {}): Promise<PullResult> {
  const config = readRegistryConfig(paths);
  const tell = options.progress ?? (() => {});
  // Ctrl-C stops the downloads; the staging directory is removed on the way out.
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort(fail('pull interrupted', 'nothing was stored; run it again'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let opened: RegistryClient | undefined;
  try {
    tell({ type: 'start', tagOrDigest: reference.tag ?? reference.digest!, repository: reference.path });
    const { client, top } = await findManifest(endpointsFor(reference.domain, config), reference, config, interrupted.signal, tell, options.credentials);
    opened = client;
    const { manifest, manifestBytes, manifestDigest } = await resolvePlatform(client, top, options.platform ?? hostPlatform(), reference);
    checkManifest(manifest, manifestDigest);

    const previous = findImage(paths, reference.canonical);
    const [image] = await withStaging(sys, paths, 'pull', CORRUPT, async (staging) => {
      await keepDocument(staging, manifestBytes, manifestDigest);
      const configBlob = await inSpan('tsrun.pull.config', { 'tsrun.blob.digest': manifest.config.digest, 'tsrun.blob.size': manifest.config.size },
        () => fetchConfig(client, staging, paths, manifest.config));
      const imageConfig = readImageConfig(configBlob, manifest.layers.length, CORRUPT);
      const layers = await fetchLayers(client, staging, manifest.layers, imageConfig.rootfs.diff_ids, config.maxConcurrentDownloads, tell, interrupted);
      const names = {
        repoTags: reference.tag === undefined ? [] : [`${reference.name}:${reference.tag}`],
        repoDigests: [`${reference.name}@${top.digest}`],
      };
      return [{ ...imageRecord(manifest.config.digest, imageConfig, layers, names), manifestDigest }];
    });
    const upToDate = previous?.id === image!.id && previous.repoDigests.includes(`${reference.name}@${top.digest}`);
    tell({ type: 'done', digest: top.digest, upToDate, reference: familiarString(reference) });
    return { image: image!, digest: top.digest, upToDate };
  } finally {
    opened?.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
// #endregion

interface Document {
  bytes: Buffer;
  digest: string;
  kind: 'index' | 'manifest';
  json: Record<string, unknown>;
}

/** The reference's manifest from the first endpoint that has it: a docker.io image is asked of each mirror
 *  in turn, then of Docker Hub. The client that found it fetches the rest of the image too. */
async function findManifest(
  endpoints: Endpoint[], reference: ImageReference, config: RegistryConfig, signal: AbortSignal, tell: PullProgress, given: Credentials | undefined,
): Promise<{ client: RegistryClient; top: Document }> {
  for (const [i, endpoint] of endpoints.entries()) {
    const credentials = given && endpoint.domain === reference.domain ? given : credentialsFor(endpoint.domain, config);
    const client = new RegistryClient(endpoint, reference.path, credentials, signal);
    try {
      return { client, top: await fetchManifest(client, reference.digest ?? reference.tag!, reference.digest) };
    } catch (error) {
      client.close();
      if (i === endpoints.length - 1 || signal.aborted) throw error;
      tell({ type: 'mirror-failed', mirror: endpoint.origin, reason: error instanceof Error ? error.message : String(error), next: endpoints[i + 1]!.origin });
    }
  }
  throw new Error('no endpoint to pull from'); // endpointsFor always gives the registry itself
}

// #region verify-manifest
/** A manifest or index, checked: against the digest we asked for, else against the one the registry claims. */
async function fetchManifest(client: RegistryClient, reference: string, expectedDigest: string | undefined, expectedSize?: number): Promise<Document> {
  const fetched = await client.manifest(reference, expectedSize);
  const digest = sha256(fetched.bytes);
  const promised = expectedDigest ?? fetched.claimedDigest;
  if (promised !== undefined && promised !== digest) {
    throw fail(`manifest ${promised} does not match its digest: got ${digest}`, CORRUPT);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fetched.bytes.toString('utf8'));
  } catch (error) {
    throw fail(`manifest ${digest} is not valid JSON`, CORRUPT, error);
  }
  if (typeof json !== 'object' || json === null) throw fail(`manifest ${digest} is not a JSON object`, CORRUPT);
  return { bytes: fetched.bytes, digest, kind: manifestKind(fetched.contentType, json), json };
}
// #endregion

/** The image manifest for `platform`: the document itself, or the one its index lists for it. */
async function resolvePlatform(client: RegistryClient, top: Document, platform: Platform, reference: ImageReference): Promise<{ manifest: ImageManifest; manifestBytes: Buffer; manifestDigest: string }> {
  let document = top;
  if (top.kind === 'index') {
    const index = top.json as unknown as ImageIndex;
    if (!Array.isArray(index.manifests)) throw fail(`index ${top.digest} has no manifests list`, CORRUPT);
    const manifests = index.manifests.map((entry, i) => checkDescriptor(entry, `index ${top.digest}: manifests[${i}]`, CORRUPT));
    const chosen = pickPlatform(manifests, platform, familiarString(reference));
    document = await fetchManifest(client, chosen.digest, chosen.digest, chosen.size);
    if (document.bytes.length !== chosen.size) throw fail(`manifest ${chosen.digest} is ${document.bytes.length} bytes, but the index says ${chosen.size}`, CORRUPT);
    if (document.kind !== 'manifest') throw fail(`index ${top.digest} points at another index for ${platform.os}/${platform.architecture}`, 'tsrun follows one level of index, as registries serve them');
  }
  return { manifest: document.json as unknown as ImageManifest, manifestBytes: document.bytes, manifestDigest: document.digest };
}

function checkManifest(manifest: ImageManifest, digest: string): void {
  checkDescriptor(manifest.config, `manifest ${digest}: config`, CORRUPT);
  if (!CONFIG_MEDIA_TYPES.includes(manifest.config.mediaType)) {
    throw fail(`manifest ${digest} is not a container image (its config is ${printable(manifest.config.mediaType)})`, 'tsrun pulls container images only');
  }
  if (!Array.isArray(manifest.layers)) throw fail(`manifest ${digest} has no layers list`, CORRUPT);
  for (const [i, layer] of manifest.layers.entries()) {
    checkDescriptor(layer, `manifest ${digest}: layers[${i}]`, CORRUPT);
    if (!LAYER_MEDIA_TYPES.includes(layer.mediaType)) {
      throw fail(`layer ${layer.digest} has unsupported media type ${printable(layer.mediaType)}`, `tsrun unpacks ${LAYER_MEDIA_TYPES.join(', ')}`);
    }
  }
}

async function keepDocument(staging: Staging, bytes: Buffer, digest: string): Promise<void> {
  const incoming = staging.incomingFile();
  fs.writeFileSync(incoming, bytes, { flag: 'wx', mode: 0o600 });
  await staging.keepBlob(incoming, 'manifest', { digest, size: bytes.length });
}

/** The config's path: in the store if an earlier pull or load brought it, else fetched into staging. */
async function fetchConfig(client: RegistryClient, staging: Staging, paths: StorePaths, descriptor: Descriptor): Promise<string> {
  const stored = blobPath(paths, descriptor.digest);
  if (fs.existsSync(stored)) return stored;
  return (await download(client, staging, descriptor, 'config')).path;
}

// #region layers
/** Every layer, `concurrency` at a time: fetched and unpacked unless the store has it already.
 *  The first failure stops the others (their downloads are aborted), and all have settled before we return. */
async function fetchLayers(
  client: RegistryClient, staging: Staging, descriptors: Descriptor[], diffIds: string[], concurrency: number,
  tell: PullProgress, interrupted: AbortController,
): Promise<LayerRecord[]> {
  const records: LayerRecord[] = [];
  const short = (descriptor: Descriptor) => descriptor.digest.slice('sha256:'.length, 'sha256:'.length + 12);
  const present = descriptors.map((descriptor, i) => staging.alreadyUnpacked(descriptor.digest, diffIds[i]!));
  descriptors.forEach((descriptor, i) => tell({ type: 'layer', layer: short(descriptor), status: present[i] ? 'exists' : 'waiting' }));

  const pullOne = (i: number) => inSpan('tsrun.pull.layer', {
    'tsrun.blob.digest': descriptors[i]!.digest, 'tsrun.blob.size': descriptors[i]!.size, 'tsrun.blob.media_type': descriptors[i]!.mediaType,
    'tsrun.layer.already_exists': present[i] !== undefined,
  }, async (span) => {
    const descriptor = descriptors[i]!;
    const layer = short(descriptor);
    let unpackedSize = present[i]?.unpackedSize;
    if (unpackedSize === undefined) {
      tell({ type: 'layer', layer, status: 'downloading' });
      unpackedSize = await fetchLayer(client, staging, descriptor, diffIds[i]!, {
        received: (received) => tell({ type: 'bytes', layer, received, total: descriptor.size }),
        arrived: () => tell({ type: 'layer', layer, status: 'downloaded' }),
      });
      tell({ type: 'layer', layer, status: 'complete' });
    }
    span.setAttribute('tsrun.layer.unpacked_size', unpackedSize);
    records[i] = { diffId: diffIds[i]!, digest: descriptor.digest, mediaType: descriptor.mediaType, size: descriptor.size, unpackedSize };
  });

  let next = 0;
  const worker = async () => {
    while (next < descriptors.length && !interrupted.signal.aborted) await pullOne(next++);
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, descriptors.length) }, () => worker().catch((error) => {
    interrupted.abort(error);
    throw error;
  })));
  if (interrupted.signal.aborted) throw interrupted.signal.reason;
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return records;
}
// #endregion

// #region download
/** Counts and hashes a blob's bytes as they arrive. More bytes than its descriptor
 *  says are refused at once, and nothing more is read (an endless blob ends here);
 *  fewer, or the wrong ones, once all have arrived (staging.keepBlob). */
class BlobCheck {
  private readonly hash = crypto.createHash('sha256');
  size = 0;

  constructor(private readonly descriptor: Descriptor, private readonly kind: string) {}

  add(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.descriptor.size) {
      throw fail(`${this.kind} ${this.descriptor.digest} is larger than the ${this.descriptor.size} bytes its descriptor says`, CORRUPT);
    }
    this.hash.update(chunk);
  }

  /** What arrived; staging.keepBlob compares it with the descriptor. */
  measured(): { digest: string; size: number } {
    return { digest: `sha256:${this.hash.digest('hex')}`, size: this.size };
  }
}

/** Stream a blob into a file in staging, checking it on the way. */
async function download(client: RegistryClient, staging: Staging, descriptor: Descriptor, kind: string): Promise<StagedBlob> {
  const staged = staging.stagedBlob(descriptor.digest);
  if (staged) return staged;
  const incoming = staging.incomingFile();
  const check = new BlobCheck(descriptor, kind);
  await client.blob(descriptor.digest, (body) => pipeline(body, async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      check.add(chunk);
      yield chunk;
    }
  }, fs.createWriteStream(incoming, { flags: 'wx', mode: 0o600 })));
  return staging.keepBlob(incoming, kind, descriptor, check.measured());
}

/** Fetch a layer and unpack it in the same pass: each chunk that arrives is checked, written to the
 *  blob's file (the store keeps the compressed layer too), and handed to staging.unpack, which
 *  decompresses, hashes and untars it. Returns the layer's unpacked size.
 *  The blob's digest is judged first: if the bytes are not the ones the manifest names, that is the
 *  error, whatever the unpacking made of them. So once unpacking fails, the rest is only checked. */
async function fetchLayer(
  client: RegistryClient, staging: Staging, descriptor: Descriptor, diffId: string,
  progress: { received: (bytes: number) => void; arrived: () => void },
): Promise<number> {
  const incoming = staging.incomingFile();
  const check = new BlobCheck(descriptor, 'layer');
  const tar = new PassThrough();
  const feed = async (body: Readable) => {
    const file = fs.openSync(incoming, 'wx', 0o600);
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        check.add(chunk);
        fs.writeSync(file, chunk); // as unpack.ts writes files: synchronously, cheaper than the thread pool
        faultPoint('pull-download');
        if (!tar.destroyed && !tar.write(chunk)) await ready(tar);
        progress.received(check.size);
      }
    } finally {
      fs.closeSync(file);
    }
  };
  const [fetched, unpacked] = await Promise.allSettled([
    client.blob(descriptor.digest, feed).then(
      () => { tar.end(); progress.arrived(); },
      (error: Error) => { tar.destroy(error); throw error; },
    ),
    inSpan('tsrun.pull.unpack', { 'tsrun.layer.diff_id': diffId }, () => staging.unpack(tar, descriptor.digest, diffId)).catch((error: unknown) => {
      tar.destroy(); // nobody reads it any more: feed must not wait for it
      throw error;
    }),
  ]);
  if (fetched.status === 'rejected') throw fetched.reason;
  await staging.keepBlob(incoming, 'layer', descriptor, check.measured());
  if (unpacked.status === 'rejected') throw unpacked.reason;
  return unpacked.value;
}

/** Until `stream` takes more writes, or is gone. */
function ready(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done);
      resolve();
    };
    stream.on('drain', done).on('close', done);
  });
}
// #endregion

function sha256(bytes: Buffer): string {
  return `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
}
