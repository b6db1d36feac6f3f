// `tsrun push` for real, as root, to docker-registry instances on loopback:
// the image goes up and comes back identical (pulled by skopeo and by tsrun),
// blobs the registry has are not sent again, blobs another repository there
// has are mounted, big blobs go up in chunks, and a registry that wants a
// password gets one.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findImage } from '../../src/store/images.js';
import { storePaths, type StorePaths } from '../../src/store/paths.js';
import { parseReference } from '../../src/image/reference.js';
import { pushImage } from '../../src/registry/push.js';
import { realSyscalls } from '../../src/kernel/native.js';
import { tsrun } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { blobFile, demoLayout, dockerArchiveFromLayout, readLayout, tempDir, umociLayout } from '../helpers/images.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('tsrun push (as root)', () => {
  let registry: TestRegistry;
  let images: string;
  let work: string;
  let paths: StorePaths;
  const cli = (...args: string[]) => tsrun(paths.root, args, { env: { DOCKER_CONFIG: work } });
  const ok = (...args: string[]) => {
    const result = cli(...args);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return result.stdout;
  };
  const skopeoCopy = (from: string, layout: string) =>
    execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${from}`, `oci:${layout}:t`], { stdio: 'pipe' });

  beforeAll(async () => {
    images = tempDir('push-images');
    registry = await startRegistry();
    await demoLayout(path.join(images, 'demo'));
    umociLayout(path.join(images, 'umoci'), 't');
  });
  afterAll(async () => {
    await registry?.stop();
    fs.rmSync(images, { recursive: true, force: true });
  });
  beforeEach(() => {
    work = tempDir('push');
    paths = storePaths(path.join(work, 'store'));
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('pushes an image that comes back identical, to skopeo and to tsrun', () => {
    const { index, manifest } = readLayout(path.join(images, 'demo'));
    ok('load', '-i', path.join(images, 'demo'));
    ok('tag', 'tsrun-demo', `${registry.host}/class/demo:v1`);
    const short = manifest.layers[0]!.digest.slice(7, 19);
    const digest = index.manifests[0]!.digest;
    expect(ok('push', `${registry.host}/class/demo:v1`).split('\n')).toEqual([
      `The push refers to repository [${registry.host}/class/demo]`,
      `${short}: Preparing`,
      `${short}: Pushed`,
      `v1: digest: ${digest} size: ${index.manifests[0]!.size}`,
      '',
    ]);
    expect(findImage(paths, `${registry.host}/class/demo:v1`)!.repoDigests).toContain(`${registry.host}/class/demo@${digest}`);

    // skopeo fetches the very bytes: same manifest, same layer blob.
    const copy = path.join(work, 'copy');
    skopeoCopy(`${registry.host}/class/demo:v1`, copy);
    const back = readLayout(copy);
    expect(back.index.manifests[0]!.digest).toBe(digest);
    expect(fs.readFileSync(blobFile(copy, manifest.layers[0]!.digest))).toEqual(fs.readFileSync(blobFile(path.join(images, 'demo'), manifest.layers[0]!.digest)));

    // tsrun, into another store, gets the same image.
    const other = tsrun(path.join(work, 'other'), ['pull', '-q', `${registry.host}/class/demo:v1`]);
    expect(other).toMatchObject({ status: 0, stderr: '' });
    expect(findImage(storePaths(path.join(work, 'other')), `${registry.host}/class/demo:v1`)!.id).toBe(findImage(paths, 'tsrun-demo')!.id);

    // A second push sends no blob again.
    expect(ok('push', `${registry.host}/class/demo:v1`)).toContain(`${short}: Layer already exists`);
  });

  it('mounts blobs from another repository of the same registry instead of uploading them', () => {
    ok('load', '-i', path.join(images, 'umoci'), '--name', `${registry.host}/class/umoci`);
    ok('push', `${registry.host}/class/umoci:t`);
    ok('tag', `${registry.host}/class/umoci:t`, `${registry.host}/student/umoci:t`);
    const pushed = ok('push', `${registry.host}/student/umoci:t`);
    const layers = readLayout(path.join(images, 'umoci')).manifest.layers;
    for (const layer of layers) expect(pushed).toContain(`${layer.digest.slice(7, 19)}: Mounted from class/umoci`);
    skopeoCopy(`${registry.host}/student/umoci:t`, path.join(work, 'copy'));
    expect(readLayout(path.join(work, 'copy')).manifest.layers.map((layer) => layer.digest)).toEqual(layers.map((layer) => layer.digest));
  });

  it('pushes an image loaded from a docker-archive (which has no manifest) with a Docker schema 2 manifest', () => {
    const archive = dockerArchiveFromLayout(path.join(images, 'demo'), 'latest', path.join(work, 'demo.tar'), 'archived:v1');
    ok('load', '-i', archive);
    ok('tag', 'archived:v1', `${registry.host}/archived:v1`);
    ok('push', '-q', `${registry.host}/archived:v1`);
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/archived:v1`], { encoding: 'utf8' }));
    expect(inspected.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const other = tsrun(path.join(work, 'other'), ['pull', '-q', `${registry.host}/archived:v1`]);
    expect(other).toMatchObject({ status: 0, stderr: '' });
    expect(findImage(storePaths(path.join(work, 'other')), `${registry.host}/archived:v1`)!.id).toBe(findImage(paths, 'archived:v1')!.id);
  });

  it('uploads a blob larger than a chunk in PATCHes, then a PUT', async () => {
    ok('load', '-i', path.join(images, 'demo'));
    const requests: string[] = [];
    const proxy = await recordingProxy(registry.host, requests);
    try {
      ok('tag', 'tsrun-demo', `${proxy.host}/chunked:v1`);
      const layer = findImage(paths, 'tsrun-demo')!.layers[0]!;
      const chunkSize = Math.ceil(layer.size / 3);
      await pushImage(realSyscalls, paths, parseReference(`${proxy.host}/chunked:v1`), { chunkSize });
      const patches = requests.filter((request) => request.startsWith('PATCH'));
      expect(patches).toEqual([
        `PATCH 0-${chunkSize - 1}`,
        `PATCH ${chunkSize}-${2 * chunkSize - 1}`,
      ]);
      expect(requests.filter((request) => request.startsWith('PUT'))).toEqual([
        `PUT blob ${layer.size - 2 * chunkSize} bytes`, // the layer's last part closes its upload
        expect.stringMatching(/^PUT blob \d+ bytes$/), // the config, small: in one request
        'PUT manifest',
      ]);
    } finally {
      await proxy.close();
    }
    skopeoCopy(`${registry.host}/chunked:v1`, path.join(work, 'copy'));
    expect(readLayout(path.join(work, 'copy')).index.manifests[0]!.digest).toBe(findImage(paths, 'tsrun-demo')!.manifestDigest);
  });

  it('refuses what cannot be pushed, before any network call', () => {
    ok('load', '-i', path.join(images, 'demo'));
    const untagged = cli('push', `${registry.host}/nothing:here`);
    expect(untagged.status).toBe(125);
    expect(untagged.stderr).toContain(`an image does not exist locally with the tag: ${registry.host}/nothing:here`);
    const byDigest = cli('push', `${registry.host}/demo@sha256:${'a'.repeat(64)}`);
    expect(byDigest.status).toBe(125);
    expect(byDigest.stderr).toContain('a push needs a tag, not a digest');
  });
});

describe.skipIf(!asRoot)('tsrun push to a registry that wants a password (as root)', () => {
  const user = { username: 'teacher', password: 'push-secret' };
  let registry: TestRegistry;
  let work: string;
  let root: string;

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: user });
  });
  afterAll(async () => {
    await registry?.stop();
  });
  beforeEach(() => {
    work = tempDir('push-auth');
    root = path.join(work, 'store');
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('asks for credentials, then pushes with those of tsrun login', async () => {
    const cli = (...args: string[]) => tsrun(root, args, { env: { DOCKER_CONFIG: work } });
    await demoLayout(path.join(work, 'demo'));
    expect(cli('load', '-i', path.join(work, 'demo')).status).toBe(0);
    expect(cli('tag', 'tsrun-demo', `${registry.host}/private/demo:v1`).status).toBe(0);
    const anonymous = cli('push', `${registry.host}/private/demo:v1`);
    expect(anonymous.status).toBe(125);
    expect(anonymous.stderr).toContain(`unauthorized: ${registry.host} wants credentials to push to private/demo`);
    const login = tsrun(root, ['login', '-u', user.username, '--password-stdin', registry.host], { input: `${user.password}\n`, env: { DOCKER_CONFIG: work } });
    expect(login.status).toBe(0);
    expect(cli('push', '-q', `${registry.host}/private/demo:v1`)).toMatchObject({ status: 0, stderr: '', stdout: `${registry.host}/private/demo:v1\n` });
  });
});

/** A loopback proxy in front of the registry that notes each write: how the upload was cut up. */
async function recordingProxy(target: string, requests: string[]): Promise<{ host: string; close(): Promise<void> }> {
  const [targetHost, targetPort] = target.split(':');
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      if (request.method === 'PATCH') requests.push(`PATCH ${request.headers['content-range']}`);
      if (request.method === 'PUT') requests.push(request.url!.includes('/manifests/') ? 'PUT manifest' : `PUT blob ${body.length} bytes`);
      // The Host header goes through unchanged, so the registry's Locations point back at this proxy.
      const upstream = http.request({ host: targetHost, port: Number(targetPort), method: request.method, path: request.url, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      });
      upstream.on('error', () => response.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
