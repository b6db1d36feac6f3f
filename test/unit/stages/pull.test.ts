// The pull stage's --pull policies, without a registry: what is local is used,
// "never" never asks the network, and a bad name fails before any request.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pull } from '../../../src/stages/pull.js';
import { pullProgressLines } from '../../../src/registry/progress.js';
import { saveImageLocked, type ImageRecord } from '../../../src/store/images.js';
import { TsrunError } from '../../../src/errors.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';
import { startFakeRegistry, type FakeRegistry } from '../../helpers/fake-registry.js';

const local: ImageRecord = {
  id: 'sha256:' + 'a'.repeat(64),
  repoTags: ['127.0.0.1:1/demo:latest'],
  repoDigests: [],
  created: '2026-01-01T00:00:00Z',
  config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
  layers: [],
  size: 0,
};

describe('pull stage', () => {
  let store: ReturnType<typeof tempStore>;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  const lines: string[] = [];
  const progress = pullProgressLines((line) => void lines.push(line));
  beforeEach(() => {
    store = tempStore();
    runtime = { sys: fakeSyscalls(), paths: store };
    lines.length = 0;
  });
  afterEach(() => store.remove());

  it('uses the image in the store under "missing" and "never", without a word', async () => {
    saveImageLocked(store, local);
    expect((await pull(runtime, '127.0.0.1:1/demo', { progress })).id).toBe(local.id);
    expect((await pull(runtime, '127.0.0.1:1/demo', { policy: 'never', progress })).id).toBe(local.id);
    expect(lines).toEqual([]);
  });

  it('"always" asks the registry even when the store has the image', async () => {
    saveImageLocked(store, local);
    await expect(pull(runtime, '127.0.0.1:1/demo', { policy: 'always', progress })).rejects.toThrow('cannot reach registry 127.0.0.1:1: connection refused');
    expect(lines).toEqual(['latest: Pulling from demo']);
  });

  it('"never" refuses a missing image; "missing" says it will pull, then pulls', async () => {
    await expect(pull(runtime, '127.0.0.1:1/demo', { policy: 'never', progress })).rejects.toThrow("unable to find image '127.0.0.1:1/demo' locally");
    await expect(pull(runtime, '127.0.0.1:1/demo', { progress })).rejects.toThrow('cannot reach registry 127.0.0.1:1');
    expect(lines).toEqual(["Unable to find image '127.0.0.1:1/demo:latest' locally", 'latest: Pulling from demo']);
  });

  it('refuses a bad reference or platform with exit 125 before any request', async () => {
    const error = await pull(runtime, '127.0.0.1:1/Demo', { progress }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TsrunError);
    expect((error as TsrunError).exitCode).toBe(125);
    expect((error as TsrunError).message).toMatch(/invalid reference/);
    await expect(pull(runtime, '127.0.0.1:1/demo', { platform: 'linux', progress })).rejects.toThrow('invalid platform "linux"');
    expect(lines).toEqual(["Unable to find image '127.0.0.1:1/demo:latest' locally"]);
  });
});

describe('pull stage, with a registry', () => {
  let registry: FakeRegistry;
  beforeAll(async () => { registry = await startFakeRegistry(); });
  afterAll(() => registry.stop());

  let store: ReturnType<typeof tempStore>;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  const lines: string[] = [];
  const progress = pullProgressLines((line) => void lines.push(line));
  beforeEach(() => {
    store = tempStore();
    runtime = { sys: fakeSyscalls(), paths: store };
    registry.reset();
    lines.length = 0;
  });
  afterEach(() => store.remove());

  const asked = () => registry.requests.filter((url) => url !== '/v2/');

  it('"missing" pulls an image the store lacks, then finds it there the next time without asking', async () => {
    const reference = `${registry.host}/demo`;
    const pulled = await pull(runtime, reference, { progress });
    expect(pulled).toMatchObject({ id: registry.image.configDigest, repoTags: [`${reference}:latest`], repoDigests: [`${reference}@${registry.image.manifestDigest}`] });
    expect(lines[0]).toBe(`Unable to find image '${reference}:latest' locally`);
    expect(asked()).toEqual([
      '/v2/demo/manifests/latest', `/v2/demo/blobs/${registry.image.configDigest}`, `/v2/demo/blobs/${registry.image.layerDigest}`,
    ]);

    registry.requests.length = 0;
    lines.length = 0;
    expect((await pull(runtime, reference, { progress })).id).toBe(pulled.id);
    expect(registry.requests).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('"always" asks the registry again, and fetches no blob the store already has', async () => {
    const reference = `${registry.host}/demo`;
    await pull(runtime, reference, { progress });
    registry.requests.length = 0;
    expect((await pull(runtime, reference, { policy: 'always', progress })).id).toBe(registry.image.configDigest);
    expect(asked()).toEqual(['/v2/demo/manifests/latest']);
  });
});
