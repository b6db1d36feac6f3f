// The build cache in the store (store/build-cache.ts): a hit only while its image is there, and removing the
// image (rmi, system prune) forgets the steps that made it.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedImage, rememberImage } from '../../../src/store/build-cache.js';
import { removeImage, saveImageLocked, type ImageRecord } from '../../../src/store/images.js';
import { imageRecordPath } from '../../../src/store/paths.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';

const stores: Array<ReturnType<typeof tempStore>> = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.remove();
});

const id = `sha256:${'a'.repeat(64)}`;
const record: ImageRecord = { id, repoTags: [], repoDigests: [], created: '2024-01-01T00:00:00Z', size: 0, layers: [], config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } } };

describe('the build cache', () => {
  it('answers with the image a key made while that image is in the store', async () => {
    const store = tempStore();
    stores.push(store);
    fs.mkdirSync(path.dirname(imageRecordPath(store, id)), { recursive: true });
    saveImageLocked(store, record);
    await rememberImage(fakeSyscalls(), store, 'sha256:key', id);
    expect(cachedImage(store, 'sha256:key')).toBe(id);
    expect(cachedImage(store, 'sha256:other')).toBeUndefined();
    fs.rmSync(imageRecordPath(store, id)); // gone some other way than rmi: a miss all the same
    expect(cachedImage(store, 'sha256:key')).toBeUndefined();
  });

  it('forgets the keys of an image rmi removes', async () => {
    const store = tempStore();
    stores.push(store);
    fs.mkdirSync(path.dirname(imageRecordPath(store, id)), { recursive: true });
    saveImageLocked(store, record);
    await rememberImage(fakeSyscalls(), store, 'sha256:key', id);
    await removeImage(fakeSyscalls(), store, id, { force: false });
    expect(JSON.parse(fs.readFileSync(path.join(store.root, 'build-cache.json'), 'utf8'))).toEqual({});
  });
});
