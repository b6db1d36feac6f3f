// Image records without root: fake images (a few files standing in for blobs
// and layers) saved, found, retagged and removed in a throw-away store.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findImage, listImages, pruneImages, removeImage, saveImage, shortId, tagImage, type ImageRecord } from '../../../src/store/images.js';
import { blobPath, imageRecordPath, layerDir, repositoriesPath, type StorePaths } from '../../../src/store/paths.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';

const sha = (seed: string) => `sha256:${crypto.createHash('sha256').update(seed).digest('hex')}`;
const canonical = (name: string) => `docker.io/library/${name}`;

let store: ReturnType<typeof tempStore>;
const sys = fakeSyscalls();

beforeEach(() => {
  store = tempStore();
});
afterEach(() => {
  store.remove();
});

/** An image whose blobs and layer directories exist on disk, as a load would leave them. */
function fakeImage(paths: StorePaths, seed: string, options: { layers: string[]; tags?: string[]; created?: string }): ImageRecord {
  const layers = options.layers.map((layer) => ({
    diffId: sha(`diff ${layer}`), digest: sha(`blob ${layer}`), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 10, unpackedSize: 100,
  }));
  const record: ImageRecord = {
    id: sha(`config ${seed}`),
    repoTags: (options.tags ?? []).map(canonical),
    repoDigests: [],
    created: options.created ?? '2024-01-01T00:00:00.000Z',
    config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } },
    manifestDigest: sha(`manifest ${seed}`),
    layers,
    size: 100 * layers.length,
  };
  for (const digest of [record.id, record.manifestDigest!, ...layers.map((l) => l.digest)]) {
    fs.mkdirSync(path.dirname(blobPath(paths, digest)), { recursive: true });
    fs.writeFileSync(blobPath(paths, digest), seed);
  }
  for (const layer of layers) {
    fs.mkdirSync(path.join(layerDir(paths, layer.diffId), 'etc'), { recursive: true });
    fs.writeFileSync(path.join(layerDir(paths, layer.diffId), 'etc', 'file'), layer.diffId);
  }
  return record;
}

function fakeContainer(paths: StorePaths, id: string, name: string, imageId: string, status = 'exited'): void {
  const dir = path.join(paths.root, 'containers', id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ id, name, image: { id: imageId, name: 'whatever' } }));
  fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ status }));
}

const repositories = (paths: StorePaths) => JSON.parse(fs.readFileSync(repositoriesPath(paths), 'utf8')) as Record<string, string>;

describe('saveImage and findImage', () => {
  it('finds an image by name, name:tag, full id, bare hex id and id prefix', async () => {
    const image = fakeImage(store, 'busybox', { layers: ['a'], tags: ['busybox:latest', 'busybox:1.36'] });
    await saveImage(sys, store, image);
    const hex = image.id.slice('sha256:'.length);
    for (const query of ['busybox', 'busybox:latest', 'busybox:1.36', 'docker.io/library/busybox:1.36', image.id, hex, hex.slice(0, 12), hex.slice(0, 4), `sha256:${hex.slice(0, 6)}`]) {
      expect(findImage(store, query)?.id, query).toBe(image.id);
    }
    expect(findImage(store, 'busybox:1.37')).toBeUndefined();
    expect(findImage(store, 'alpine')).toBeUndefined();
    expect(findImage(store, sha('nothing'))).toBeUndefined();
  });

  it('finds by repository digest', async () => {
    const image = { ...fakeImage(store, 'busybox', { layers: ['a'], tags: ['busybox:latest'] }), repoDigests: [`${canonical('busybox')}@${sha('manifest busybox')}`] };
    await saveImage(sys, store, image);
    expect(findImage(store, `busybox@${sha('manifest busybox')}`)?.id).toBe(image.id);
    expect(findImage(store, `busybox@${sha('other')}`)).toBeUndefined();
  });

  it('prefers a name to an id prefix, and refuses an ambiguous prefix', async () => {
    // Find two ids sharing a first hex digit, and name a third image after that digit.
    const images = Array.from({ length: 40 }, (_, i) => fakeImage(store, `image-${i}`, { layers: [`l${i}`] }));
    const digit = [...'0123456789abcdef'].find((d) => images.filter((image) => image.id[7] === d).length >= 2)!;
    for (const image of images.filter((candidate) => candidate.id[7] === digit).slice(0, 2)) await saveImage(sys, store, image);
    expect(() => findImage(store, digit)).toThrow(/ambiguous/);

    const named = fakeImage(store, 'named', { layers: ['n'], tags: [`${digit}:latest`] });
    await saveImage(sys, store, named);
    expect(findImage(store, digit)?.id).toBe(named.id);
  });

  it('rejects a reference that is neither a valid name nor an id', () => {
    expect(() => findImage(store, 'BusyBox')).toThrow(/must be lowercase/);
  });

  it('moves a tag to the new image, leaving the old one dangling', async () => {
    const old = fakeImage(store, 'old', { layers: ['a'], tags: ['app:latest', 'app:v1'], created: '2024-01-01T00:00:00Z' });
    const fresh = fakeImage(store, 'new', { layers: ['b'], tags: ['app:latest'], created: '2024-02-01T00:00:00Z' });
    await saveImage(sys, store, old);
    await saveImage(sys, store, fresh);
    expect(findImage(store, 'app')?.id).toBe(fresh.id);
    expect(findImage(store, 'app:v1')?.id).toBe(old.id);
    expect(listImages(store).map((image) => [image.id, image.repoTags])).toEqual([
      [fresh.id, [canonical('app:latest')]], // newest first
      [old.id, [canonical('app:v1')]],
    ]);

    const third = fakeImage(store, 'third', { layers: ['c'], tags: ['app:v1'] });
    await saveImage(sys, store, third);
    expect(findImage(store, old.id)?.repoTags).toEqual([]);
    expect(repositories(store)).toEqual({ [canonical('app:latest')]: fresh.id, [canonical('app:v1')]: third.id });
  });

  it('keeps the names an image already had when it is saved again', async () => {
    const image = fakeImage(store, 'x', { layers: ['a'], tags: ['x:one'] });
    await saveImage(sys, store, image);
    const saved = await saveImage(sys, store, { ...image, repoTags: [canonical('x:two')] });
    expect(saved.repoTags).toEqual([canonical('x:one'), canonical('x:two')]);
    expect(findImage(store, 'x:one')?.id).toBe(image.id);
  });

  it('takes the store lock to save', async () => {
    const recording = fakeSyscalls();
    await saveImage(recording, store, fakeImage(store, 'x', { layers: ['a'] }));
    expect(recording.calls.map((call) => call.name)).toEqual(['flock']);
  });
});

describe('removeImage', () => {
  it('only untags while other tags remain, then deletes record, blobs and layers', async () => {
    const image = fakeImage(store, 'app', { layers: ['a', 'b'], tags: ['app:v1', 'app:v2'] });
    await saveImage(sys, store, image);

    expect(await removeImage(sys, store, 'app:v1', { force: false })).toEqual({ untagged: [canonical('app:v1')], deleted: [] });
    expect(findImage(store, 'app:v1')).toBeUndefined();
    expect(findImage(store, 'app:v2')?.repoTags).toEqual([canonical('app:v2')]);

    const removed = await removeImage(sys, store, 'app:v2', { force: false });
    expect(removed).toEqual({ untagged: [canonical('app:v2')], deleted: [image.id, ...image.layers.map((l) => l.diffId)] });
    expect(listImages(store)).toEqual([]);
    expect(repositories(store)).toEqual({});
    expect(fs.existsSync(imageRecordPath(store, image.id))).toBe(false);
    expect(fs.readdirSync(path.join(store.root, 'blobs', 'sha256'))).toEqual([]);
    expect(fs.readdirSync(path.join(store.root, 'layers', 'sha256'))).toEqual([]);
    expect(fs.readdirSync(path.join(store.root, 'tmp'))).toEqual([]);
  });

  it('untags the repository digests with its last tag', async () => {
    const digestName = `${canonical('app')}@${sha('manifest app')}`;
    const image = { ...fakeImage(store, 'app', { layers: ['a'], tags: ['app:latest'] }), repoDigests: [digestName] };
    await saveImage(sys, store, image);
    const removed = await removeImage(sys, store, 'app', { force: false });
    expect(removed.untagged).toEqual([canonical('app:latest'), digestName]);
    expect(removed.deleted[0]).toBe(image.id);
  });

  it('keeps what another image still uses', async () => {
    const base = fakeImage(store, 'one', { layers: ['shared', 'own-1'], tags: ['one:latest'] });
    const other = fakeImage(store, 'two', { layers: ['shared', 'own-2'], tags: ['two:latest'] });
    await saveImage(sys, store, base);
    await saveImage(sys, store, other);
    const [shared, own1] = base.layers;

    const removed = await removeImage(sys, store, 'one', { force: false });
    expect(removed.deleted).toEqual([base.id, own1!.diffId]);
    expect(fs.existsSync(layerDir(store, shared!.diffId))).toBe(true);
    expect(fs.existsSync(blobPath(store, shared!.digest))).toBe(true);
    expect(fs.existsSync(layerDir(store, own1!.diffId))).toBe(false);
    expect(fs.existsSync(blobPath(store, own1!.digest))).toBe(false);
    expect(fs.existsSync(blobPath(store, base.id))).toBe(false);

    await removeImage(sys, store, 'two', { force: false });
    expect(fs.existsSync(layerDir(store, shared!.diffId))).toBe(false);
    expect(fs.readdirSync(path.join(store.root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('deletes by id prefix, all its tags at once', async () => {
    const image = fakeImage(store, 'app', { layers: ['a'], tags: ['app:v1', 'app:v2'] });
    await saveImage(sys, store, image);
    const removed = await removeImage(sys, store, shortId(image.id), { force: false });
    expect(removed.untagged).toEqual([canonical('app:v1'), canonical('app:v2')]);
    expect(removed.deleted[0]).toBe(image.id);
    expect(listImages(store)).toEqual([]);
  });

  it('refuses to delete by id an image named in several repositories, unless forced', async () => {
    const image = fakeImage(store, 'app', { layers: ['a'], tags: ['app:v1', 'other:v1'] });
    await saveImage(sys, store, image);
    await expect(removeImage(sys, store, image.id, { force: false })).rejects.toThrow(
      `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is referenced in multiple repositories`);
    expect(listImages(store)).toHaveLength(1);
    expect((await removeImage(sys, store, image.id, { force: true })).deleted[0]).toBe(image.id);
  });

  it('refuses to delete an image a container uses; forced, it only untags it', async () => {
    const image = fakeImage(store, 'busybox', { layers: ['a'], tags: ['busybox:latest', 'busybox:musl'] });
    await saveImage(sys, store, image);
    const containerId = '3f2a1b4c5d6e'.padEnd(64, '0');
    fakeContainer(store, containerId, 'brave_hopper', image.id);

    // Untagging one of several names leaves the image in place: no conflict.
    expect((await removeImage(sys, store, 'busybox:musl', { force: false })).deleted).toEqual([]);

    const refused = removeImage(sys, store, 'busybox', { force: false });
    await expect(refused).rejects.toThrow(
      `conflict: unable to remove repository reference "busybox:latest" (must force) - container 3f2a1b4c5d6e is using its referenced image ${shortId(image.id)}`);
    await expect(refused).rejects.toMatchObject({ code: 'IN_USE' });
    await expect(refused).rejects.toMatchObject({ exitCode: 125 });
    expect(findImage(store, 'busybox')?.id).toBe(image.id);

    expect(await removeImage(sys, store, 'busybox', { force: true })).toEqual({ untagged: [canonical('busybox:latest')], deleted: [] });
    expect(findImage(store, image.id)?.repoTags).toEqual([]);
    expect(fs.existsSync(layerDir(store, image.layers[0]!.diffId))).toBe(true);
    // With no name left to take, even -f cannot delete it.
    await expect(removeImage(sys, store, image.id, { force: true })).rejects.toThrow(
      `conflict: unable to delete ${shortId(image.id)} (cannot be forced) - image is being used by stopped container 3f2a1b4c5d6e`);
    await expect(removeImage(sys, store, image.id, { force: false })).rejects.toThrow(
      `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is being used by stopped container 3f2a1b4c5d6e`);

    // Once the container is gone, the dangling image can go too.
    fs.rmSync(path.join(store.root, 'containers', containerId), { recursive: true });
    expect((await removeImage(sys, store, image.id, { force: false })).deleted[0]).toBe(image.id);
  });

  it('refuses by id, even forced, to touch an image a running container uses; by name, forced, it untags it', async () => {
    const image = fakeImage(store, 'busybox', { layers: ['a'], tags: ['busybox:latest'] });
    await saveImage(sys, store, image);
    fakeContainer(store, '4743263c6771'.padEnd(64, '0'), 'runner', image.id, 'running');
    for (const force of [false, true]) {
      await expect(removeImage(sys, store, image.id, { force })).rejects.toThrow(
        `conflict: unable to delete ${shortId(image.id)} (cannot be forced) - image is being used by running container 4743263c6771`);
    }
    expect(findImage(store, 'busybox')?.id).toBe(image.id);
    expect(await removeImage(sys, store, 'busybox', { force: true })).toEqual({ untagged: [canonical('busybox:latest')], deleted: [] });
  });

  it('says when there is no such image', async () => {
    await expect(removeImage(sys, store, 'nothing:here', { force: false })).rejects.toThrow('no such image: nothing:here');
  });
});

describe('tagImage and pruneImages', () => {
  it('tags an image by name or id, and refuses a target with a digest or a source that is not there', async () => {
    const image = fakeImage(store, 'app', { layers: ['a'], tags: ['app:1'] });
    await saveImage(sys, store, image);
    await tagImage(sys, store, 'app:1', 'registry.test/app:2');
    await tagImage(sys, store, shortId(image.id), 'app:3');
    expect(findImage(store, 'app:1')?.repoTags).toEqual([canonical('app:1'), 'registry.test/app:2', canonical('app:3')]);
    await expect(tagImage(sys, store, 'app:1', `app@${sha('x')}`)).rejects.toThrow('refusing to create a tag with a digest reference');
    await expect(tagImage(sys, store, 'nothing:here', 'app:4')).rejects.toThrow('no such image: nothing:here');
  });

  it('prunes the images without a name that no container uses, with the bytes of their layers; with all, named ones too', async () => {
    const dangling = fakeImage(store, 'dangling', { layers: ['a'] });
    const named = fakeImage(store, 'named', { layers: ['b'], tags: ['app:1', 'other:1'] });
    const used = fakeImage(store, 'used', { layers: ['c'] });
    for (const image of [dangling, named, used]) await saveImage(sys, store, image);
    fakeContainer(store, 'c0ffee'.padEnd(64, '0'), 'user', used.id);

    expect(await pruneImages(sys, store, { all: false })).toEqual({ removed: [{ untagged: [], deleted: [dangling.id, dangling.layers[0]!.diffId] }], bytes: 100 });
    // Named in two repositories: removed all the same.
    expect((await pruneImages(sys, store, { all: true })).removed.map((removed) => removed.deleted[0])).toEqual([named.id]);
    expect(listImages(store).map((image) => image.id)).toEqual([used.id]);
  });
});
