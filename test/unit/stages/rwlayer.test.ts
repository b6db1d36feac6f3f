// The rw layer stage plans an overlay and makes its directories; the child mounts it (no root needed here).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lowerDirs, rwlayer, upperDir } from '../../../src/stages/rwlayer.js';
import type { ContainerRecord } from '../../../src/container.js';
import { containerDir, containerRunDir, layerDir } from '../../../src/store/paths.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';

const bottom = 'sha256:' + '1'.repeat(64);
const top = 'sha256:' + '2'.repeat(64);

function container(layers = [bottom, top]): ContainerRecord {
  return {
    id: 'f'.repeat(64), name: 'test', created: new Date().toISOString(),
    image: { id: 'sha256:' + 'a'.repeat(64), name: 'demo', layers },
    config: { argv: ['sh'], env: [], workingDir: '/', user: '', hostname: 'box', tty: false, interactive: false, autoRemove: false, network: 'none' },
    state: { status: 'created', pid: null, pidStartTime: null, exitCode: null, startedAt: null, finishedAt: null, error: '' },
  };
}

describe('rw layer stage', () => {
  let store: ReturnType<typeof tempStore>;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  beforeEach(() => {
    store = tempStore();
    runtime = { sys: fakeSyscalls(), paths: store };
    for (const diffId of [bottom, top]) fs.mkdirSync(layerDir(store, diffId), { recursive: true });
  });
  afterEach(() => store.remove());

  it('stacks the image layers topmost first under a per-container upper dir', async () => {
    const plan = await rwlayer(runtime, container());
    expect(plan.lowerdirs).toEqual([layerDir(store, top), layerDir(store, bottom)]);
    expect(plan.lowerdirs).toEqual(lowerDirs(store, container()));
    expect(plan.steps).toEqual([{
      op: 'mount', source: 'overlay', target: plan.mountpoint, fstype: 'overlay', flags: [],
      data: `lowerdir=${plan.lowerdirs.join(':')},upperdir=${plan.upperdir},workdir=${plan.workdir}`,
    }]);
    expect(runtime.sys.calls).toEqual([]); // planning mounts nothing: the child does
  });

  it('keeps the upper and work dirs with the container, the mount point in the run dir, and makes all three', async () => {
    const c = container();
    const plan = await rwlayer(runtime, c);
    expect(plan.upperdir).toBe(upperDir(store, c));
    expect(plan.upperdir).toBe(path.join(containerDir(store, c.id), 'upper'));
    expect(plan.workdir).toBe(path.join(containerDir(store, c.id), 'work'));
    expect(plan.mountpoint).toBe(path.join(containerRunDir(store, c.id), 'rootfs'));
    for (const dir of [plan.upperdir, plan.workdir, plan.mountpoint]) expect(fs.statSync(dir).isDirectory(), dir).toBe(true);
  });

  it('keeps what an earlier start wrote: the next start gets the same upper dir, with its files', async () => {
    const c = container();
    const first = await rwlayer(runtime, c);
    fs.writeFileSync(path.join(first.upperdir, 'note'), 'hi');
    fs.rmSync(containerRunDir(store, c.id), { recursive: true }); // released between the two starts
    const second = await rwlayer(runtime, c);
    expect(second.upperdir).toBe(first.upperdir);
    expect(fs.readFileSync(path.join(second.upperdir, 'note'), 'utf8')).toBe('hi');
  });

  it('names a missing layer, and makes nothing', async () => {
    fs.rmSync(layerDir(store, top), { recursive: true });
    await expect(rwlayer(runtime, container())).rejects.toThrow(/layer .*2222.* of image demo is missing/);
    expect(fs.existsSync(containerDir(store, container().id))).toBe(false);
  });

  it('refuses an image with more layers than one overlay mount can name', async () => {
    const many = Array.from({ length: 60 }, (_, i) => 'sha256:' + i.toString(16).padStart(64, '0'));
    for (const diffId of many) fs.mkdirSync(layerDir(store, diffId), { recursive: true });
    await expect(rwlayer(runtime, container(many))).rejects.toThrow('image demo has too many layers (60) for one overlay mount');
    // Fewer fit: the options stay under the kernel's one page.
    const plan = await rwlayer(runtime, container(many.slice(0, 20)));
    expect((plan.steps[0] as { data: string }).data.length).toBeLessThan(4096);
  });
});
