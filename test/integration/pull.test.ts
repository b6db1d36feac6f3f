// `tsrun pull` and `tsrun run` pulling for real, as root, from real
// docker-registry instances on loopback that skopeo filled: OCI and Docker
// schema 2 manifests, an index with two platforms, zstd layers, umoci's
// image with a whiteout; one registry that wants a password; and a crafted
// registry (a tiny node server) that lies about a digest.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listImages } from '../../src/store/images.js';
import { blobPath, layerDir, storePaths, type StorePaths } from '../../src/store/paths.js';
import { MEDIA_TYPES, type ImageIndex } from '../../src/image/oci.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { TSRUN, tsrun, hostSnapshot, linksGone } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { parseOtlpLines, plainValue, spanTreeLines, spansOf } from '../../src/trace/otlp-json.js';
import { blobFile, demoLayout, readLayout, recompressWithZstd, sha256, tempDir, treeOf, umociLayout, writeBlob } from '../helpers/images.js';
import { humanSize } from '../../src/cli/pull-progress.js';

const asRoot = process.getuid?.() === 0;
const hasTmux = (() => { try { execFileSync('tmux', ['-V']); return true; } catch { return false; } })();

describe.skipIf(!asRoot)('tsrun pull (as root)', () => {
  let registry: TestRegistry;
  let images: string;
  let work: string;
  let paths: StorePaths;
  const cli = (...args: string[]) => tsrun(paths.root, args, { env: { DOCKER_CONFIG: work } });

  beforeAll(async () => {
    images = tempDir('pull-images');
    registry = await startRegistry();
    await demoLayout(path.join(images, 'demo'));
    registry.push(path.join(images, 'demo'), 'latest', 'demo:latest');
    registry.push(path.join(images, 'demo'), 'latest', 'demo:v2s2', { format: 'v2s2' });
    umociLayout(path.join(images, 'umoci'), 't');
    registry.push(path.join(images, 'umoci'), 't', 'umoci:t');
    fs.cpSync(path.join(images, 'demo'), path.join(images, 'zstd'), { recursive: true });
    recompressWithZstd(path.join(images, 'zstd'));
    registry.push(path.join(images, 'zstd'), 'latest', 'zstd:latest');
    twoPlatformLayout(path.join(images, 'demo'), path.join(images, 'multi'));
    registry.push(path.join(images, 'multi'), 'latest', 'multi:latest', { all: true });
  });
  afterAll(async () => {
    await registry?.stop();
    fs.rmSync(images, { recursive: true, force: true });
  });
  beforeEach(() => {
    work = tempDir('pull');
    paths = storePaths(path.join(work, 'store'));
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('pulls an OCI image: progress lines, the record, blobs and layer in the store', () => {
    const { manifest, config } = readLayout(path.join(images, 'demo'));
    const result = cli('pull', `${registry.host}/demo`);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const short = manifest.layers[0]!.digest.slice(7, 19);
    expect(result.stdout.split('\n')).toEqual([
      'latest: Pulling from demo',
      `${short}: Pulling fs layer`,
      `${short}: Downloading`,
      `${short}: Download complete`,
      `${short}: Pull complete`,
      expect.stringMatching(/^Digest: sha256:[a-f0-9]{64}$/),
      `Status: Downloaded newer image for ${registry.host}/demo:latest`,
      `${registry.host}/demo:latest`,
      '',
    ]);
    const [image] = listImages(paths);
    expect(image).toMatchObject({
      id: manifest.config.digest,
      repoTags: [`${registry.host}/demo:latest`],
      repoDigests: [`${registry.host}/demo@${result.stdout.match(/Digest: (\S+)/)![1]}`],
      layers: [{ digest: manifest.layers[0]!.digest, diffId: config.rootfs.diff_ids[0], mediaType: MEDIA_TYPES.ociLayerGzip }],
    });
    for (const digest of [image!.id, image!.manifestDigest!, image!.layers[0]!.digest]) expect(fs.existsSync(blobPath(paths, digest))).toBe(true);
    expect(fs.readFileSync(path.join(layerDir(paths, config.rootfs.diff_ids[0]!), 'etc', 'passwd'), 'utf8')).toContain('student');
    expect(fs.readdirSync(path.join(paths.root, 'tmp'))).toEqual([]);

    const digests = cli('images', '--digests');
    expect(digests.stdout).toContain(image!.repoDigests[0]!.split('@')[1]);
  });

  it('traces a pull: manifest, config and each layer (download and unpack) as spans, with digests, sizes and media types', () => {
    const { manifest } = readLayout(path.join(images, 'demo'));
    const file = path.join(work, 'pull.json');
    expect(cli('--trace=' + file, 'pull', '-q', `${registry.host}/demo`).status).toBe(0);
    const spans = spansOf(parseOtlpLines(fs.readFileSync(file.replace(/\.json$/, '.otlp.jsonl'), 'utf8'))).map((s) => s.span);
    expect(spanTreeLines(spans)).toEqual([
      'tsrun pull',
      '  tsrun.pull',
      '    tsrun.registry.manifest',
      '    tsrun.pull.config',
      '      tsrun.registry.blob',
      '    tsrun.pull.layer',
      '      tsrun.registry.blob',
      '      tsrun.pull.unpack',
    ]);
    const attributes = (name: string) => Object.fromEntries(spans.find((s) => s.name === name)!.attributes!.map((kv) => [kv.key, plainValue(kv.value)]));
    expect(attributes('tsrun.pull')).toMatchObject({
      'oci.manifest.digest': expect.stringMatching(/^sha256:/),
      'container.image.tags': [`${registry.host}/demo:latest`],
      'container.image.repo_digests': [expect.stringMatching(new RegExp(`^${registry.host}/demo@sha256:`))],
    });
    expect(attributes('tsrun.pull.layer')).toMatchObject({
      'tsrun.blob.digest': manifest.layers[0]!.digest, 'tsrun.blob.size': manifest.layers[0]!.size,
      'tsrun.blob.media_type': MEDIA_TYPES.ociLayerGzip, 'tsrun.layer.already_exists': false,
      'tsrun.layer.unpacked_size': expect.any(Number),
    });
    expect(attributes('tsrun.registry.manifest')).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200, 'server.address': '127.0.0.1' });
  });

  it('pulls again without fetching a layer: Already exists, Image is up to date', () => {
    expect(cli('pull', '-q', `${registry.host}/demo`).stdout).toBe(`${registry.host}/demo:latest\n`);
    const again = cli('pull', `${registry.host}/demo`);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/: Already exists\n/);
    expect(again.stdout).not.toMatch(/Downloading/);
    expect(again.stdout).toContain(`Status: Image is up to date for ${registry.host}/demo:latest`);
    // The same layer under another manifest (Docker schema 2) is not fetched either.
    const v2s2 = cli('pull', `${registry.host}/demo:v2s2`);
    expect(v2s2.status).toBe(0);
    expect(v2s2.stdout).toMatch(/: Already exists\n/);
    expect(v2s2.stdout).toContain(`Status: Downloaded newer image for ${registry.host}/demo:v2s2`);
  });

  it('pulls a Docker schema 2 image', () => {
    const result = cli('pull', '-q', `${registry.host}/demo:v2s2`);
    expect(result.stderr).toBe('');
    const [image] = listImages(paths);
    expect(image!.layers[0]!.mediaType).toBe(MEDIA_TYPES.dockerLayerGzip);
    const manifest = JSON.parse(fs.readFileSync(blobPath(paths, image!.manifestDigest!), 'utf8'));
    expect(manifest.mediaType).toBe(MEDIA_TYPES.dockerManifest);
  });

  it('pulls a docker.io image from the first registry mirror that answers', () => {
    registry.push(path.join(images, 'demo'), 'latest', 'mirrored/demo:latest');
    fs.mkdirSync(paths.root, { recursive: true });
    // Both mirrors are on loopback and the second has the image, so Docker Hub itself is never asked.
    fs.writeFileSync(path.join(paths.root, 'config.json'), JSON.stringify({ 'registry-mirrors': ['http://127.0.0.1:1', `http://${registry.host}`] }));
    const result = cli('pull', 'mirrored/demo');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`mirror http://127.0.0.1:1 failed (cannot reach registry 127.0.0.1:1: connection refused); trying http://${registry.host}`);
    expect(result.stdout).toContain('Status: Downloaded newer image for mirrored/demo:latest');
    expect(listImages(paths)[0]!.repoTags).toEqual(['docker.io/mirrored/demo:latest']);
  });

  it('says the disk is full when it fills mid-pull, and stores nothing', () => {
    // A store on a tmpfs smaller than the demo layer unpacked (about 2 MB).
    const small = path.join(work, 'small');
    fs.mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1200k', 'tmpfs', small]);
    try {
      const result = tsrun(small, ['pull', '-q', `${registry.host}/demo`]);
      expect(result.status).toBe(125);
      expect(result.stderr).toContain(`no space left on the device that holds ${small}`);
      expect(result.stderr).toContain('nothing was stored');
      expect(storeTree(storePaths(small))).toEqual([]);
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('pulls zstd layers and umoci\'s two layers with a whiteout', () => {
    expect(cli('pull', '-q', `${registry.host}/zstd`).status).toBe(0);
    expect(listImages(paths)[0]!.layers[0]!.mediaType).toBe(MEDIA_TYPES.ociLayerZstd);
    expect(cli('pull', '-q', `${registry.host}/umoci:t`).status).toBe(0);
    const umoci = listImages(paths).find((image) => image.repoTags.includes(`${registry.host}/umoci:t`))!;
    expect(umoci.layers).toHaveLength(2);
    const whiteout = fs.lstatSync(path.join(layerDir(paths, umoci.layers[1]!.diffId), 'etc', 'doomed'));
    expect(whiteout.isCharacterDevice() && whiteout.rdev === 0).toBe(true);
  });

  it('picks the platform from an index: the host\'s by default, --platform otherwise, an error listing the others', () => {
    const result = cli('pull', '-q', `${registry.host}/multi`);
    expect(result.stderr).toBe('');
    expect(listImages(paths)[0]!.config.architecture).toBe('amd64');
    expect(cli('pull', '-q', '--platform', 'linux/arm64', `${registry.host}/multi`).status).toBe(0);
    expect(listImages(paths).map((image) => image.config.architecture).sort()).toEqual(['amd64', 'arm64']);

    const before = storeTree(paths);
    const missing = cli('pull', '--platform', 'linux/s390x', `${registry.host}/multi`);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toContain('has no image for linux/s390x (it has: linux/amd64, linux/arm64)');
    expect(storeTree(paths)).toEqual(before);
  });

  it('runs a container from an image it pulls', async () => {
    const host = hostSnapshot();
    const result = cli('run', '--rm', `${registry.host}/demo`, 'echo', 'pulled and ran');
    expect(result.stdout).toBe('pulled and ran\n');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`Unable to find image '${registry.host}/demo:latest' locally`);
    expect(result.stderr).toContain('Pull complete');

    const second = cli('run', '--rm', `${registry.host}/demo`, 'true');
    expect([second.status, second.stderr]).toEqual([0, '']);
    await linksGone(() => hostSnapshot().links.filter((link) => !host.links.includes(link)));
    expect(hostSnapshot()).toEqual(host);
  });

  it('tags a pulled image, and refuses a digest as the new name', () => {
    expect(cli('pull', '-q', `${registry.host}/demo`).status).toBe(0);
    expect(cli('tag', `${registry.host}/demo`, 'mine/demo:1')).toMatchObject({ status: 0, stderr: '' });
    expect(listImages(paths)[0]!.repoTags.sort()).toEqual([`${registry.host}/demo:latest`, 'docker.io/mine/demo:1']);
    expect(cli('run', '--rm', 'mine/demo:1', 'true')).toMatchObject({ status: 0, stderr: '' });
    const digest = cli('tag', 'mine/demo:1', `mine/demo@sha256:${'a'.repeat(64)}`);
    expect(digest.status).toBe(125);
    expect(digest.stderr).toContain('refusing to create a tag with a digest reference');
    expect(cli('tag', 'nothing:here', 'mine/demo:2').stderr).toContain('no such image: nothing:here');
  });

  it('refuses a bad reference before any network call, and names what the registry lacks', () => {
    const bad = cli('pull', `${registry.host}/Demo`);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toMatch(/invalid reference/);
    const noTag = cli('pull', `${registry.host}/demo:nope`);
    expect(noTag.status).toBe(125);
    expect(noTag.stderr).toContain(`manifest unknown: ${registry.host}/demo has no nope`);
    const refused = cli('pull', '127.0.0.1:1/demo');
    expect(refused.status).toBe(125);
    expect(refused.stderr).toContain('cannot reach registry 127.0.0.1:1: connection refused');
    expect(listImages(paths)).toEqual([]);
  });
});

describe.skipIf(!asRoot)('tsrun pull from a registry that wants a password (as root)', () => {
  const user = { username: 'student', password: 'correct horse' };
  let registry: TestRegistry;
  let images: string;
  let work: string;
  let paths: StorePaths;
  const cli = (...args: string[]) => tsrun(paths.root, args, { env: { DOCKER_CONFIG: path.join(work, 'docker') } });
  const writeAuth = (file: string, username: string, password: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } }));
  };

  beforeAll(async () => {
    images = tempDir('pull-auth-images');
    registry = await startRegistry({ htpasswd: user });
    await demoLayout(path.join(images, 'demo'));
    registry.push(path.join(images, 'demo'), 'latest', 'private/demo:latest');
  });
  afterAll(async () => {
    await registry?.stop();
    fs.rmSync(images, { recursive: true, force: true });
  });
  beforeEach(() => {
    work = tempDir('pull-auth');
    paths = storePaths(path.join(work, 'store'));
    fs.mkdirSync(paths.root, { recursive: true });
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('asks for credentials when it has none, and refuses wrong ones; nothing is stored', () => {
    const before = storeTree(paths);
    const none = cli('pull', `${registry.host}/private/demo`);
    expect(none.status).toBe(125);
    expect(none.stderr).toContain(`unauthorized: ${registry.host} wants credentials to pull private/demo`);
    writeAuth(path.join(paths.root, 'config.json'), 'student', 'wrong');
    const wrong = cli('pull', `${registry.host}/private/demo`);
    expect(wrong.status).toBe(125);
    expect(wrong.stderr).toContain(`unauthorized: ${registry.host} refused the credentials of student`);
    fs.rmSync(path.join(paths.root, 'config.json'));
    expect(storeTree(paths)).toEqual(before);
  });

  it('logs in: wrong credentials are refused and not kept, right ones are kept 0600 and used', () => {
    const login = (password: string) => tsrun(paths.root, ['login', '-u', 'student', '--password-stdin', registry.host], { input: `${password}\n`, env: { DOCKER_CONFIG: path.join(work, 'docker') } });
    const wrong = login('wrong');
    expect(wrong.status).toBe(125);
    expect(wrong.stderr).toContain(`unauthorized: ${registry.host} refused the credentials of student`);
    expect(fs.existsSync(path.join(paths.root, 'config.json'))).toBe(false);

    expect(login(user.password)).toMatchObject({ status: 0, stdout: 'Login Succeeded\n' });
    const config = path.join(paths.root, 'config.json');
    expect(fs.statSync(config).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(config, 'utf8')).auths[registry.host].auth).toBe(Buffer.from(`student:${user.password}`).toString('base64'));
    expect(cli('pull', '-q', `${registry.host}/private/demo`)).toMatchObject({ status: 0, stderr: '' });
  });

  it('pulls with credentials from tsrun\'s config, or from Docker\'s', () => {
    writeAuth(path.join(paths.root, 'config.json'), user.username, user.password);
    expect(cli('pull', '-q', `${registry.host}/private/demo`).stderr).toBe('');
    fs.rmSync(path.join(paths.root, 'config.json'));
    writeAuth(path.join(work, 'docker', 'config.json'), user.username, user.password);
    const fromDocker = cli('pull', `${registry.host}/private/demo`);
    expect(fromDocker.stderr).toBe('');
    expect(fromDocker.stdout).toContain('Image is up to date');
  });
});

describe.skipIf(!asRoot)('tsrun pull from a registry that lies (as root)', () => {
  let images: string;
  let work: string;
  let paths: StorePaths;
  let server: http.Server;
  let host: string;
  /** path -> [content type, body, extra headers] */
  let routes: Map<string, { type: string; body: Buffer; headers?: Record<string, string>; stall?: boolean; endless?: boolean }>;
  /** The endless routes' responses: which were asked for, and are still being served. */
  let endless: { closed: boolean }[];
  /** The CLI as a child we wait for without blocking: this process serves its requests. */
  const cli = (...args: string[]) => cliWatching(args, () => {});
  const cliWatching = (args: string[], watch: (stdout: string, child: ChildProcess) => void) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [TSRUN, ...args], { env: { ...process.env, NO_COLOR: '1', DOCKER_CONFIG: work, TSRUN_ROOT: paths.root } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      watch(stdout, child);
    });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });

  beforeAll(async () => {
    images = tempDir('pull-bad-images');
    await demoLayout(path.join(images, 'demo'));
    server = http.createServer((request, response) => {
      const route = request.url === '/v2/' ? { type: 'application/json', body: Buffer.from('{}') } : routes.get(request.url ?? '');
      if (!route) {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: 'no' }] }));
        return;
      }
      if (route.endless) {
        // Its body, again and again, chunked (no Content-Length), for as long as anyone reads.
        const served = { closed: false };
        endless.push(served);
        response.on('close', () => { served.closed = true; });
        response.on('error', () => {}); // the client hanging up is what the test wants
        response.writeHead(200, { 'content-type': route.type });
        const pump = () => {
          while (!served.closed && response.write(route.body));
        };
        response.on('drain', pump);
        pump();
        return;
      }
      response.writeHead(200, { 'content-type': route.type, 'content-length': route.body.length, ...route.headers });
      // A stalled route sends half its body, then nothing: a pull that never ends unless interrupted.
      if (route.stall) response.write(route.body.subarray(0, route.body.length >> 1));
      else response.end(route.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(images, { recursive: true, force: true });
  });
  beforeEach(() => {
    work = tempDir('pull-bad');
    paths = storePaths(path.join(work, 'store'));
    fs.mkdirSync(paths.root, { recursive: true });
    endless = [];
    const { index, manifest } = readLayout(path.join(images, 'demo'));
    const read = (digest: string) => fs.readFileSync(blobFile(path.join(images, 'demo'), digest));
    const manifestDigest = index.manifests[0]!.digest;
    routes = new Map([
      [`/v2/demo/manifests/latest`, { type: MEDIA_TYPES.ociManifest, body: read(manifestDigest), headers: { 'docker-content-digest': manifestDigest } }],
      [`/v2/demo/blobs/${manifest.config.digest}`, { type: 'application/octet-stream', body: read(manifest.config.digest) }],
      [`/v2/demo/blobs/${manifest.layers[0]!.digest}`, { type: 'application/octet-stream', body: read(manifest.layers[0]!.digest) }],
    ]);
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('pulls from it while it tells the truth', async () => {
    expect((await cli('pull', '-q', `${host}/demo`)).stderr).toBe('');
  });

  it('refuses a manifest whose digest does not match, naming the digest; the store is unchanged', async () => {
    const claimed = `sha256:${'0'.repeat(64)}`;
    routes.get('/v2/demo/manifests/latest')!.headers = { 'docker-content-digest': claimed };
    const before = storeTree(paths);
    const result = await cli('pull', `${host}/demo`);
    expect(result.status).toBe(125);
    expect(result.stderr).toContain(`manifest ${claimed} does not match its digest`);
    expect(storeTree(paths)).toEqual(before);
  });

  it('refuses a layer whose bytes do not match its digest; the store is unchanged', async () => {
    const { manifest } = readLayout(path.join(images, 'demo'));
    const layer = routes.get(`/v2/demo/blobs/${manifest.layers[0]!.digest}`)!;
    layer.body = Buffer.from(layer.body);
    layer.body[layer.body.length >> 1]! ^= 1;
    const before = storeTree(paths);
    const result = await cli('pull', `${host}/demo`);
    expect(result.status).toBe(125);
    expect(result.stderr).toContain(`layer ${manifest.layers[0]!.digest} does not match its digest`);
    expect(storeTree(paths)).toEqual(before);
  });

  it('cuts off a blob longer than its descriptor says, however long it goes on; the store is unchanged', async () => {
    const { manifest } = readLayout(path.join(images, 'demo'));
    const layer = manifest.layers[0]!;
    routes.get(`/v2/demo/blobs/${layer.digest}`)!.endless = true;
    const before = storeTree(paths);
    const result = await cli('pull', `${host}/demo`);
    expect(result.status).toBe(125);
    expect(result.stderr).toContain(`layer ${layer.digest} is larger than the ${layer.size} bytes its descriptor says`);
    expect(endless.length).toBeGreaterThan(0); // it was served, and the pull still ended
    expect(storeTree(paths)).toEqual(before);
  });

  it('refuses a descriptor without a size before reading its blob, which could be endless', async () => {
    const { index, manifest } = readLayout(path.join(images, 'demo'));
    const sizeless = JSON.parse(fs.readFileSync(blobFile(path.join(images, 'demo'), index.manifests[0]!.digest), 'utf8')) as { config: { size?: number } };
    delete sizeless.config.size;
    const body = Buffer.from(JSON.stringify(sizeless));
    routes.set('/v2/demo/manifests/latest', { type: MEDIA_TYPES.ociManifest, body, headers: { 'docker-content-digest': sha256(body) } });
    routes.get(`/v2/demo/blobs/${manifest.config.digest}`)!.endless = true;
    const before = storeTree(paths);
    const result = await cli('pull', `${host}/demo`);
    expect(result.status).toBe(125);
    expect(result.stderr).toContain(`config ${manifest.config.digest} has no size in its descriptor`);
    expect(endless).toEqual([]); // never asked for
    expect(storeTree(paths)).toEqual(before);
  });

  it('refuses a blob shorter than its descriptor says, with the sizes; the store is unchanged', async () => {
    const { manifest } = readLayout(path.join(images, 'demo'));
    const layer = manifest.layers[0]!;
    const route = routes.get(`/v2/demo/blobs/${layer.digest}`)!;
    route.body = route.body.subarray(0, 100);
    const before = storeTree(paths);
    const result = await cli('pull', `${host}/demo`);
    expect(result.status).toBe(125);
    expect(result.stderr).toContain(`layer ${layer.digest} is 100 bytes, but its descriptor says ${layer.size}`);
    expect(storeTree(paths)).toEqual(before);
  });

  it('stops on Ctrl-C mid-download, leaving nothing behind', async () => {
    const { manifest } = readLayout(path.join(images, 'demo'));
    routes.get(`/v2/demo/blobs/${manifest.layers[0]!.digest}`)!.stall = true;
    const before = storeTree(paths);
    let interrupted = false;
    const result = await cliWatching(['pull', `${host}/demo`], (stdout, child) => {
      if (!interrupted && stdout.includes('Downloading')) {
        interrupted = true;
        setTimeout(() => child.kill('SIGINT'), 200); // well into the stalled download
      }
    });
    expect(interrupted).toBe(true);
    expect(result.status).toBe(125);
    expect(result.stderr).toBe('tsrun: pull interrupted — nothing was stored; run it again\n');
    expect(storeTree(paths)).toEqual(before);
  });

  describe.skipIf(!hasTmux)('on a terminal (tmux)', () => {
    const SOCKET = `tsrun-pull-test-${process.pid}`;
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
    /** The terminal's lines (but for tmux's own "Pane is dead" once tsrun has exited). */
    const screen = () => tmux('capture-pane', '-p', '-S', '-50', '-t', 'pull').split('\n').filter((line) => line !== '' && !line.startsWith('Pane is dead'));
    const paneDead = () => tmux('display-message', '-p', '-t', 'pull', '#{pane_dead}').trim() === '1';
    /** Wait (up to 10 s, serving the CLI's requests meanwhile) until `done` says the screen is as wanted. */
    const waitFor = async (done: (lines: string[]) => boolean): Promise<string[]> => {
      for (let i = 0; i < 200; i++) {
        if (done(screen())) return screen();
        await sleep(50);
      }
      throw new Error(`the terminal never showed what the test waits for:\n${screen().join('\n')}`);
    };
    const pullInTmux = () => {
      const env = `TSRUN_ROOT=${paths.root} DOCKER_CONFIG=${work} NO_COLOR=1`;
      tmux('new-session', '-d', '-s', 'pull', '-x', '120', '-y', '30', `${env} ${process.execPath} ${TSRUN} pull ${host}/demo`);
      tmux('set-option', '-t', 'pull', 'remain-on-exit', 'on'); // keep the screen to read after tsrun exits
      tmux('pipe-pane', '-t', 'pull', '-o', `cat > ${path.join(work, 'terminal.log')}`); // what tsrun wrote, escapes and all
    };
    afterEach(() => {
      try { tmux('kill-server'); } catch { /* already gone */ }
    });

    it('draws one line per layer, redrawn in place: what stays is Pull complete', async () => {
      const { manifest } = readLayout(path.join(images, 'demo'));
      pullInTmux();
      await waitFor(paneDead);
      expect(screen()).toEqual([
        'latest: Pulling from demo',
        `${manifest.layers[0]!.digest.slice(7, 19)}: Pull complete`,
        expect.stringMatching(/^Digest: sha256:[a-f0-9]{64}$/),
        `Status: Downloaded newer image for ${host}/demo:latest`,
        `${host}/demo:latest`,
      ]);
    });

    it('shows a bar while the layer arrives; Ctrl-C stops the pull and gives the cursor back', async () => {
      const { manifest } = readLayout(path.join(images, 'demo'));
      const layer = routes.get(`/v2/demo/blobs/${manifest.layers[0]!.digest}`)!;
      layer.stall = true; // half the layer, then nothing
      const before = storeTree(paths);
      pullInTmux();
      const shown = await waitFor((lines) => lines.some((line) => line.includes('[')));
      const total = layer.body.length;
      const half = total >> 1;
      const done = Math.floor((half / total) * 50);
      expect(shown).toEqual([
        'latest: Pulling from demo',
        `${manifest.layers[0]!.digest.slice(7, 19)}: Downloading [${'='.repeat(done - 1)}>${' '.repeat(50 - done)}] ${humanSize(half)}/${humanSize(total)}`,
      ]);
      tmux('send-keys', '-t', 'pull', 'C-c');
      await waitFor(paneDead);
      expect(screen()).toContain('tsrun: pull interrupted — nothing was stored; run it again');
      expect(storeTree(paths)).toEqual(before);
      // The cursor, hidden while the bars were drawn, is shown again.
      const written = fs.readFileSync(path.join(work, 'terminal.log'), 'utf8');
      const [hide, show] = ['\x1b[?25l', '\x1b[?25h'];
      expect(written).toContain(hide);
      expect(written.lastIndexOf(show)).toBeGreaterThan(written.lastIndexOf(hide));
    });
  });

  it('refuses a manifest of a media type it does not understand', async () => {
    routes.get('/v2/demo/manifests/latest')!.type = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
    const body = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'demo', tag: 'latest', fsLayers: [] }));
    routes.get('/v2/demo/manifests/latest')!.body = body;
    routes.get('/v2/demo/manifests/latest')!.headers = {};
    const result = await cli('pull', `${host}/demo`);
    expect(result.status).toBe(125);
    expect(result.stderr).toContain('media type application/vnd.docker.distribution.manifest.v1+prettyjws');
  });
});

/** The store's files, but for its staging area <root>/tmp, which must be there empty or not at all. */
function storeTree(paths: StorePaths): string[] {
  const staging = path.join(paths.root, 'tmp');
  if (fs.existsSync(staging)) expect(fs.readdirSync(staging)).toEqual([]);
  return treeOf(paths.root).filter((line) => !line.startsWith('tmp '));
}

/** An OCI layout whose index lists the demo image twice: as linux/amd64 and, with a config
 *  that says so, as linux/arm64 (same busybox layer: nobody runs it, it only has to be picked). */
function twoPlatformLayout(demo: string, dir: string): void {
  fs.cpSync(demo, dir, { recursive: true });
  const { index, manifest, config } = readLayout(dir);
  const armConfig = writeBlob(dir, manifest.config.mediaType, JSON.stringify({ ...config, architecture: 'arm64' }));
  const armManifest = writeBlob(dir, MEDIA_TYPES.ociManifest, JSON.stringify({ ...manifest, config: armConfig }));
  const amd64 = { ...index.manifests[0]!, annotations: undefined, platform: { os: 'linux', architecture: 'amd64' } };
  const arm64 = { ...armManifest, platform: { os: 'linux', architecture: 'arm64' } };
  const inner: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [amd64, arm64] };
  const innerDescriptor = writeBlob(dir, MEDIA_TYPES.ociIndex, JSON.stringify(inner));
  const top: ImageIndex = { schemaVersion: 2, manifests: [{ ...innerDescriptor, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] };
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(top));
}
