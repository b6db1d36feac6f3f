// A pull believes nothing the registry says until it has hashed it: a registry on loopback, in this process
// (test/helpers/fake-registry.ts), serves one small image, honestly or not, and the store must stay as it was
// whenever the bytes are not the ones the digests name. No root needed.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pullImage } from '../../../src/registry/pull.js';
import { parseReference } from '../../../src/image/reference.js';
import { MEDIA_TYPES } from '../../../src/image/oci.js';
import { TsrunError } from '../../../src/errors.js';
import { blobPath, layerDir } from '../../../src/store/paths.js';
import { listImages } from '../../../src/store/images.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { sha256, startFakeRegistry, type FakeRegistry } from '../../helpers/fake-registry.js';
import { tempStore } from '../../helpers/temp-store.js';

/** Every file under `dir`, relative: what the store holds. Directories left empty don't count. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('pullImage: digests and sizes', () => {
  let registry: FakeRegistry;
  beforeAll(async () => { registry = await startFakeRegistry(); });
  afterAll(() => registry.stop());

  let store: ReturnType<typeof tempStore>;
  beforeEach(() => {
    store = tempStore();
    registry.reset();
  });
  afterEach(() => store.remove());

  const blob = (digest: string) => registry.routes.get(`/v2/demo/blobs/${digest}`)!;
  const pull = (reference = `${registry.host}/demo`) => pullImage(fakeSyscalls(), store, parseReference(reference));
  /** The pull fails with a TsrunError (125) saying `message`, and the store holds no file it did not hold before. */
  async function refused(message: string, reference?: string) {
    const before = filesUnder(store.root);
    const error = await pull(reference).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TsrunError);
    expect(error).toMatchObject({ message, exitCode: 125 });
    expect(filesUnder(store.root)).toEqual(before);
    expect(listImages(store)).toEqual([]);
  }

  it('stores the image, its blobs and its unpacked layer while the registry tells the truth', async () => {
    const { image } = registry;
    const pulled = await pull();
    expect(pulled.digest).toBe(image.manifestDigest);
    expect(pulled.image.id).toBe(image.configDigest);
    expect(pulled.image.layers).toMatchObject([{ digest: image.layerDigest, diffId: image.diffId, size: image.layer.length }]);
    for (const [digest, bytes] of [[image.manifestDigest, image.manifest], [image.configDigest, image.config], [image.layerDigest, image.layer]] as const) {
      expect(fs.readFileSync(blobPath(store, digest))).toEqual(bytes);
    }
    expect(fs.readFileSync(path.join(layerDir(store, image.diffId), 'etc/motd'), 'utf8')).toBe('hello from the registry\n');
    expect(listImages(store).map((record) => record.id)).toEqual([image.configDigest]);
  });

  it('refuses a manifest that is not the one the registry\'s Docker-Content-Digest names', async () => {
    const claimed = `sha256:${'0'.repeat(64)}`;
    registry.routes.get('/v2/demo/manifests/latest')!.headers = { 'docker-content-digest': claimed };
    await refused(`manifest ${claimed} does not match its digest: got ${registry.image.manifestDigest}`);
  });

  it('refuses a manifest that is not the one a reference by digest names, whatever the registry claims', async () => {
    const { manifestDigest, manifest } = registry.image;
    const other = Buffer.from(manifest.toString().replace('"schemaVersion":2', '"schemaVersion": 2'));
    registry.routes.set(`/v2/demo/manifests/${manifestDigest}`, { body: other, type: MEDIA_TYPES.ociManifest, headers: { 'docker-content-digest': sha256(other) } });
    await refused(`manifest ${manifestDigest} does not match its digest: got ${sha256(other)}`, `${registry.host}/demo@${manifestDigest}`);
  });

  it('refuses a config whose bytes are not the ones its digest names', async () => {
    const config = Buffer.from(registry.image.config);
    config[config.indexOf('sh')] = 'S'.charCodeAt(0); // the same size, other bytes
    blob(registry.image.configDigest).body = config;
    await refused(`config ${registry.image.configDigest} does not match its digest: got ${sha256(config)}`);
  });

  it('refuses a layer whose bytes are not the ones its digest names, whatever they unpack to', async () => {
    const layer = Buffer.from(registry.image.layer);
    layer[layer.length >> 1]! ^= 1;
    blob(registry.image.layerDigest).body = layer;
    await refused(`layer ${registry.image.layerDigest} does not match its digest: got ${sha256(layer)}`);
  });

  it('refuses a blob shorter than its descriptor says', async () => {
    const { layer, layerDigest } = registry.image;
    blob(layerDigest).body = layer.subarray(0, layer.length - 1);
    await refused(`layer ${layerDigest} is ${layer.length - 1} bytes, but its descriptor says ${layer.length}`);
  });

  it('cuts off a layer longer than its descriptor says, however long it goes on', async () => {
    const { layer, layerDigest } = registry.image;
    blob(layerDigest).endless = true;
    await refused(`layer ${layerDigest} is larger than the ${layer.length} bytes its descriptor says`);
    expect(registry.endlessSent).toBeGreaterThan(0); // the registry did go on
  }, 15_000);

  it('cuts off a config longer than its descriptor says', async () => {
    const { config, configDigest } = registry.image;
    blob(configDigest).endless = true;
    await refused(`config ${configDigest} is larger than the ${config.length} bytes its descriptor says`);
  }, 15_000);
});
