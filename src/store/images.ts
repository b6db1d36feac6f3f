// Images in the store. An image is a record, <root>/images/<hex>.json, named
// by its id (the digest of its config), pointing at blobs and unpacked layers
// that several images may share. <root>/repositories.json maps every tag to
// the image it currently names, as docker's repositories.json does:
//
//   { "docker.io/library/busybox:latest": "sha256:5e0f…" }
//
// A tag names one image at a time: tagging another image with it moves it,
// and the image it left, if it has no other name, stays as "<none>" (dangling).
import fs from 'node:fs';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';
import type { ImageConfig } from '../image/oci.js';
import { familiarString, parseReference, FULL_HEX_ID, type ImageReference } from '../image/reference.js';
import { TsrunError, fail } from '../errors.js';
import { isUp, type ContainerState } from '../container.js';
import { blobPath, imageRecordPath, layerDir, lockPath, repositoriesPath, tmpDir, type StorePaths } from './paths.js';
import { jsonText, makeStagingDir, readJson, writeFilesAtomic, writeJsonAtomic } from './atomic.js';
import { withLock } from './lock.js';
import { forgetImageLocked } from './build-cache.js';

export interface LayerRecord {
  /** sha256 of the uncompressed tar: names the unpacked directory layers/sha256/<hex>. */
  diffId: string;
  /** sha256 of the blob as shipped (compressed or not): names blobs/sha256/<hex>. */
  digest: string;
  mediaType: string;
  /** Bytes of the blob as shipped. */
  size: number;
  /** Bytes of the files once unpacked. */
  unpackedSize: number;
}

export interface ImageRecord {
  /** The config's digest, "sha256:…": what `tsrun images` shows, shortened, as IMAGE ID. */
  id: string;
  /** Canonical names: "docker.io/library/busybox:latest". */
  repoTags: string[];
  /** Canonical name@manifest digest: "docker.io/library/busybox@sha256:…". */
  repoDigests: string[];
  /** When the image was built (the config's `created`). */
  created: string;
  config: ImageConfig;
  /** The manifest blob, when the image came with one (OCI layouts do, docker-archives don't). */
  manifestDigest?: string;
  /** The image this one was made from on this host (commit, a build step), as docker's Parent: an image
   *  without a name that is the parent of another is a build's intermediate, which `tsrun images` hides. */
  parent?: string;
  /** Bottom to top: the overlay's lowerdirs, in reverse. */
  layers: LayerRecord[];
  /** Bytes of all layers unpacked. */
  size: number;
}

export interface RemovedImage {
  /** The names that were taken off, canonical. */
  untagged: string[];
  /** The image id and the layers (diff ids) that were deleted from disk. */
  deleted: string[];
}

/** Every image, newest first, as `docker images` lists them. */
export function listImages(paths: StorePaths): ImageRecord[] {
  const dir = path.join(paths.root, 'images');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((file) => /^[a-f0-9]{64}\.json$/.test(file))
    .map((file) => readJson<ImageRecord>(path.join(dir, file)))
    .sort((a, b) => Date.parse(b.created) - Date.parse(a.created) || (a.id < b.id ? -1 : 1)); // ids are unique hex: no collator needed
}

/** The images `docker images` lists: with `all`, every one; else not a build's intermediate steps (an image with
 *  no name that another was made from), as docker hides them. */
export function imagesToList(paths: StorePaths, all: boolean): ImageRecord[] {
  const stored = listImages(paths);
  const parents = new Set(stored.map((image) => image.parent));
  return all ? stored : stored.filter((image) => image.repoTags.length + image.repoDigests.length > 0 || !parents.has(image.id));
}

/** Find an image as docker does: by name[:tag] (tag defaults to latest) or name@digest,
 *  by id ("sha256:…" or 64 hex), or by an unambiguous id prefix. Undefined when absent. */
export function findImage(paths: StorePaths, refOrId: string): ImageRecord | undefined {
  return lookUp(paths, refOrId)?.image;
}

/** Record an image, taking the lock. See saveImageLocked. */
export async function saveImage(sys: Syscalls, paths: StorePaths, record: ImageRecord): Promise<ImageRecord> {
  return withLock(sys, lockPath(paths), () => saveImageLocked(paths, record));
}

/** Record an image whose blobs and layers are already in the store; the caller holds the store lock. */
export function saveImageLocked(paths: StorePaths, record: ImageRecord): ImageRecord {
  return saveImagesLocked(paths, [record])[0]!;
}

/** Record images whose blobs and layers are already in the store; the caller holds the store lock.
 *  Names an image already had are kept; its tags are taken from any image that had them. The records
 *  and repositories.json change together: if one cannot be written (a full disk), none changes. */
export function saveImagesLocked(paths: StorePaths, records: ImageRecord[]): ImageRecord[] {
  const repositories = readRepositories(paths);
  const changed = new Map<string, ImageRecord>(); // image id -> its record as it will be
  const current = (id: string) => changed.get(id) ?? readImage(paths, id);
  const saved = records.map((record) => {
    const previous = current(record.id);
    for (const tag of record.repoTags) {
      const holderId = repositories[tag];
      const holder = holderId && holderId !== record.id ? current(holderId) : undefined;
      if (holder) changed.set(holder.id, { ...holder, repoTags: holder.repoTags.filter((t) => t !== tag) });
      repositories[tag] = record.id;
    }
    const image = {
      ...record,
      repoTags: union(previous?.repoTags ?? [], record.repoTags),
      repoDigests: union(previous?.repoDigests ?? [], record.repoDigests),
    };
    changed.set(image.id, image);
    return image;
  });
  // The records first: repositories.json must never name an image that has no record.
  writeFilesAtomic([
    ...[...changed.values()].map((image) => ({ file: imageRecordPath(paths, image.id), data: jsonText(image) })),
    { file: repositoriesPath(paths), data: jsonText(repositories) },
  ]);
  return saved;
}

/** `tsrun rmi`: take the name off the image; when it has no name left (or it was named
 *  by id), delete its record and every blob and layer no other image uses. A refusal
 *  because a container uses the image is dockerd's, in its words, with the code IN_USE
 *  (the daemon's 409). */
export async function removeImage(sys: Syscalls, paths: StorePaths, refOrId: string, options: { force: boolean }): Promise<RemovedImage> {
  return withLock(sys, lockPath(paths), () => {
    const match = lookUp(paths, refOrId);
    if (!match) throw fail(`no such image: ${refOrId}`, 'see `tsrun images` for the images there are');
    const { image, reference } = match;
    const users = containersUsing(paths, image.id);
    const user = users[0];
    const running = users.find((candidate) => candidate.running);
    const removeFirst = (container: { id: string; name: string; running: boolean }) =>
      `remove the container first (tsrun rm ${container.running ? '-f ' : ''}${container.name || container.id.slice(0, 12)})`;

    // By id, an image a running container uses is not even untagged, forced or not.
    if (!reference && running) {
      throw inUse(`conflict: unable to delete ${shortId(image.id)} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`, removeFirst(running));
    }
    const untagged = reference ? namesGoingWith(image, reference) : [...image.repoTags, ...image.repoDigests];
    if (!reference && !options.force && new Set(image.repoTags.map(repositoryOf)).size > 1) {
      throw fail(
        `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is referenced in multiple repositories`,
        'remove it by name, one name at a time, or use `tsrun rmi -f`',
      );
    }
    const remaining = {
      repoTags: image.repoTags.filter((name) => !untagged.includes(name)),
      repoDigests: image.repoDigests.filter((name) => !untagged.includes(name)),
    };
    const stillNamed = remaining.repoTags.length + remaining.repoDigests.length > 0;
    if (!stillNamed && user && !options.force) {
      throw inUse(reference
        ? `conflict: unable to remove repository reference "${familiarString(reference)}" (must force) - container ${user.id.slice(0, 12)} is using its referenced image ${shortId(image.id)}`
        : `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is being used by stopped container ${user.id.slice(0, 12)}`,
      `${removeFirst(user)}, or use \`tsrun rmi -f\` to untag the image`);
    }
    if (user && untagged.length === 0) {
      throw inUse(`conflict: unable to delete ${shortId(image.id)} (cannot be forced) - image is being used by stopped container ${user.id.slice(0, 12)}`, removeFirst(user));
    }

    const repositories = readRepositories(paths);
    for (const name of untagged) delete repositories[name];
    writeJsonAtomic(repositoriesPath(paths), repositories);
    if (stillNamed || user) {
      // A forced rmi of an image a container uses only takes its names: the
      // container's overlay still stacks its layers, so they must stay.
      writeJsonAtomic(imageRecordPath(paths, image.id), { ...image, ...remaining });
      return { untagged, deleted: [] };
    }
    fs.rmSync(imageRecordPath(paths, image.id));
    forgetImageLocked(paths, image.id);
    return { untagged, deleted: [image.id, ...collectGarbage(paths, image)] };
  });
}

const inUse = (message: string, hint: string) => new TsrunError(message, { hint, code: 'IN_USE' });

/** `tsrun tag` and `docker tag`: one more name for the image SOURCE names (a name or an id). */
export async function tagImage(sys: Syscalls, paths: StorePaths, source: string, target: string): Promise<void> {
  const reference = parseReference(target);
  if (reference.digest !== undefined) throw fail(`refusing to create a tag with a digest reference: ${target}`, 'give the new name as NAME[:TAG]');
  // Looked up under the lock: the image cannot be removed between finding and tagging it.
  await withLock(sys, lockPath(paths), () => {
    const image = findImage(paths, source);
    if (!image) throw fail(`no such image: ${source}`, 'see `tsrun images` for the images there are');
    saveImageLocked(paths, { ...image, repoTags: [reference.canonical], repoDigests: [] });
  });
}

/** The images `docker image prune` removes: those without a name (dangling), or with `all` every one, that no
 *  container uses; and the bytes of the layers that went with them. */
export async function pruneImages(sys: Syscalls, paths: StorePaths, options: { all: boolean }): Promise<{ removed: RemovedImage[]; bytes: number }> {
  const sizes = new Map(listImages(paths).flatMap((image) => image.layers.map((layer) => [layer.diffId, layer.unpackedSize] as const)));
  const removed: RemovedImage[] = [];
  for (const image of listImages(paths)) {
    if ((!options.all && image.repoTags.length > 0) || containersUsing(paths, image.id).length > 0) continue;
    // Forced: one named in several repositories goes too (-a); none a container uses comes this far.
    removed.push(await removeImage(sys, paths, image.id, { force: true }));
  }
  const bytes = removed.flatMap((image) => image.deleted).reduce((total, id) => total + (sizes.get(id) ?? 0), 0);
  return { removed, bytes };
}

/** The id as `docker images` shows it: 12 hex digits. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

function lookUp(paths: StorePaths, refOrId: string): { image: ImageRecord; reference?: ImageReference } | undefined {
  const fullId = /^sha256:[a-f0-9]{64}$/.test(refOrId) ? refOrId : FULL_HEX_ID.test(refOrId) ? `sha256:${refOrId}` : undefined;
  if (fullId) {
    const image = readImage(paths, fullId);
    return image && { image };
  }

  let reference: ImageReference | undefined;
  let invalid: unknown;
  try {
    reference = parseReference(refOrId);
  } catch (error) {
    invalid = error;
  }
  if (reference) {
    const image = reference.digest
      ? listImages(paths).find((candidate) => candidate.repoDigests.includes(`${reference.name}@${reference.digest}`))
      : readImage(paths, readRepositories(paths)[reference.canonical]);
    if (image) return { image, reference };
  }

  // Not a name we know: perhaps the start of an id, as in `tsrun rmi 5e0f`.
  const prefix = /^(?:sha256:)?([a-f0-9]{1,63})$/.exec(refOrId)?.[1];
  if (prefix) {
    const matches = listImages(paths).filter((image) => image.id.startsWith(`sha256:${prefix}`));
    if (matches.length > 1) throw fail(`image id prefix ${prefix} is ambiguous: ${matches.length} images start with it`, 'give more characters of the id');
    if (matches.length === 1) return { image: matches[0]! };
  }
  if (invalid) throw invalid;
  return undefined;
}

/** What `rmi NAME` takes off: the name itself, and when it was the repository's last tag,
 *  the repository's digests too (docker untags busybox@sha256:… along with busybox:latest). */
function namesGoingWith(image: ImageRecord, reference: ImageReference): string[] {
  if (reference.digest) return [`${reference.name}@${reference.digest}`];
  const otherTagsOfRepository = image.repoTags.filter((tag) => tag !== reference.canonical && repositoryOf(tag) === reference.name);
  const digests = otherTagsOfRepository.length === 0 ? image.repoDigests.filter((name) => repositoryOf(name) === reference.name) : [];
  return [reference.canonical, ...digests];
}

/** After `image` was deleted: remove its blobs and layers unless another image uses them.
 *  Returns the diff ids of the layers removed. */
function collectGarbage(paths: StorePaths, image: ImageRecord): string[] {
  const keptBlobs = new Set<string>();
  const keptLayers = new Set<string>();
  for (const other of listImages(paths)) {
    keptBlobs.add(other.id);
    if (other.manifestDigest) keptBlobs.add(other.manifestDigest);
    for (const layer of other.layers) {
      keptBlobs.add(layer.digest);
      keptLayers.add(layer.diffId);
    }
  }
  const blobs = [image.id, image.manifestDigest, ...image.layers.map((layer) => layer.digest)];
  for (const digest of new Set(blobs)) {
    if (digest && !keptBlobs.has(digest)) fs.rmSync(blobPath(paths, digest), { force: true });
  }
  const removed: string[] = [];
  for (const diffId of new Set(image.layers.map((layer) => layer.diffId))) {
    if (keptLayers.has(diffId)) continue;
    discardDirectory(paths, layerDir(paths, diffId));
    removed.push(diffId);
  }
  return removed;
}

/** Rename a directory out of the store before deleting it, so that a layer directory
 *  is always either whole or absent, even if the deletion is interrupted. */
function discardDirectory(paths: StorePaths, dir: string): void {
  if (!fs.existsSync(dir)) return;
  const trash = makeStagingDir(tmpDir(paths), 'discard');
  fs.renameSync(dir, path.join(trash, 'dir'));
  fs.rmSync(trash, { recursive: true, force: true });
}

/** The containers whose config.json names this image (any state: a stopped
 *  container still needs its image's layers to start again), and whether each runs
 *  as far as its state.json says. */
export function containersUsing(paths: StorePaths, imageId: string): { id: string; name: string; running: boolean }[] {
  const dir = path.join(paths.root, 'containers');
  if (!fs.existsSync(dir)) return [];
  const users: { id: string; name: string; running: boolean }[] = [];
  for (const id of fs.readdirSync(dir).sort()) {
    const configFile = path.join(dir, id, 'config.json');
    if (!fs.existsSync(configFile)) continue; // being created or removed
    const config = readJson<{ name?: string; image?: { id?: string } }>(configFile);
    if (config.image?.id !== imageId) continue;
    const stateFile = path.join(dir, id, 'state.json');
    const state = fs.existsSync(stateFile) ? readJson<ContainerState>(stateFile) : undefined;
    users.push({ id, name: config.name ?? '', running: state !== undefined && isUp(state) });
  }
  return users;
}

function readImage(paths: StorePaths, id: string | undefined): ImageRecord | undefined {
  if (!id) return undefined;
  const file = imageRecordPath(paths, id);
  return fs.existsSync(file) ? readJson<ImageRecord>(file) : undefined;
}

function readRepositories(paths: StorePaths): Record<string, string> {
  const file = repositoriesPath(paths);
  return fs.existsSync(file) ? readJson<Record<string, string>>(file) : {};
}

/** "docker.io/library/busybox:latest" or "…@sha256:…" -> "docker.io/library/busybox". */
function repositoryOf(canonical: string): string {
  return parseReference(canonical).name;
}

function union(first: string[], second: string[]): string[] {
  return [...new Set([...first, ...second])];
}
