import { describe, expect, it } from 'vitest';
import { MANIFEST_ACCEPT, manifestKind, parsePlatform, pickPlatform } from '../../../src/registry/media.js';
import { endpointFor, endpointsFor } from '../../../src/registry/endpoint.js';
import { MEDIA_TYPES, type Descriptor } from '../../../src/image/oci.js';

describe('MANIFEST_ACCEPT', () => {
  it('asks for OCI index and manifest and Docker list and manifest, nothing else', () => {
    expect(MANIFEST_ACCEPT.split(', ').sort()).toEqual([
      MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.dockerManifest, MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest,
    ].sort());
  });
});

describe('manifestKind', () => {
  it('goes by the document\'s mediaType, then the Content-Type', () => {
    expect(manifestKind('application/json', { mediaType: MEDIA_TYPES.dockerManifestList })).toBe('index');
    expect(manifestKind(MEDIA_TYPES.ociManifest, { schemaVersion: 2 })).toBe('manifest');
    expect(manifestKind(MEDIA_TYPES.ociIndex, { schemaVersion: 2 })).toBe('index');
  });

  it('tells an OCI document without a media type by its shape', () => {
    expect(manifestKind(undefined, { schemaVersion: 2, manifests: [] })).toBe('index');
    const manifest = { schemaVersion: 2, config: {}, layers: [] };
    expect(manifestKind('application/json', manifest)).toBe('manifest');
  });

  it('refuses Docker schema 1 and anything unknown, naming the media type', () => {
    expect(() => manifestKind('application/vnd.docker.distribution.manifest.v1+prettyjws', { schemaVersion: 1 }))
      .toThrow(/media type application\/vnd.docker.distribution.manifest.v1\+prettyjws/);
    expect(() => manifestKind('application/json', { schemaVersion: 1, fsLayers: [] } as object)).toThrow(/media type application\/json/);
  });

  it('quotes a media type that holds a line break, so that the message stays one line', () => {
    expect(() => manifestKind(undefined, { mediaType: 'line\nbreak' })).toThrow('the registry sent a manifest of media type "line\\nbreak", which');
  });
});

describe('platforms', () => {
  const entry = (os: string, architecture: string, variant?: string): Descriptor => ({
    mediaType: MEDIA_TYPES.ociManifest, digest: `sha256:${(os + architecture + (variant ?? '')).length.toString().padStart(64, '0')}`, size: 1,
    platform: variant ? { os, architecture, variant } : { os, architecture },
  });
  const index = [entry('linux', 'amd64'), entry('linux', 'arm', 'v6'), entry('linux', 'arm', 'v7'), entry('linux', 'arm64', 'v8'), entry('unknown', 'unknown')];

  it('parses os/arch[/variant] and refuses other shapes', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    for (const bad of ['linux', 'linux/', '/amd64', 'linux/arm/', 'a/b/c/d']) expect(() => parsePlatform(bad)).toThrow(/invalid platform/);
  });

  it('picks the os and architecture, and the variant when one is asked for', () => {
    expect(pickPlatform(index, { os: 'linux', architecture: 'amd64' }, 'x')).toBe(index[0]);
    expect(pickPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x')).toBe(index[2]);
    expect(pickPlatform(index, { os: 'linux', architecture: 'arm' }, 'x')).toBe(index[1]);
    expect(pickPlatform(index, { os: 'linux', architecture: 'arm64' }, 'x')).toBe(index[3]);
  });

  it('lists what there is when nothing matches', () => {
    expect(() => pickPlatform(index, { os: 'linux', architecture: 's390x' }, 'busybox'))
      .toThrow('busybox has no image for linux/s390x (it has: linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, unknown/unknown)');
  });
});

describe('endpointFor', () => {
  const none = { insecureRegistries: [] };
  it('speaks HTTPS, except to loopback and to insecure registries', () => {
    expect(endpointFor('docker.io', none)).toEqual({ domain: 'docker.io', origin: 'https://registry-1.docker.io', host: 'registry-1.docker.io', port: 443 });
    expect(endpointFor('registry.lab:5000', none).origin).toBe('https://registry.lab:5000');
    expect(endpointFor('registry.lab:5000', { insecureRegistries: ['registry.lab:5000'] }).origin).toBe('http://registry.lab:5000');
    expect(endpointFor('127.0.0.1:5000', none)).toMatchObject({ origin: 'http://127.0.0.1:5000', host: '127.0.0.1', port: 5000 });
    expect(endpointFor('127.8.9.10', none)).toMatchObject({ origin: 'http://127.8.9.10', port: 80 });
    expect(endpointFor('localhost:5000', none).origin).toBe('http://localhost:5000');
    expect(endpointFor('[::1]:5000', none)).toMatchObject({ origin: 'http://[::1]:5000', host: '::1', port: 5000 });
    expect(endpointFor('127.example.com', none).origin).toBe('https://127.example.com');
  });
});

describe('endpointsFor', () => {
  const mirrors = { insecureRegistries: [], registryMirrors: ['http://127.0.0.1:5000', 'https://mirror.lab'] };
  it('asks Docker Hub\'s mirrors first, in order, each in its own scheme, and no mirror for other registries', () => {
    expect(endpointsFor('docker.io', mirrors).map((endpoint) => endpoint.origin)).toEqual(['http://127.0.0.1:5000', 'https://mirror.lab', 'https://registry-1.docker.io']);
    expect(endpointsFor('docker.io', mirrors)[1]).toEqual({ domain: 'mirror.lab', origin: 'https://mirror.lab', host: 'mirror.lab', port: 443 });
    expect(endpointsFor('registry.lab:5000', mirrors).map((endpoint) => endpoint.origin)).toEqual(['https://registry.lab:5000']);
  });
});
