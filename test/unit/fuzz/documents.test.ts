// The JSON documents an image is made of (index, manifest, config, a docker-archive's manifest.json)
// come from registries and from files anyone may hand to `tsrun load`. Each run starts from a sound
// image and damages its documents a little (a value replaced by any JSON, a field removed), then
// pulls it from a registry on loopback, and loads it as an OCI layout and as a docker-archive:
// a TsrunError, or the image the documents describe.
//
// The documents are damaged from the bottom up, and each is named by the digest of what it became,
// so that the damage gets past the digest checks to the code that reads the documents.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { pullImage } from '../../../src/registry/pull.js';
import { loadImages } from '../../../src/store/load.js';
import { parseReference } from '../../../src/image/reference.js';
import { MEDIA_TYPES, hostPlatform } from '../../../src/image/oci.js';
import { realSyscalls as sys } from '../../../src/kernel/native.js';
import type { ImageRecord } from '../../../src/store/images.js';
import { tempStore } from '../../helpers/temp-store.js';
import { buildTar, gzip, makeTempDir } from '../image/tar-fixtures.js';
import { fuzzOptions, settled } from './fuzz.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every place in `doc` a value could be changed or removed: its root, and each member and element below. */
function placesIn(doc: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  const below = Array.isArray(doc) ? doc.flatMap((item, i) => placesIn(item, [...at, i]))
    : doc !== null && typeof doc === 'object' ? Object.entries(doc).flatMap(([key, value]) => placesIn(value, [...at, key]))
    : [];
  return [at, ...below];
}

const REMOVE = Symbol('remove');
type Change = { place: number; value: Json | typeof REMOVE };

/** `doc` with each change made, at the place its number picks (modulo how many there are by then). */
function damaged(doc: Json, changes: Change[]): Json {
  let result = structuredClone(doc);
  for (const { place, value } of changes) {
    const places = placesIn(result);
    const at = places[place % places.length]!;
    if (at.length === 0) {
      if (value !== REMOVE) result = value;
      continue;
    }
    type Container = Record<string | number, Json>;
    const parent = at.slice(0, -1).reduce((node, key) => (node as Container)[key]!, result) as Container;
    const key = at[at.length - 1]!;
    if (value !== REMOVE) parent[key] = value;
    else if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  }
  return result;
}

const sha256 = (bytes: Buffer) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
const hex = (digest: string) => digest.slice('sha256:'.length);
const ZERO_DIGEST = `sha256:${'0'.repeat(64)}`;

// What a damaged field becomes: anything at all, or one of the values that are nearly right.
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(null, [], {}, [null], ['busybox/x:1'], -1, 2 ** 53, 1.5, '', 'line\nbreak', 'linux', 'amd64', ZERO_DIGEST, 'sha256:xyz', '../../etc/passwd', '/etc/passwd',
    ...Object.values(MEDIA_TYPES)),
);
const changes = fc.array(fc.record({ place: fc.nat(), value: fc.oneof(fc.constant<typeof REMOVE>(REMOVE), anyValue) }), { maxLength: 3 });
const world = fc.record({
  config: changes, manifest: changes, index: changes, layoutIndex: changes, archive: changes, useIndex: fc.boolean(), gzipped: fc.boolean(),
});
/** What one run does to a sound image: changes to each document, a layer gzipped or not, a tag naming an index or a manifest. */
type Damage = typeof world extends fc.Arbitrary<infer T> ? T : never;

interface Image {
  /** Blobs by digest. */
  blobs: Map<string, Buffer>;
  /** What the registry serves for the tag, and the layout's index.json lists. */
  top: { bytes: Buffer; digest: string; mediaType: string };
  /** An OCI layout's index.json, and a docker-archive's manifest.json. */
  layoutIndex: Buffer;
  archiveManifest: Buffer;
  configDigest: string;
}

let layerTar: Buffer;

function buildImage(damage: Damage): Image {
  const blobs = new Map<string, Buffer>();
  const keep = (doc: Json) => {
    const bytes = Buffer.from(JSON.stringify(doc));
    blobs.set(sha256(bytes), bytes);
    return { bytes, digest: sha256(bytes), size: bytes.length };
  };
  const layer = damage.gzipped ? gzip(layerTar) : layerTar;
  blobs.set(sha256(layer), layer);
  const { architecture, os } = hostPlatform();
  const config = keep(damaged({ architecture, os, config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] } }, damage.config));
  const manifest = keep(damaged({
    schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: config.digest, size: config.size },
    layers: [{ mediaType: damage.gzipped ? MEDIA_TYPES.ociLayerGzip : MEDIA_TYPES.ociLayer, digest: sha256(layer), size: layer.length }],
  }, damage.manifest));
  const manifestDescriptor = { mediaType: MEDIA_TYPES.ociManifest, digest: manifest.digest, size: manifest.size, platform: { architecture, os } };
  const index = keep(damaged({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [manifestDescriptor] }, damage.index));
  const top = damage.useIndex ? { ...index, mediaType: MEDIA_TYPES.ociIndex } : { ...manifest, mediaType: MEDIA_TYPES.ociManifest };
  const layoutIndex = Buffer.from(JSON.stringify(damaged({
    schemaVersion: 2,
    manifests: [{ mediaType: top.mediaType, digest: top.digest, size: top.bytes.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
  }, damage.layoutIndex)));
  const archiveManifest = Buffer.from(JSON.stringify(damaged(
    [{ Config: `blobs/sha256/${hex(config.digest)}`, RepoTags: ['fuzz:latest'], Layers: [`blobs/sha256/${hex(sha256(layer))}`] }], damage.archive)));
  return { blobs, top, layoutIndex, archiveManifest, configDigest: config.digest };
}

/** A registry that serves one image, whatever the documents say: the test sets `serving`. */
let serving: Image | undefined;
let server: http.Server;
let registry: string;

beforeAll(async () => {
  layerTar = await buildTar([{ name: 'etc/', type: 'directory', mode: 0o755 }, { name: 'etc/motd', content: 'fuzz\n', mode: 0o644 }]);
  server = http.createServer((request, response) => {
    const image = serving!;
    const manifest = /^\/v2\/fuzz\/manifests\/(.+)$/.exec(request.url ?? '');
    const blob = /^\/v2\/fuzz\/blobs\/(.+)$/.exec(request.url ?? '');
    const bytes = manifest?.[1] === 'latest' ? image.top.bytes : image.blobs.get((manifest ?? blob)?.[1] ?? '');
    if (request.url === '/v2/') response.writeHead(200).end('{}');
    else if (!bytes) response.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND"}]}');
    else response.writeHead(200, { 'content-type': manifest ? image.top.mediaType : 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The image as the documents describe it: named by its config, with the layers its config lists,
 *  each of which can only be the one layer there is. */
function expectSound(images: ImageRecord[], image: Image): void {
  for (const record of images) {
    expect(record.id).toBe(image.configDigest);
    expect(record.layers.map((layer) => layer.diffId)).toEqual(record.config.rootfs.diff_ids);
    for (const layer of record.layers) expect(layer.diffId).toBe(sha256(layerTar));
  }
}

describe('fuzz: image documents', () => {
  it('pull takes a damaged image from a registry cleanly, or as the documents describe it', async () => {
    await fc.assert(fc.asyncProperty(world, async (damage) => {
      const store = tempStore();
      try {
        serving = buildImage(damage);
        const pulled = await settled(() => pullImage(sys, store, parseReference(`${registry}/fuzz:latest`)));
        if (pulled.ok) expectSound([pulled.value.image], serving);
      } finally {
        store.remove();
      }
    }), fuzzOptions(100));
  });

  it('load takes a damaged OCI layout and docker-archive cleanly, or as the documents describe them', async () => {
    await fc.assert(fc.asyncProperty(world, async (damage) => {
      const store = tempStore();
      const dir = makeTempDir('fuzz-load');
      try {
        const image = buildImage(damage);
        const write = (file: string, bytes: Buffer) => {
          fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
          fs.writeFileSync(path.join(dir, file), bytes);
        };
        for (const [digest, bytes] of image.blobs) write(`oci/blobs/sha256/${hex(digest)}`, bytes);
        write('oci/oci-layout', Buffer.from('{"imageLayoutVersion": "1.0.0"}'));
        write('oci/index.json', image.layoutIndex);
        const layout = await settled(() => loadImages(sys, store, path.join(dir, 'oci'), { name: 'fuzz' }));
        if (layout.ok) expectSound(layout.value, image);

        for (const [digest, bytes] of image.blobs) write(`archive/blobs/sha256/${hex(digest)}`, bytes);
        write('archive/manifest.json', image.archiveManifest);
        const archive = await settled(() => loadImages(sys, store, path.join(dir, 'archive')));
        if (archive.ok) expectSound(archive.value, image);
      } finally {
        store.remove();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }), fuzzOptions(100));
  });
});
