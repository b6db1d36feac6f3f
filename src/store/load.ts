// `tsrun load`: bring images into the store from a file or directory, the
// way `docker load` does. Three shapes of input are understood:
//
//   docker-archive   a tar from `docker save`: manifest.json lists, per image,
//                    its config file, its layer tars and its tags
//   OCI layout       a directory with oci-layout, index.json and blobs/sha256/…
//                    (what skopeo, umoci, buildah and `tsrun make-demo-image` write)
//   OCI layout tar   the same directory, packed in a tar
//
// Nothing read is trusted: every blob is hashed and compared with the digest
// that names it, and every layer is unpacked and its diff id compared with
// the one the config lists. All of it happens in a staging directory under
// <root>/tmp (staging.ts, shared with `tsrun pull`); only when every image
// checked out is it renamed into the store, under the store lock. A load that
// fails leaves the store as it was.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Syscalls } from '../kernel/syscalls.js';
import { fail, printable, withContext } from '../errors.js';
import type { StorePaths } from './paths.js';
import type { ImageRecord, LayerRecord } from './images.js';
import { decompress, detectCompression, type Compression } from '../image/compression.js';
import { Staging, imageRecord, readImageConfig, readJsonFile, withStaging, wrongSize, type Expected, type StagedBlob } from './staging.js';
import { familiarString, parseReference, parseRepository, type ImageReference } from '../image/reference.js';
import {
  ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, CONFIG_MEDIA_TYPES, INDEX_MEDIA_TYPES, LAYER_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES, MEDIA_TYPES, checkDescriptor, hostPlatform,
  type Descriptor, type DockerArchiveEntry, type ImageConfig, type ImageIndex, type ImageManifest,
} from '../image/oci.js';

const CORRUPT = 'the image is damaged or was changed after it was exported; export it again';
/** An index may point at another index; real images nest one level, we allow a few. */
const MAX_INDEX_DEPTH = 4;

/** Where the images come from: a layout directory, or a tar (a file's, or the body of a request) named `shown`. */
type Source = { layout: string } | { archive: () => Readable; shown: string };

/** Load every image in `input` and return their records (with the names this load gave them). */
export async function loadImages(sys: Syscalls, paths: StorePaths, input: string, options: { name?: string } = {}): Promise<ImageRecord[]> {
  const repository = options.name === undefined ? undefined : parseRepository(options.name);
  if (!fs.existsSync(input)) {
    throw fail(`${input}: no such file or directory`, 'give the path of a docker-archive tar or an OCI image layout');
  }
  const source = fs.statSync(input).isDirectory() ? { layout: input } : { archive: () => fs.createReadStream(input), shown: input };
  return loadFrom(sys, paths, source, repository);
}

/** Load every image in a tar that arrives on a stream: what `docker load` sends the daemon (POST /images/load). */
export function loadArchive(sys: Syscalls, paths: StorePaths, archive: Readable): Promise<ImageRecord[]> {
  return loadFrom(sys, paths, { archive: () => archive, shown: 'the archive sent' }, undefined);
}

async function loadFrom(sys: Syscalls, paths: StorePaths, source: Source, repository: ImageReference | undefined): Promise<ImageRecord[]> {
  const images = await withStaging(sys, paths, 'load', CORRUPT, async (staging) => {
    const dir = 'layout' in source ? source.layout : await extractArchive(source.archive(), source.shown, path.join(staging.dir, 'archive'));
    const loading = new LoadStaging(staging, dir, !('layout' in source));
    if (fs.existsSync(path.join(dir, 'manifest.json'))) return readDockerArchive(loading);
    if (fs.existsSync(path.join(dir, 'oci-layout'))) return readOciLayout(loading, repository);
    throw notAnImage('layout' in source ? source.layout : source.shown);
  });
  return mergeById(images);
}

// #region docker-archive
/** manifest.json: [{ "Config": "<hex>.json", "RepoTags": ["busybox:latest"], "Layers": ["<id>/layer.tar", …] }].
 *  The image id is the digest of the config file; file names are not digests, except in newer
 *  archives (blobs/sha256/<hex>, <hex>.tar), where they are checked. */
async function readDockerArchive(staging: LoadStaging): Promise<ImageRecord[]> {
  const entries = readJsonFile<DockerArchiveEntry[]>(staging.inputFile('manifest.json'), 'manifest.json', CORRUPT);
  check(Array.isArray(entries) && entries.length > 0, 'manifest.json lists no images');
  const images: ImageRecord[] = [];
  const strings = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string');
  for (const entry of entries) {
    check(typeof entry?.Config === 'string' && strings(entry.Layers), 'manifest.json has an entry without Config or Layers');
    check(entry.RepoTags == null || strings(entry.RepoTags), 'manifest.json has an entry whose RepoTags are not a list of names');
    const config = await staging.blob(entry.Config, 'config', digestInName(entry.Config));
    const imageConfig = readImageConfig(config.path, entry.Layers.length, CORRUPT);
    const layers = await stageLayers(staging, imageConfig, entry.Layers.map((file) => ({ file, expected: digestInName(file) })));
    const repoTags = (entry.RepoTags ?? []).map((tag) => parseReference(tag).canonical);
    images.push(imageRecord(config.digest, imageConfig, layers, { repoTags, repoDigests: [] }));
  }
  return images;
}

/** The digest a file name promises, if it promises one: "blobs/sha256/<hex>", "<hex>.json", "<hex>.tar".
 *  (Legacy archives keep layers in "<id>/layer.tar", where the id is not a digest.) */
function digestInName(file: string): Expected | undefined {
  const match = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$|(?:^|\/)([a-f0-9]{64})\.(?:json|tar)$/.exec(file);
  const hex = match?.[1] ?? match?.[2];
  return hex ? { digest: `sha256:${hex}` } : undefined;
}
// #endregion

/** Stage an image's layers, bottom to top, each checked against the diff id its config lists.
 *  A layer without a media type (docker-archives have none) is named after its first bytes. */
async function stageLayers(staging: LoadStaging, config: ImageConfig, layers: { file: string; expected?: Expected; mediaType?: string }[]): Promise<LayerRecord[]> {
  const records: LayerRecord[] = [];
  for (const [i, layer] of layers.entries()) {
    const blob = await staging.blob(layer.file, 'layer', layer.expected);
    const mediaType = layer.mediaType ?? DOCKER_ARCHIVE_LAYER_TYPES[detectCompression(firstBytes(blob.path))];
    const diffId = config.rootfs.diff_ids[i]!;
    const unpackedSize = await staging.layer(blob.path, blob.digest, diffId);
    records.push({ diffId, digest: blob.digest, mediaType, size: blob.size, unpackedSize });
  }
  return records;
}

const DOCKER_ARCHIVE_LAYER_TYPES: Record<Compression, string> = {
  none: MEDIA_TYPES.dockerLayer,
  gzip: MEDIA_TYPES.dockerLayerGzip,
  zstd: MEDIA_TYPES.ociLayerZstd,
};

// #region OCI image layout
/** index.json lists images by descriptor; each leads to a manifest, perhaps through
 *  a nested index with one manifest per platform (we take the host's). */
async function readOciLayout(staging: LoadStaging, repository: ImageReference | undefined): Promise<ImageRecord[]> {
  const layout = readJsonFile<{ imageLayoutVersion?: string }>(staging.inputFile('oci-layout'), 'oci-layout', CORRUPT);
  check(typeof layout.imageLayoutVersion === 'string', 'oci-layout has no imageLayoutVersion');
  const index = readJsonFile<ImageIndex>(staging.inputFile('index.json'), 'index.json', CORRUPT);
  check(Array.isArray(index.manifests), 'index.json has no manifests list');
  const manifests = index.manifests.map((entry, i) => checkDescriptor(entry, `index.json: manifests[${i}]`, CORRUPT));

  const forHost = manifests.filter((descriptor) => !descriptor.platform || isHostPlatform(descriptor));
  if (forHost.length === 0) throw noImageForHost('index.json', manifests);
  const images: ImageRecord[] = [];
  for (const descriptor of forHost) {
    const { manifest, manifestDigest } = await resolveManifest(staging, descriptor, 0);
    checkDescriptor(manifest.config, `manifest ${manifestDigest}: config`, CORRUPT);
    check(CONFIG_MEDIA_TYPES.includes(manifest.config.mediaType),
      `manifest ${manifestDigest} is not an image (its config is ${printable(manifest.config.mediaType)}); tsrun loads container images only`);
    check(Array.isArray(manifest.layers), `manifest ${manifestDigest} has no layers list`);
    for (const [i, layer] of manifest.layers.entries()) {
      checkDescriptor(layer, `manifest ${manifestDigest}: layers[${i}]`, CORRUPT);
      if (!LAYER_MEDIA_TYPES.includes(layer.mediaType)) {
        throw fail(`layer ${layer.digest} has unsupported media type ${printable(layer.mediaType)}`, `tsrun unpacks ${LAYER_MEDIA_TYPES.join(', ')}`);
      }
    }
    const config = await staging.blob(blobFile(manifest.config), 'config', manifest.config);
    const imageConfig = readImageConfig(config.path, manifest.layers.length, CORRUPT);
    const layers = await stageLayers(staging, imageConfig, manifest.layers.map((layer) => ({ file: blobFile(layer), expected: layer, mediaType: layer.mediaType })));
    // A name pins what the user pulled or exported: the top descriptor (for a multi-platform image, its index).
    const names = imageNames(descriptor.annotations ?? {}, repository);
    const repoDigests = names.map((name) => `${parseReference(name).name}@${descriptor.digest}`);
    images.push({ ...imageRecord(config.digest, imageConfig, layers, { repoTags: names, repoDigests }), manifestDigest });
  }
  return images;
}

async function resolveManifest(staging: LoadStaging, descriptor: Descriptor, depth: number): Promise<{ manifest: ImageManifest; manifestDigest: string }> {
  if (MANIFEST_MEDIA_TYPES.includes(descriptor.mediaType)) {
    const blob = await staging.blob(blobFile(descriptor), 'manifest', descriptor);
    return { manifest: readJsonFile<ImageManifest>(blob.path, `manifest ${descriptor.digest}`, CORRUPT), manifestDigest: descriptor.digest };
  }
  if (INDEX_MEDIA_TYPES.includes(descriptor.mediaType)) {
    check(depth < MAX_INDEX_DEPTH, `indexes are nested more than ${MAX_INDEX_DEPTH} deep`);
    const blob = await staging.blob(blobFile(descriptor), 'index', descriptor);
    const index = readJsonFile<ImageIndex>(blob.path, `index ${descriptor.digest}`, CORRUPT);
    check(Array.isArray(index.manifests), `index ${descriptor.digest} has no manifests list`);
    const manifests = index.manifests.map((entry, i) => checkDescriptor(entry, `index ${descriptor.digest}: manifests[${i}]`, CORRUPT));
    const forHost = manifests.find(isHostPlatform);
    if (!forHost) throw noImageForHost(`index ${descriptor.digest}`, manifests);
    return resolveManifest(staging, forHost, depth + 1);
  }
  throw fail(`${descriptor.digest} has unsupported media type ${printable(descriptor.mediaType)}`, 'tsrun loads image manifests and image indexes');
}

/** The tags an OCI layout gives an image: containerd's full name, else a ref.name that is a full
 *  reference, else a bare tag ("latest") put on the repository given with --name. Else none. */
function imageNames(annotations: Record<string, string>, repository: ImageReference | undefined): string[] {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined); // annotations are strings, unless damaged
  const fullName = text(annotations[ANNOTATION_CONTAINERD_NAME]);
  const refName = text(annotations[ANNOTATION_REF_NAME]);
  const name = fullName ? fullName
    : refName && /[/:@]/.test(refName) ? refName
    : refName && repository ? `${repository.name}:${refName}`
    : undefined;
  const reference = name === undefined ? undefined : parseReference(name);
  return reference?.tag !== undefined ? [`${reference.name}:${reference.tag}`] : [];
}

function isHostPlatform(descriptor: Descriptor): boolean {
  const host = hostPlatform();
  return descriptor.platform?.os === host.os && descriptor.platform.architecture === host.architecture;
}

function noImageForHost(where: string, descriptors: Descriptor[]): Error {
  const { os, architecture } = hostPlatform();
  const offered = descriptors.map((d) => (d.platform ? printable(`${d.platform.os}/${d.platform.architecture}`) : 'unknown')).join(', ');
  return fail(`${where} has no image for ${os}/${architecture} (it has: ${offered || 'nothing'})`, `export the image for ${os}/${architecture}`);
}

/** Where a layout keeps the blob a (checked) descriptor names: blobs/sha256/<hex>. */
function blobFile(descriptor: Descriptor): string {
  return `blobs/sha256/${descriptor.digest.slice('sha256:'.length)}`;
}
// #endregion

// #region staging
/** A load's staging: the input's files are read into a Staging, files are copied in (or hard-linked, when the
 *  input is an archive we extracted ourselves) and checked there. */
class LoadStaging {
  constructor(
    readonly staging: Staging,
    /** The input's root: the layout directory, or the archive extracted under the staging directory. */
    private readonly source: string,
    /** The input was extracted by us: its files can be hard-linked instead of copied. */
    private readonly sourceIsOurs: boolean,
  ) {}

  /** A path inside the input, refused if it would lead outside. */
  inputFile(relative: string): string {
    return insideDir(this.source, relative);
  }

  /** Copy the input's `relative` file into staging and check its digest (and size) against
   *  `expected`, when there is one. Returns where it is staged and what it hashed to. */
  async blob(relative: string, kind: string, expected: Expected | undefined): Promise<StagedBlob> {
    const staged = expected && this.staging.stagedBlob(expected.digest);
    if (staged) return staged;

    const file = this.inputFile(relative);
    if (!fs.existsSync(file)) {
      throw fail(`${kind} ${expected?.digest ?? printable(relative)} is missing: ${printable(this.source)} has no ${printable(relative)}`, CORRUPT);
    }
    // Looked at before a byte is copied: a device (a link to /dev/zero, say) or a file
    // longer than its descriptor says is never read.
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw fail(`${kind} ${expected?.digest ?? relative} is not a regular file: ${relative}`, CORRUPT);
    if (expected?.size !== undefined && stat.size !== expected.size) throw wrongSize(kind, expected.digest, stat.size, expected.size, CORRUPT);
    // Copied first, then hashed: what is checked is exactly what will be stored.
    const incoming = this.staging.incomingFile();
    if (this.sourceIsOurs) fs.linkSync(file, incoming);
    else fs.copyFileSync(file, incoming);
    return this.staging.keepBlob(incoming, kind, expected);
  }

  layer(blob: string, digest: string, diffId: string): Promise<number> {
    return this.staging.layer(blob, digest, diffId);
  }
}
// #endregion

// #region reading the input
/** Extract a tar (gzipped or not) into `dest`, regular files and links only: enough to read
 *  either kind of image from it. Entries that would land outside `dest` are refused. */
async function extractArchive(input: Readable, shown: string, dest: string): Promise<string> {
  fs.mkdirSync(dest);
  const links: { name: string; target: string }[] = [];
  const parser = tar.extract();
  let entries = 0;

  const writeEntries = async () => {
    for await (const entry of parser) {
      entries++;
      const { type, name, linkname } = entry.header;
      const relative = archivePath(name);
      if (relative && (type === 'file' || type === 'contiguous-file')) {
        fs.mkdirSync(path.dirname(path.join(dest, relative)), { recursive: true });
        await pipeline(entry, fs.createWriteStream(path.join(dest, relative), { mode: 0o600 }));
      } else if (relative && linkname && (type === 'symlink' || type === 'link')) {
        // A symlink's target is relative to its directory, a hard link's to the archive's root.
        // A link leading out of the archive is not followed: what it names stays missing.
        const target = type === 'symlink' && !linkname.startsWith('/') ? path.posix.join(path.posix.dirname(relative), linkname) : linkname;
        if (!climbsOut(target)) links.push({ name: relative, target: path.posix.normalize(target) });
      }
      entry.resume();
    }
  };
  // Bytes flow in while entries are written out; both settle before we go on (see unpack.ts).
  const [writing, flowing] = await Promise.allSettled([
    writeEntries(),
    pipeline(decompress(input), parser),
  ]);
  const failure = writing.status === 'rejected' ? writing.reason : flowing.status === 'rejected' ? flowing.reason : undefined;
  if (failure && entries === 0) throw notAnImage(shown);
  if (failure) throw withContext(`reading ${shown}`, failure);

  // docker save stores a layer shared by two images once, and links to it from the second.
  // A file is linked only once its target exists, so chains of links take a few passes.
  for (let pass = 0; pass < links.length && links.length > 0; pass++) {
    for (const link of links.splice(0)) {
      const target = path.join(dest, link.target);
      const linkPath = path.join(dest, link.name);
      if (!fs.existsSync(target) || !fs.statSync(target).isFile()) links.push(link);
      else if (!fs.existsSync(linkPath)) {
        fs.mkdirSync(path.dirname(linkPath), { recursive: true });
        fs.linkSync(target, linkPath);
      }
    }
  }
  return dest;
}

/** An archive entry's name as a path relative to the archive root: "./blobs/x" -> "blobs/x".
 *  Undefined for the root itself; a name climbing out ("../x", "/etc/x") is an error. */
function archivePath(name: string): string | undefined {
  if (climbsOut(name)) {
    throw fail(`archive entry ${JSON.stringify(name)} points outside the archive`, 'the archive is damaged or malicious: do not load it');
  }
  const normal = path.posix.normalize(name).replace(/\/+$/, '');
  return normal === '.' || normal === '' ? undefined : normal;
}

function climbsOut(name: string): boolean {
  const normal = path.posix.normalize(name);
  return path.posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../');
}

/** `relative` (from a manifest) resolved inside `dir`, refusing "../" and absolute paths. */
function insideDir(dir: string, relative: string): string {
  const normal = typeof relative === 'string' ? archivePath(relative) : undefined;
  if (!normal) throw fail(`${JSON.stringify(relative)} is not a file in the image`, CORRUPT);
  return path.join(dir, normal);
}

function firstBytes(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const bytes = Buffer.alloc(4);
    return bytes.subarray(0, fs.readSync(fd, bytes, 0, bytes.length, 0));
  } finally {
    fs.closeSync(fd);
  }
}
// #endregion

/** One record per image, with the names every mention of it in the input gave it. */
function mergeById(images: ImageRecord[]): ImageRecord[] {
  const byId = new Map<string, ImageRecord>();
  for (const image of images) {
    const seen = byId.get(image.id);
    byId.set(image.id, seen
      ? { ...seen, repoTags: [...new Set([...seen.repoTags, ...image.repoTags])], repoDigests: [...new Set([...seen.repoDigests, ...image.repoDigests])] }
      : image);
  }
  return [...byId.values()];
}

/** What `docker load` prints of what it loaded: a line per name, or the id of an image without one. */
export function loadedLines(images: ImageRecord[]): string[] {
  return images.flatMap((image) => image.repoTags.length === 0
    ? [`Loaded image ID: ${image.id}`]
    : image.repoTags.map((tag) => `Loaded image: ${familiarString(parseReference(tag))}`));
}

function check(condition: boolean, problem: string): asserts condition {
  if (!condition) throw fail(problem, CORRUPT);
}

function notAnImage(input: string): Error {
  return fail(`${input} is neither a docker-archive nor an OCI image layout`,
    'make one with `docker save -o FILE IMAGE`, `skopeo copy … oci:DIR:TAG` or `tsrun make-demo-image DIR`');
}
