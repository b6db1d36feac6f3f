// Test images, made the ways students will meet them: tsrun's own demo builder,
// umoci (an OCI layout built by another tool), skopeo (a docker-archive, as
// `docker save` writes it), a legacy docker-archive with a layer shared
// through a symlink, and helpers to damage or rewrite an OCI layout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { buildDemoImage } from '../../src/image/demo.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from '../../src/image/oci.js';

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-${label}-`));
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
}

/** The demo image as an OCI layout in `dir` (a new directory). */
export async function demoLayout(dir: string, tag = 'latest'): Promise<string> {
  await buildDemoImage(dir, { tag });
  return dir;
}

/** An OCI layout made with umoci (root only): busybox and a file in a first layer; a second
 *  layer that deletes a file (an overlay whiteout once unpacked) and adds a read-only directory. */
export function umociLayout(dir: string, tag: string): string {
  return umociImage(dir, tag, (rootfs) => {
    fs.mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(rootfs, 'etc', 'motd'), 'hello from umoci\n');
    fs.writeFileSync(path.join(rootfs, 'etc', 'doomed'), 'deleted by the next layer\n');
  }, (rootfs) => {
    fs.rmSync(path.join(rootfs, 'etc', 'doomed'));
    fs.mkdirSync(path.join(rootfs, 'locked', 'inside'), { recursive: true });
    fs.writeFileSync(path.join(rootfs, 'locked', 'inside', 'file'), 'x');
    fs.chmodSync(path.join(rootfs, 'locked', 'inside'), 0o555);
    fs.chmodSync(path.join(rootfs, 'locked'), 0o555);
  });
}

/** An OCI layout made with umoci (root only): busybox, then one layer for each of `layers`, each given the
 *  root filesystem to change (symlinks pointing out of it, say: tests can make an image as hostile as they like). */
export function umociImage(dir: string, tag: string, ...layers: Array<(rootfs: string) => void>): string {
  const bundle = `${dir}-bundle`;
  const umoci = (...args: string[]) => execFileSync('umoci', args, { stdio: 'pipe' });
  umoci('init', '--layout', dir);
  umoci('new', '--image', `${dir}:${tag}`);
  umoci('unpack', '--image', `${dir}:${tag}`, bundle);
  const rootfs = path.join(bundle, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'cat', 'ls', 'readlink']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  for (const layer of layers) {
    layer(rootfs);
    umoci('repack', '--refresh-bundle', '--image', `${dir}:${tag}`, bundle); // refreshed: the next repack is a new layer on top
  }
  umoci('config', '--image', `${dir}:${tag}`, '--config.cmd', 'sh');
  fs.rmSync(bundle, { recursive: true, force: true });
  return dir;
}

/** `skopeo copy oci:LAYOUT:TAG docker-archive:FILE:NAME`: what `docker save` would write. */
export function dockerArchiveFromLayout(layout: string, tag: string, file: string, name: string): string {
  execFileSync('skopeo', ['copy', '--quiet', `oci:${layout}:${tag}`, `docker-archive:${file}:${name}`], { stdio: 'pipe' });
  return file;
}

/** An OCI layout packed as a tar, entries named "./oci-layout", "./blobs/…". */
export function tarOfDirectory(dir: string, file: string): string {
  execFileSync('tar', ['-C', dir, '-cf', file, '.']);
  return file;
}

/** The layout's first image: its index, manifest and config, parsed. */
export function readLayout(dir: string): { index: ImageIndex; manifest: ImageManifest; config: ImageConfig } {
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as ImageIndex;
  const manifest = JSON.parse(fs.readFileSync(blobFile(dir, index.manifests[0]!.digest), 'utf8')) as ImageManifest;
  const config = JSON.parse(fs.readFileSync(blobFile(dir, manifest.config.digest), 'utf8')) as ImageConfig;
  return { index, manifest, config };
}

export function blobFile(dir: string, digest: string): string {
  return path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

export function writeBlob(dir: string, mediaType: string, bytes: Buffer | string): Descriptor {
  const data = Buffer.from(bytes);
  fs.writeFileSync(blobFile(dir, sha256(data)), data);
  return { mediaType, digest: sha256(data), size: data.length };
}

/** Change the first image of a layout and keep it consistent: the edited config and manifest are
 *  written as new blobs and every digest pointing at them is updated, up to index.json. */
export function editLayout(dir: string, edit: (image: { manifest: ImageManifest; config: ImageConfig }) => void): void {
  const { index, manifest, config } = readLayout(dir);
  edit({ manifest, config });
  manifest.config = writeBlob(dir, manifest.config.mediaType, JSON.stringify(config));
  const descriptor = writeBlob(dir, index.manifests[0]!.mediaType, JSON.stringify(manifest));
  index.manifests[0] = { ...index.manifests[0]!, digest: descriptor.digest, size: descriptor.size };
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
}

/** Recompress the layout's gzip layers with the zstd command: same diff ids, new blobs and media types. */
export function recompressWithZstd(dir: string): void {
  editLayout(dir, ({ manifest }) => {
    manifest.layers = manifest.layers.map((layer) => {
      const tar = zlib.gunzipSync(fs.readFileSync(blobFile(dir, layer.digest)));
      const compressed = execFileSync('zstd', ['-q', '-c'], { input: tar, maxBuffer: 1 << 30 });
      return writeBlob(dir, 'application/vnd.oci.image.layer.v1.tar+zstd', compressed);
    });
  });
}

/** A docker-archive in the format of docker before v25: each layer in "<v1 id>/layer.tar", and a
 *  layer two images share stored once, the second image's file a symlink to the first's. */
export function legacyDockerArchive(layout: string, file: string): { ids: string[]; tags: string[] } {
  const { manifest, config } = readLayout(layout);
  const layerTar = zlib.gunzipSync(fs.readFileSync(blobFile(layout, manifest.layers[0]!.digest)));
  const dir = tempDir('legacy-archive');
  const configs = [config, { ...config, created: '2024-06-01T00:00:00Z' }].map((c) => JSON.stringify(c));
  const v1Ids = ['1'.repeat(64), '2'.repeat(64)];
  fs.mkdirSync(path.join(dir, v1Ids[0]!));
  fs.mkdirSync(path.join(dir, v1Ids[1]!));
  fs.writeFileSync(path.join(dir, v1Ids[0]!, 'layer.tar'), layerTar);
  fs.symlinkSync(`../${v1Ids[0]}/layer.tar`, path.join(dir, v1Ids[1]!, 'layer.tar'));
  const tags = ['legacy/first:1', 'legacy/second:1'];
  const entries = configs.map((json, i) => {
    const name = `${sha256(json).slice('sha256:'.length)}.json`;
    fs.writeFileSync(path.join(dir, name), json);
    return { Config: name, RepoTags: [tags[i]], Layers: [`${v1Ids[i]}/layer.tar`] };
  });
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(entries));
  tarOfDirectory(dir, file);
  fs.rmSync(dir, { recursive: true, force: true });
  return { ids: configs.map(sha256), tags };
}

/** Flip one bit in the middle of a file. */
export function corrupt(file: string): void {
  const bytes = fs.readFileSync(file);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = bytes[middle]! ^ 0x01;
  fs.chmodSync(file, 0o644);
  fs.writeFileSync(file, bytes);
}

/** Every path under `root` with its type, mode, owner, size and (for files) content hash,
 *  to check that a failed command left a store exactly as it found it. */
export function treeOf(root: string): string[] {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const stat = fs.lstatSync(full);
      const content = stat.isFile() ? sha256(fs.readFileSync(full)) : stat.isSymbolicLink() ? fs.readlinkSync(full) : '';
      lines.push(`${path.relative(root, full)} ${stat.mode.toString(8)} ${stat.uid}:${stat.gid} ${stat.isDirectory() ? '' : stat.size} ${content}`);
      if (stat.isDirectory()) walk(full);
    }
  };
  walk(root);
  return lines;
}
