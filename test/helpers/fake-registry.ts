// A registry in the test's own process, on loopback, serving one small image (a config and one gzipped layer
// whose files belong to the test's user, so it unpacks without root). Its routes can be changed to lie: other
// bytes, another claimed digest, a blob that never ends. (test/helpers/registry.ts runs the real one, for
// integration tests.)
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MEDIA_TYPES, hostPlatform } from '../../src/image/oci.js';
import { buildTar, gzip } from '../unit/image/tar-fixtures.js';

export const sha256 = (bytes: Buffer) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;

export interface Route {
  body: Buffer;
  type?: string;
  headers?: Record<string, string>;
  /** Send the body, then more bytes for ever, until the client hangs up. */
  endless?: boolean;
}

export interface FakeImage {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDigest: string;
  layer: Buffer;
  layerDigest: string;
  diffId: string;
}

export interface FakeRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  image: FakeImage;
  /** By URL path; reset() puts back the honest ones. */
  routes: Map<string, Route>;
  /** Every URL path asked for since reset(). */
  requests: string[];
  /** Bytes an endless blob sent past its body before the client hung up. */
  endlessSent: number;
  reset(): void;
  stop(): Promise<void>;
}

/** Serves the image as REPOSITORY:latest (the manifest, with Docker-Content-Digest) and by digest. */
export async function startFakeRegistry(repository = 'demo'): Promise<FakeRegistry> {
  const tar = await buildTar([{ name: 'etc/', type: 'directory', mode: 0o755 }, { name: 'etc/motd', content: 'hello from the registry\n', mode: 0o644 }]);
  const layer = gzip(tar);
  const { architecture, os } = hostPlatform();
  const config = Buffer.from(JSON.stringify({ architecture, os, config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [sha256(tar)] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: sha256(config), size: config.length },
    layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: sha256(layer), size: layer.length }],
  }));
  const image: FakeImage = { manifest, manifestDigest: sha256(manifest), config, configDigest: sha256(config), layer, layerDigest: sha256(layer), diffId: sha256(tar) };

  const honest = (): Map<string, Route> => new Map([
    [`/v2/${repository}/manifests/latest`, { body: image.manifest, type: MEDIA_TYPES.ociManifest, headers: { 'docker-content-digest': image.manifestDigest } }],
    [`/v2/${repository}/manifests/${image.manifestDigest}`, { body: image.manifest, type: MEDIA_TYPES.ociManifest }],
    [`/v2/${repository}/blobs/${image.configDigest}`, { body: image.config }],
    [`/v2/${repository}/blobs/${image.layerDigest}`, { body: image.layer }],
  ]);

  const server = http.createServer((request, response) => {
    registry.requests.push(request.url ?? '');
    if (request.url === '/v2/') return void response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const route = registry.routes.get(request.url ?? '');
    if (!route) return void response.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND","message":"not here"}]}');
    response.writeHead(200, { 'content-type': route.type ?? 'application/octet-stream', ...(route.endless ? {} : { 'content-length': route.body.length }), ...route.headers });
    if (!route.endless) return void response.end(route.body);
    const more = Buffer.alloc(64 * 1024, 0x61);
    const write = () => {
      while (!response.destroyed) {
        registry.endlessSent += more.length;
        if (!response.write(more)) return void response.once('drain', write);
      }
    };
    response.write(route.body);
    write();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const registry: FakeRegistry = {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    image,
    routes: honest(),
    requests: [],
    endlessSent: 0,
    reset() {
      registry.routes = honest();
      registry.requests = [];
      registry.endlessSent = 0;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return registry;
}
