import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { create } from '../../../src/stages/create.js';
import type { RunRequest } from '../../../src/container.js';
import { DEFAULT_SECURITY } from '../../../src/security/options.js';
import type { ImageRecord } from '../../../src/store/images.js';
import { listContainers } from '../../../src/store/containers.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';
import { layerDir } from '../../../src/store/paths.js';
import { listVolumes, volumeDataDir } from '../../../src/volumes/store.js';

function image(config: Record<string, unknown>): ImageRecord {
  return {
    id: 'sha256:' + 'a'.repeat(64),
    repoTags: ['docker.io/library/demo:latest'],
    repoDigests: [],
    created: '2026-01-01T00:00:00Z',
    config: { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: ['sha256:' + 'b'.repeat(64)] } },
    layers: [{ diffId: 'sha256:' + 'b'.repeat(64), digest: 'sha256:' + 'c'.repeat(64), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 1 }],
    size: 1,
  } as unknown as ImageRecord;
}

const request = (overrides: Partial<RunRequest> = {}): RunRequest => ({
  image: 'demo', pull: 'missing', command: [], env: [], interactive: false, stdinOnce: false, tty: false, autoRemove: false, network: 'bridge', aliases: [], labels: {},
  ports: [], publishAll: false, mounts: [], readOnly: false, restart: { name: 'no', maximumRetryCount: 0 }, resources: {},
  security: DEFAULT_SECURITY, ...overrides,
});

describe('create', () => {
  let store: ReturnType<typeof tempStore>;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  beforeEach(() => {
    store = tempStore();
    runtime = { sys: fakeSyscalls(), paths: store };
  });
  afterEach(() => store.remove());

  it('stores a created container with a 64-hex id, a generated name and its hostname', async () => {
    const record = await create(runtime, image({ Cmd: ['sh'] }), request());
    expect(record.id).toMatch(/^[a-f0-9]{64}$/);
    expect(record.name).toMatch(/^[a-z]+_[a-z]+\d*$/);
    expect(record.config.hostname).toBe(record.id.slice(0, 12));
    expect(record.state.status).toBe('created');
    expect(listContainers(store).map((c) => c.id)).toEqual([record.id]);
  });

  it('builds the command as ENTRYPOINT + CMD, the way docker does', async () => {
    const img = image({ Entrypoint: ['/entry'], Cmd: ['--default'] });
    expect((await create(runtime, img, request())).config.argv).toEqual(['/entry', '--default']);
    expect((await create(runtime, img, request({ command: ['x', 'y'] }))).config.argv).toEqual(['/entry', 'x', 'y']);
    expect((await create(runtime, img, request({ entrypoint: ['ls'] }))).config.argv).toEqual(['ls']);
    expect((await create(runtime, img, request({ entrypoint: ['ls'], command: ['-l'] }))).config.argv).toEqual(['ls', '-l']);
    expect((await create(runtime, img, request({ entrypoint: [], command: ['x'] }))).config.argv).toEqual(['x']);
  });

  it('refuses a container with no command at all', async () => {
    await expect(create(runtime, image({}), request())).rejects.toThrow(/no command specified/);
    expect(listContainers(store)).toEqual([]);
  });

  it('refuses a uid out of range before any container exists', async () => {
    await expect(create(runtime, image({ Cmd: ['sh'], User: '4294967296' }), request())).rejects.toThrow(/uid 4294967296 is out of range/);
    await expect(create(runtime, image({ Cmd: ['sh'] }), request({ user: ':' }))).rejects.toThrow(/invalid user ":"/);
    expect(listContainers(store)).toEqual([]);
  });

  it('layers the environment: a default PATH and HOSTNAME, the image\'s Env, then the request\'s, later winning', async () => {
    const record = await create(runtime, image({ Cmd: ['sh'], Env: ['PATH=/image/bin', 'OVERRIDE=image', 'KEPT=1'] }),
      request({ hostname: 'box', env: ['OVERRIDE=file', 'FROM_FILE=1', 'OVERRIDE=flag'], tty: true }));
    expect(record.config.env).toEqual(['PATH=/image/bin', 'HOSTNAME=box', 'OVERRIDE=flag', 'KEPT=1', 'FROM_FILE=1', 'TERM=xterm']);
  });

  it('labels the container with the image\'s labels and the request\'s, the request\'s winning, as docker merges them', async () => {
    const record = await create(runtime, image({ Cmd: ['sh'], Labels: { team: 'image', kept: '1' } }), request({ labels: { team: 'cap', more: '' } }));
    expect(record.config.labels).toEqual({ team: 'cap', kept: '1', more: '' });
  });

  it('refuses a name that is taken, leaving the store as it was', async () => {
    await create(runtime, image({ Cmd: ['sh'] }), request({ name: 'web' }));
    await expect(create(runtime, image({ Cmd: ['sh'] }), request({ name: 'web' }))).rejects.toThrow(/"\/web" is already in use/);
    expect(listContainers(store)).toHaveLength(1);
  });

  it('publishes what the request names, and with -P every port the image exposes that it does not', async () => {
    const img = image({ Cmd: ['sh'], ExposedPorts: { '80/tcp': {}, '53/udp': {} } });
    const web = { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const };
    expect((await create(runtime, img, request({ ports: [web] }))).config.ports).toEqual([web]);
    expect((await create(runtime, img, request({ ports: [web], publishAll: true }))).config.ports)
      .toEqual([web, { hostIp: '', hostPort: 0, containerPort: 53, protocol: 'udp' }]);
  });

  it('refuses a user network that does not exist, naming the ones to use', async () => {
    await expect(create(runtime, image({ Cmd: ['sh'] }), request({ network: 'nosuchnet' }))).rejects.toThrow(/network nosuchnet not found/);
    expect(listContainers(store)).toEqual([]);
  });

  it('takes WorkingDir and User from the image unless flags say otherwise', async () => {
    const img = image({ Cmd: ['sh'], WorkingDir: '/srv', User: 'student' });
    expect((await create(runtime, img, request())).config).toMatchObject({ workingDir: '/srv', user: 'student' });
    expect((await create(runtime, img, request({ workdir: '/tmp', user: '0:0' }))).config).toMatchObject({ workingDir: '/tmp', user: '0:0' });
  });
});

describe('create: what only the image can settle, and the rest of the request', () => {
  let store: ReturnType<typeof tempStore>;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  let layer: string;
  beforeEach(() => {
    store = tempStore();
    runtime = { sys: fakeSyscalls(), paths: store };
    layer = layerDir(store, 'sha256:' + 'b'.repeat(64)); // image()'s one layer
    fs.mkdirSync(path.join(layer, 'data'), { recursive: true });
    fs.writeFileSync(path.join(layer, 'data', 'seed'), 'from the image');
  });
  afterEach(() => store.remove());

  it('makes the volumes it names: an anonymous one gets a name, and a new one starts with what the image has at its path', async () => {
    const record = await create(runtime, image({ Cmd: ['sh'] }), request({
      mounts: [{ type: 'volume', source: '', target: '/data', readOnly: false }, { type: 'volume', source: 'cache', target: '/cache', readOnly: true }],
    }));
    const [anonymous, named] = record.config.mounts!;
    expect(anonymous).toMatchObject({ type: 'volume', target: '/data', readOnly: false, source: expect.stringMatching(/^[a-f0-9]{64}$/) });
    expect(named).toEqual({ type: 'volume', source: 'cache', target: '/cache', readOnly: true });
    expect(listVolumes(store).map((volume) => [volume.Name, volume.Anonymous]).sort()).toEqual([[anonymous!.source, true], ['cache', false]].sort());
    expect(fs.readFileSync(path.join(volumeDataDir(store, anonymous!.source), 'seed'), 'utf8')).toBe('from the image');
    expect(fs.readdirSync(volumeDataDir(store, 'cache'))).toEqual([]);
  });

  it('refuses to mount on a path that is a symbolic link in the image, before any volume or container exists', async () => {
    fs.symlinkSync('/etc', path.join(layer, 'link'));
    await expect(create(runtime, image({ Cmd: ['sh'] }), request({ mounts: [{ type: 'volume', source: 'v', target: '/link/x', readOnly: false }] })))
      .rejects.toThrow('cannot mount on /link/x: /link is a symbolic link in the container');
    expect(listVolumes(store)).toEqual([]);
    expect(listContainers(store)).toEqual([]);
  });

  it('keeps the rest of the request as the container\'s config, and the image\'s STOPSIGNAL unless --stop-signal says otherwise', async () => {
    const restart = { name: 'on-failure' as const, maximumRetryCount: 3 };
    const resources = { memory: 64 << 20, pidsLimit: 10 };
    const security = { ...DEFAULT_SECURITY, capDrop: ['CAP_NET_RAW'] };
    const img = image({ Cmd: ['sh'], StopSignal: 'SIGQUIT' });
    const record = await create(runtime, img, request({ readOnly: true, restart, logMaxSize: 4096, resources, security, autoRemove: true, network: 'none', interactive: true, stdinOnce: true }));
    expect(record.config).toMatchObject({ readOnly: true, restart, logMaxSize: 4096, resources, security, autoRemove: true, network: 'none', interactive: true, stdinOnce: true, tty: false, stopSignal: 'SIGQUIT' });
    expect((await create(runtime, img, request({ stopSignal: 'SIGINT' }))).config.stopSignal).toBe('SIGINT');
    expect(record.image).toEqual({ id: img.id, name: 'demo', layers: ['sha256:' + 'b'.repeat(64)] });
  });
});

describe('listContainers', () => {
  let store: ReturnType<typeof tempStore>;
  beforeEach(() => { store = tempStore(); });
  afterEach(() => store.remove());

  it('lists the newest container first, as docker ps does', async () => {
    const runtime = { sys: fakeSyscalls(), paths: store };
    // Five, so that the store's own order (by random id) is unlikely to pass for the right one.
    for (const name of ['first', 'second', 'third', 'fourth', 'fifth']) {
      await create(runtime, image({ Cmd: ['sh'] }), request({ name }));
      await new Promise((resolve) => setTimeout(resolve, 5)); // a later creation time for the next
    }
    expect(listContainers(store).map((c) => c.name)).toEqual(['fifth', 'fourth', 'third', 'second', 'first']);
  });
});
