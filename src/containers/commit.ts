// `tsrun commit CONTAINER REPO[:TAG]`: a new image made of the container's
// image plus one more layer, the container's changes. Those changes are
// exactly the overlay's upper directory (lesson 3), so the new layer is that
// directory as a tar, with overlayfs's markers turned back into the image
// format's, the reverse of what unpacking does (lesson 9):
//
//   a character device 0:0 named NAME        ->  an empty file .wh.NAME
//   a directory with trusted.overlay.opaque  ->  the directory, and DIR/.wh..wh..opq in it
//
// The new layer then goes through the same staging as a pulled one: it is
// unpacked and its diff id checked before anything appears in the store.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerRecord } from '../container.js';
import type { Runtime } from '../runtime.js';
import type { Syscalls } from '../kernel/syscalls.js';
import { fail } from '../errors.js';
import { containerDir } from '../store/paths.js';
import { containerCgroup, setFrozen } from '../cgroups/cgroup.js';
import { findImage, type ImageRecord } from '../store/images.js';
import { parseReference } from '../image/reference.js';
import { MEDIA_TYPES, type ContainerConfig, type Descriptor, type HistoryEntry, type ImageConfig, type ImageManifest } from '../image/oci.js';
import { imageRecord, withStaging } from '../store/staging.js';
import { applyChanges } from '../image/changes.js';
import { OPAQUE_MARKER, OVERLAY_OPAQUE_VALUE, OVERLAY_OPAQUE_XATTR, WHITEOUT_PREFIX } from '../image/whiteouts.js';
import { imageMayCarryXattr } from '../image/xattrs.js';
import { tarBytes, type TarEntry } from '../image/tar-writer.js';

export interface CommitOptions {
  /** REPO[:TAG] for the new image; without it the image has no name, as with docker. */
  reference?: string;
  /** Dockerfile instructions for the settings: 'CMD ["sh"]', 'ENV A=1', … */
  changes?: string[];
  message?: string;
  author?: string;
  /** Freeze a running container while its changes are read (default true, as docker commit's --pause). */
  pause?: boolean;
}

/** The files tsrun bind-mounts over the container's own: their mount points in the upper dir are not the container's work. */
const MOUNT_POINTS = new Set(['etc/hostname', 'etc/hosts', 'etc/resolv.conf']);
const HINT = 'the container\'s files changed while they were read; stop the container and commit again';

// #region commit
export async function commitContainer(runtime: Runtime, container: ContainerRecord, options: CommitOptions = {}): Promise<ImageRecord> {
  const reference = options.reference === undefined ? undefined : parseReference(options.reference);
  if (reference?.digest !== undefined) throw fail(`refusing to create a tag with a digest reference: ${options.reference}`, 'give the new name as REPO[:TAG]');
  const base = findImage(runtime.paths, container.image.id);
  if (!base) throw fail(`the image of container ${container.name} (${container.image.id}) is no longer in the store`, 'pull or load it again');
  return newImage(runtime, base, {
    layer: containerLayer(runtime, container, options.pause ?? true),
    config: applyChanges(containerSettings(base.config.config ?? {}, container), options.changes ?? []),
    history: { created_by: container.config.argv.join(' '), ...(options.message ? { comment: options.message } : {}) },
    author: options.author,
    repoTags: reference ? [reference.canonical] : [],
  });
}

/** The container's changes, its upper directory, as the entries of a layer. */
export function containerLayer(runtime: Runtime, container: ContainerRecord, pause: boolean): NewLayer {
  const upper = path.join(containerDir(runtime.paths, container.id), 'upper');
  return { entries: () => entriesOf(runtime.sys, upper, '', new Map()), whileReading: (read) => whileFrozen(container, pause, read) };
}

/** An image made from another: `tsrun commit`, and each step of `tsrun build`. */
export interface NewImageSpec {
  /** One more layer on top of the base's; without it, only the settings change (history says empty_layer). */
  layer?: NewLayer;
  config: ContainerConfig;
  /** What made it, for `tsrun history`; `created` is added. */
  history: HistoryEntry;
  author?: string;
  repoTags: string[];
}

export interface NewLayer {
  entries: () => AsyncIterable<TarEntry> | Iterable<TarEntry>;
  /** Wraps the reading of the entries (commit freezes a running container meanwhile). */
  whileReading?: <T>(read: () => Promise<T>) => Promise<T>;
}

/** `base` (the empty image of `FROM scratch` has id '') with `spec` applied, stored: the layer goes through the
 *  same staging as a pulled one, unpacked again and its diff id checked before the image appears in the store. */
export async function newImage(runtime: Runtime, base: Pick<ImageRecord, 'id' | 'config' | 'layers'>, spec: NewImageSpec): Promise<ImageRecord> {
  const now = new Date().toISOString();
  const [image] = await withStaging(runtime.sys, runtime.paths, 'commit', HINT, async (staging) => {
    const layers = [...base.layers];
    if (spec.layer) {
      // The layer as a gzipped tar, hashed twice on the way: the diff id (tar) and the digest (gzip).
      const { entries, whileReading = (read) => read() } = spec.layer;
      const incoming = staging.incomingFile();
      const tarHash = crypto.createHash('sha256');
      await whileReading(() => pipeline(tarBytes(entries()), hashing(tarHash), zlib.createGzip(), fs.createWriteStream(incoming, { flags: 'wx', mode: 0o600 })));
      const diffId = `sha256:${tarHash.digest('hex')}`;
      const blob = await staging.keepBlob(incoming, 'layer', undefined);
      const unpackedSize = await staging.layer(blob.path, blob.digest, diffId); // unpacked as any layer is, diff id checked
      layers.push({ diffId, digest: blob.digest, mediaType: MEDIA_TYPES.ociLayerGzip, size: blob.size, unpackedSize });
    }
    const config: ImageConfig = {
      ...base.config,
      created: now,
      ...(spec.author ? { author: spec.author } : {}),
      config: spec.config,
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
      history: [...(base.config.history ?? []), { created: now, ...spec.history, ...(spec.layer ? {} : { empty_layer: true }) }],
    };
    const configBlob = await keepJson(staging, 'config', config);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: configBlob.digest, size: configBlob.size },
      layers: layers.map((layer): Descriptor => ({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size })),
    };
    const manifestBlob = await keepJson(staging, 'manifest', manifest);
    const names = { repoTags: spec.repoTags, repoDigests: [] };
    return [{ ...imageRecord(configBlob.digest, config, layers, names), manifestDigest: manifestBlob.digest, ...(base.id ? { parent: base.id } : {}) }];
  });
  return image!;
}
// #endregion

// #region commit-pause
/** A running container writes its upper directory while commit reads it, and could swap a directory for a
 *  symlink to the host's files halfway (CVE-2018-15664, in docker cp): frozen by its cgroup, none of its
 *  processes can. A container paused by hand stays paused. */
async function whileFrozen<T>(container: ContainerRecord, pause: boolean, read: () => Promise<T>): Promise<T> {
  if (!pause || container.state.status !== 'running') return read();
  const cgroup = containerCgroup(container.id, container.config.resources ?? {});
  await setFrozen(cgroup, true);
  try {
    return await read();
  } finally {
    await setFrozen(cgroup, false);
  }
}
// #endregion

// #region upper-to-tar
/** Every entry under `dir` (the upper dir, or one inside it), parents before children, in a stable order. */
async function* entriesOf(sys: Syscalls, root: string, relative: string, hardlinks: Map<number, string>): AsyncGenerator<TarEntry> {
  for (const name of fs.readdirSync(path.join(root, relative)).sort()) {
    const entry = relative === '' ? name : `${relative}/${name}`;
    const full = path.join(root, entry);
    const stat = fs.lstatSync(full);
    if (MOUNT_POINTS.has(entry) && stat.isFile() && stat.size === 0) continue;
    const common = { mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, mtime: stat.mtime };
    const xattrs = xattrsOf(sys, full);

    if (stat.isCharacterDevice() && stat.rdev === 0) {
      // overlayfs's whiteout: the file was deleted. In a layer that is an empty file named .wh.NAME.
      yield { header: { ...common, name: path.posix.join(relative, WHITEOUT_PREFIX + name), type: 'file', size: 0, mode: 0o600 } };
    } else if (stat.isDirectory()) {
      yield { header: { ...common, xattrs, name: `${entry}/`, type: 'directory' } };
      if (sys.lgetxattr(full, OVERLAY_OPAQUE_XATTR)?.toString() === OVERLAY_OPAQUE_VALUE) {
        // Made again after being deleted: what lower layers had in it stays hidden.
        yield { header: { ...common, name: `${entry}/${OPAQUE_MARKER}`, type: 'file', size: 0, mode: 0o600 } };
      }
      yield* entriesOf(sys, root, entry, hardlinks);
    } else if (stat.isFile() && stat.nlink > 1 && hardlinks.has(stat.ino)) {
      // The same inode as an earlier entry, which carried its extended attributes.
      yield { header: { ...common, name: entry, type: 'link', linkname: hardlinks.get(stat.ino)! } };
    } else if (stat.isFile()) {
      if (stat.nlink > 1) hardlinks.set(stat.ino, entry);
      yield { header: { ...common, xattrs, name: entry, type: 'file', size: stat.size }, file: openAsSeen(full, stat, entry) };
    } else if (stat.isSymbolicLink()) {
      yield { header: { ...common, xattrs, name: entry, type: 'symlink', linkname: fs.readlinkSync(full) } };
    } else if (stat.isCharacterDevice() || stat.isBlockDevice()) {
      const type = stat.isCharacterDevice() ? 'character-device' : 'block-device';
      yield { header: { ...common, xattrs, name: entry, type, devmajor: Math.floor(stat.rdev / 256), devminor: stat.rdev % 256 } };
    } else if (stat.isFIFO()) {
      yield { header: { ...common, xattrs, name: entry, type: 'fifo' } };
    }
    // Sockets are left out, as tar leaves them out: they only mean something to a running program.
  }
}
// #endregion

/** A regular file's content, opened without following a symlink and checked to be the very file the walk
 *  looked at (with --pause=false, the container may have changed it since). */
function openAsSeen(file: string, seen: fs.Stats, name: string): number {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  const opened = fs.fstatSync(fd);
  if (!opened.isFile() || opened.ino !== seen.ino || opened.dev !== seen.dev || opened.size !== seen.size) {
    fs.closeSync(fd);
    throw fail(`commit: ${name} changed while it was read`, HINT);
  }
  return fd;
}

/** The file's extended attributes, as bytes: those an image may carry (so no overlayfs bookkeeping). */
function xattrsOf(sys: Syscalls, file: string): Map<string, Buffer> {
  const xattrs = new Map<string, Buffer>();
  for (const name of sys.llistxattr(file)) {
    const value = imageMayCarryXattr(name) ? sys.lgetxattr(file, name) : null;
    if (value !== null) xattrs.set(name, value);
  }
  return xattrs;
}

/** As docker commit: the image takes the container's settings (its command, environment, working dir and user),
 *  so the new image starts what the container started. HOSTNAME was the container's alone. */
function containerSettings(image: ContainerConfig, container: ContainerRecord): ContainerConfig {
  const { argv, entrypoint, cmd } = container.config;
  return {
    ...image,
    Env: container.config.env.filter((entry) => !entry.startsWith('HOSTNAME=')),
    Entrypoint: entrypoint === undefined ? image.Entrypoint : entrypoint.length > 0 ? entrypoint : null,
    Cmd: cmd ?? argv,
    WorkingDir: container.config.workingDir,
    User: container.config.user,
  };
}

async function keepJson(staging: Parameters<Parameters<typeof withStaging>[4]>[0], kind: string, value: object) {
  const incoming = staging.incomingFile();
  fs.writeFileSync(incoming, JSON.stringify(value), { flag: 'wx', mode: 0o600 });
  return staging.keepBlob(incoming, kind, undefined);
}

function hashing(hash: crypto.Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}
