// `tsrun load` for real, as root (layers hold root-owned files and whiteout
// devices): images from tsrun's demo builder, umoci and skopeo, in every
// input shape, and damaged images that must be refused without a trace.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeAll, afterAll, beforeEach, describe, expect, it } from 'vitest';
import { realSyscalls } from '../../src/kernel/native.js';
import { loadImages } from '../../src/store/load.js';
import { findImage, listImages, removeImage } from '../../src/store/images.js';
import { blobPath, layerDir, storePaths, type StorePaths } from '../../src/store/paths.js';
import { MEDIA_TYPES, type ImageIndex } from '../../src/image/oci.js';
import { buildTar } from '../unit/image/tar-fixtures.js';
import { tsrun } from '../helpers/cli.js';
import {
  blobFile, corrupt, demoLayout, dockerArchiveFromLayout, editLayout, legacyDockerArchive, readLayout,
  recompressWithZstd, sha256, tarOfDirectory, tempDir, treeOf, umociLayout, writeBlob,
} from '../helpers/images.js';

const asRoot = process.getuid?.() === 0;
const sys = realSyscalls;
const DEMO = 'docker.io/library/tsrun-demo:latest';

describe.skipIf(!asRoot)('tsrun load (as root)', () => {
  let images: string; // pristine images, built once
  let work: string;
  let paths: StorePaths;
  const load = (input: string, options: { name?: string } = {}) => loadImages(sys, paths, input, options);
  /** A copy of a pristine image, to damage or rewrite. */
  const copyOf = (image: string) => {
    const copy = path.join(work, `${path.basename(image)}-copy`);
    fs.cpSync(image, copy, { recursive: true });
    return copy;
  };

  beforeAll(async () => {
    images = tempDir('load-images');
    await demoLayout(path.join(images, 'demo'));
    umociLayout(path.join(images, 'umoci'), 't');
  });
  afterAll(() => {
    fs.rmSync(images, { recursive: true, force: true });
  });
  beforeEach(() => {
    work = tempDir('load');
    paths = storePaths(path.join(work, 'store'));
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('loads the demo image: its record, its blobs, and its layer unpacked', async () => {
    const [image] = await load(path.join(images, 'demo'));
    const { index, manifest, config } = readLayout(path.join(images, 'demo'));
    expect(image).toMatchObject({
      id: manifest.config.digest,
      repoTags: [DEMO],
      repoDigests: [`docker.io/library/tsrun-demo@${index.manifests[0]!.digest}`],
      created: '2024-01-01T00:00:00.000Z',
      manifestDigest: index.manifests[0]!.digest,
      config: { config: { Cmd: ['sh'] }, architecture: 'amd64', os: 'linux' },
      layers: [{ diffId: config.rootfs.diff_ids[0], digest: manifest.layers[0]!.digest, mediaType: MEDIA_TYPES.ociLayerGzip, size: manifest.layers[0]!.size }],
    });
    expect(image!.size).toBeGreaterThan(fs.statSync('/bin/busybox').size);
    expect(findImage(paths, 'tsrun-demo')?.id).toBe(image!.id);

    for (const digest of [image!.id, image!.manifestDigest!, image!.layers[0]!.digest]) expect(fs.existsSync(blobPath(paths, digest))).toBe(true);
    const rootfs = layerDir(paths, image!.layers[0]!.diffId);
    expect(fs.readlinkSync(path.join(rootfs, 'bin', 'sh'))).toBe('busybox');
    expect(fs.statSync(path.join(rootfs, 'bin', 'busybox')).mode & 0o7777).toBe(0o755);
    expect(fs.statSync(path.join(rootfs, 'home', 'student')).uid).toBe(1000);
    expect(fs.statSync(path.join(rootfs, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(fs.readFileSync(path.join(rootfs, 'etc', 'passwd'), 'utf8')).toContain('student:x:1000:1000:student:/home/student:/bin/sh');
    expect(fs.readdirSync(path.join(paths.root, 'tmp'))).toEqual([]); // staging cleaned up
  });

  it('loads the same image again without unpacking its layer again, adding the new tag', async () => {
    const [first] = await load(path.join(images, 'demo'));
    const layer = layerDir(paths, first!.layers[0]!.diffId);
    const inode = fs.statSync(layer).ino;

    const [again] = await load(await demoLayout(path.join(work, 'demo-v2'), 'v2'));
    expect(again!.id).toBe(first!.id);
    expect(again!.repoTags).toEqual(['docker.io/library/tsrun-demo:v2']); // what this load named
    expect(findImage(paths, first!.id)?.repoTags).toEqual([DEMO, 'docker.io/library/tsrun-demo:v2']);
    expect(fs.statSync(layer).ino).toBe(inode);
    expect(listImages(paths)).toHaveLength(1);
  });

  it('loads an OCI layout made by umoci: whiteouts, read-only directories, names from --name', async () => {
    const [untagged] = await load(path.join(images, 'umoci'));
    expect(untagged!.repoTags).toEqual([]); // its ref.name is a bare tag, and no --name was given

    const [image] = await load(path.join(images, 'umoci'), { name: 'example/umoci' });
    expect(image!.id).toBe(untagged!.id);
    expect(image!.repoTags).toEqual(['docker.io/example/umoci:t']);
    expect(image!.config.config?.Cmd).toEqual(['sh']);
    expect(image!.layers).toHaveLength(2);
    const [lower, upper] = image!.layers.map((layer) => layerDir(paths, layer.diffId));
    expect(fs.readFileSync(path.join(lower!, 'etc', 'motd'), 'utf8')).toBe('hello from umoci\n');
    const whiteout = fs.lstatSync(path.join(upper!, 'etc', 'doomed'));
    expect(whiteout.isCharacterDevice() && whiteout.rdev === 0).toBe(true);
    expect(fs.statSync(path.join(upper!, 'locked')).mode & 0o777).toBe(0o555);

    // rmi removes all of it, whiteout devices and read-only directories included.
    const removed = await removeImage(sys, paths, 'example/umoci:t', { force: false });
    expect(removed.deleted).toEqual([image!.id, ...image!.layers.map((layer) => layer.diffId)]);
    expect(fs.readdirSync(path.join(paths.root, 'layers', 'sha256'))).toEqual([]);
    expect(fs.readdirSync(path.join(paths.root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('loads a docker-archive written by skopeo, plain or gzipped, sharing layers by diff id', async () => {
    const archive = dockerArchiveFromLayout(path.join(images, 'umoci'), 't', path.join(work, 'x.tar'), 'example/x:t');
    const [image] = await load(archive);
    expect(image!.repoTags).toEqual(['docker.io/example/x:t']);
    expect(image!.manifestDigest).toBeUndefined();
    for (const layer of image!.layers) {
      expect(layer.mediaType).toBe(MEDIA_TYPES.dockerLayer);
      expect(layer.digest).toBe(layer.diffId); // an uncompressed layer's digest is its diff id
    }

    // The same image from its OCI layout: the gzip blobs are new, the unpacked layers are not.
    const inodes = image!.layers.map((layer) => fs.statSync(layerDir(paths, layer.diffId)).ino);
    const [fromLayout] = await load(path.join(images, 'umoci'), { name: 'example/x' });
    expect(fromLayout!.id).toBe(image!.id);
    expect(fromLayout!.layers.map((layer) => fs.statSync(layerDir(paths, layer.diffId)).ino)).toEqual(inodes);

    fs.writeFileSync(path.join(work, 'x.tar.gz'), zlib.gzipSync(fs.readFileSync(archive)));
    const [gzipped] = await load(path.join(work, 'x.tar.gz'));
    expect(gzipped!.id).toBe(image!.id);
  });

  it('loads a legacy docker-archive whose second image links to the first one\'s layer', async () => {
    const { ids, tags } = legacyDockerArchive(path.join(images, 'demo'), path.join(work, 'legacy.tar'));
    const loaded = await load(path.join(work, 'legacy.tar'));
    expect(loaded.map((image) => [image.id, image.repoTags])).toEqual([
      [ids[0], [`docker.io/${tags[0]}`]],
      [ids[1], [`docker.io/${tags[1]}`]],
    ]);
    expect(loaded[0]!.layers).toEqual(loaded[1]!.layers);
    expect(fs.readdirSync(path.join(paths.root, 'layers', 'sha256'))).toHaveLength(1);
  });

  it('loads an OCI layout packed as a tar', async () => {
    const [image] = await load(tarOfDirectory(path.join(images, 'demo'), path.join(work, 'demo.tar')));
    expect(image!.repoTags).toEqual([DEMO]);
    expect(fs.existsSync(path.join(layerDir(paths, image!.layers[0]!.diffId), 'bin', 'busybox'))).toBe(true);
  });

  it('loads zstd-compressed layers', async () => {
    const layout = copyOf(path.join(images, 'demo'));
    recompressWithZstd(layout);
    const [image] = await load(layout);
    expect(image!.layers[0]!.mediaType).toBe(MEDIA_TYPES.ociLayerZstd);
    expect(image!.layers[0]!.diffId).toBe(readLayout(layout).config.rootfs.diff_ids[0]);
    expect(fs.readlinkSync(path.join(layerDir(paths, image!.layers[0]!.diffId), 'bin', 'ls'))).toBe('busybox');
  });

  it('picks the host\'s platform from a multi-platform index', async () => {
    const layout = copyOf(path.join(images, 'demo'));
    const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as ImageIndex;
    const amd64 = index.manifests[0]!;
    const nested: ImageIndex = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        // A platform we are not: its manifest is not even there, and is never read.
        { mediaType: MEDIA_TYPES.ociManifest, digest: sha256('arm64 manifest'), size: 14, platform: { architecture: 'arm64', os: 'linux' } },
        { mediaType: amd64.mediaType, digest: amd64.digest, size: amd64.size, platform: { architecture: 'amd64', os: 'linux' } },
      ],
    };
    const nestedDescriptor = writeBlob(layout, MEDIA_TYPES.ociIndex, JSON.stringify(nested));
    fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ ...index, manifests: [{ ...nestedDescriptor, annotations: amd64.annotations }] }));

    const [image] = await load(layout);
    expect(image!.manifestDigest).toBe(amd64.digest);
    expect(image!.repoDigests).toEqual([`docker.io/library/tsrun-demo@${nestedDescriptor.digest}`]);
  });

  describe('refuses a damaged image and leaves the store as it was', () => {
    const damages: [string, (layout: string) => void | Promise<void>, RegExp][] = [
      ['a flipped byte in a layer blob', (layout) => corrupt(blobFile(layout, readLayout(layout).manifest.layers[0]!.digest)),
        /^layer sha256:[a-f0-9]{64} does not match its digest: got sha256:[a-f0-9]{64}$/],
      ['a flipped byte in the manifest', (layout) => corrupt(blobFile(layout, readLayout(layout).index.manifests[0]!.digest)),
        /^manifest sha256:[a-f0-9]{64} does not match its digest/],
      ['a wrong diff id in the config', (layout) => editLayout(layout, ({ config }) => { config.rootfs.diff_ids[0] = sha256('another layer'); }),
        new RegExp(`^layer sha256:[a-f0-9]{64} unpacks to diff id sha256:[a-f0-9]{64}, but the image config says ${sha256('another layer')}$`)],
      ['a missing layer blob', (layout) => fs.rmSync(blobFile(layout, readLayout(layout).manifest.layers[0]!.digest)),
        /^layer sha256:[a-f0-9]{64} is missing: .* has no blobs\/sha256\/[a-f0-9]{64}$/],
      ['a missing config blob', (layout) => fs.rmSync(blobFile(layout, readLayout(layout).manifest.config.digest)),
        /^config sha256:[a-f0-9]{64} is missing/],
      ['a layer size that disagrees with its descriptor', (layout) => editLayout(layout, ({ manifest }) => { manifest.layers[0]!.size += 1; }),
        /^layer sha256:[a-f0-9]{64} is \d+ bytes, but its descriptor says \d+$/],
      ['a layer descriptor without a size', (layout) => editLayout(layout, ({ manifest }) => { delete (manifest.layers[0] as { size?: number }).size; }),
        /^manifest sha256:[a-f0-9]{64}: layers\[0\] sha256:[a-f0-9]{64} has no size in its descriptor$/],
      ['a layer blob that is a link to an endless device', (layout) => {
        const file = blobFile(layout, readLayout(layout).manifest.layers[0]!.digest);
        fs.rmSync(file);
        fs.symlinkSync('/dev/zero', file);
      }, /^layer sha256:[a-f0-9]{64} is not a regular file: blobs\/sha256\/[a-f0-9]{64}$/],
      ['an unsupported layer media type', (layout) => editLayout(layout, ({ manifest }) => { manifest.layers[0]!.mediaType = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'; }),
        /^layer sha256:[a-f0-9]{64} has unsupported media type application\/vnd\.oci\.image\.layer\.nondistributable\.v1\.tar\+gzip$/],
      ['a layer media type with a line break in it', (layout) => editLayout(layout, ({ manifest }) => { manifest.layers[0]!.mediaType = 'line\nbreak'; }),
        /^layer sha256:[a-f0-9]{64} has unsupported media type "line\\nbreak"$/],
      ['an artifact instead of an image', (layout) => editLayout(layout, ({ manifest }) => { manifest.config.mediaType = 'application/vnd.example.sbom+json'; }),
        /is not an image \(its config is application\/vnd\.example\.sbom\+json\)/],
      ['more diff ids than layers', (layout) => editLayout(layout, ({ config }) => { config.rootfs.diff_ids.push(sha256('extra')); }),
        /^the image config lists 2 layers but the manifest 1$/],
      ['a manifest whose layers list holds null', (layout) => editLayout(layout, ({ manifest }) => { (manifest.layers as unknown[]).push(null); }),
        /^manifest sha256:[a-f0-9]{64}: layers\[1\] is not a descriptor \(a JSON object\)$/],
      ['an index.json whose manifests list holds null', (layout) => {
        const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: unknown[] };
        index.manifests.unshift(null);
        fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify(index));
      }, /^index\.json: manifests\[0\] is not a descriptor \(a JSON object\)$/],
      ['a layer entry climbing out of the layer', async (layout) => {
        const evil = zlib.gzipSync(await buildTar([{ name: '../escaped', content: 'x' }]));
        editLayout(layout, ({ manifest, config }) => {
          manifest.layers = [writeBlob(layout, MEDIA_TYPES.ociLayerGzip, evil)];
          config.rootfs.diff_ids = [sha256(zlib.gunzipSync(evil))];
        });
      }, /^layer sha256:[a-f0-9]{64}: .*"\.\.\/escaped"/],
    ];

    it.each(damages)('%s', async (_, damage, error) => {
      await load(path.join(images, 'demo')); // the same image, intact, is already in the store
      const before = treeOf(paths.root);
      const layout = copyOf(path.join(images, 'demo'));
      await damage(layout);
      await expect(load(layout)).rejects.toThrow(error);
      expect(treeOf(paths.root)).toEqual(before);
      expect(fs.existsSync(path.join(work, 'escaped'))).toBe(false);
    });

    it.each([
      ['a file that is no archive', () => fs.writeFileSync(path.join(work, 'input'), 'just some text, long enough to not be a tar header '.repeat(20)),
        /is neither a docker-archive nor an OCI image layout$/],
      ['a tar with neither manifest.json nor oci-layout', async () => fs.writeFileSync(path.join(work, 'input'), await buildTar([{ name: 'README', content: 'hi' }])),
        /is neither a docker-archive nor an OCI image layout$/],
      ['an archive entry climbing out of the archive', async () => fs.writeFileSync(path.join(work, 'input'), await buildTar([{ name: '../../evil', content: 'x' }])),
        /archive entry "\.\.\/\.\.\/evil" points outside the archive/],
      ['a docker-archive whose config is not JSON', async () => fs.writeFileSync(path.join(work, 'input'), await buildTar([
        { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: [] }]) },
        { name: 'c.json', content: '{ not json' },
      ])), /^the image config is not valid JSON$/],
      ['a docker-archive whose RepoTags hold null', async () => fs.writeFileSync(path.join(work, 'input'), await buildTar([
        { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: [null], Layers: [] }]) },
      ])), /^manifest\.json has an entry whose RepoTags are not a list of names$/],
      ['a docker-archive whose config is JSON but no object', async () => fs.writeFileSync(path.join(work, 'input'), await buildTar([
        { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: [] }]) },
        { name: 'c.json', content: 'null' },
      ])), /^the image config is not a JSON object$/],
    ])('%s', async (_, make, error) => {
      await load(path.join(images, 'demo'));
      const before = treeOf(paths.root);
      await make();
      await expect(load(path.join(work, 'input'))).rejects.toThrow(error);
      expect(treeOf(paths.root)).toEqual(before);
    });
  });

  describe('on the command line (compiled CLI)', () => {
    it('prints what docker load, images and rmi print', () => {
      const root = paths.root;
      expect(tsrun(root, ['load', '-i', path.join(images, 'demo')])).toEqual({ status: 0, stdout: 'Loaded image: tsrun-demo:latest\n', stderr: '' });
      expect(tsrun(root, ['load', '-i', path.join(images, 'umoci')]).stdout).toMatch(/^Loaded image ID: sha256:[a-f0-9]{64}\n$/);

      const listing = tsrun(root, ['images']);
      expect(listing.status).toBe(0);
      const lines = listing.stdout.split('\n');
      expect(lines[0]).toMatch(/^REPOSITORY {3,}TAG {3,}IMAGE ID {3,}CREATED {3,}SIZE$/);
      expect(lines.slice(1)).toEqual(expect.arrayContaining([
        expect.stringMatching(/^<none> {3,}<none> {3,}[a-f0-9]{12} {3,}(Less than a second|\d+ seconds?) ago {3,}\d(\.\d+)?MB$/),
        expect.stringMatching(/^tsrun-demo {3,}latest {3,}[a-f0-9]{12} {3,}\d+ years ago {3,}\d\.\d\dMB$/),
      ]));
      expect(tsrun(root, ['images', '-q', '--no-trunc']).stdout).toMatch(/^(sha256:[a-f0-9]{64}\n){2}$/);

      const removed = tsrun(root, ['rmi', 'tsrun-demo']);
      expect(removed.stdout).toMatch(/^Untagged: tsrun-demo:latest\nUntagged: tsrun-demo@sha256:[a-f0-9]{64}\nDeleted: sha256:[a-f0-9]{64}\nDeleted: sha256:[a-f0-9]{64}\n$/);

      const missing = tsrun(root, ['rmi', 'tsrun-demo']);
      expect(missing).toMatchObject({ status: 125, stderr: expect.stringMatching(/^tsrun: no such image: tsrun-demo — /) });
    });
  });
});
