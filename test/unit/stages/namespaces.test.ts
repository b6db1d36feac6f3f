import fs from 'node:fs';
import path from 'node:path';
import { CONTROLLERS, type CgroupLayout } from '../../../src/cgroups/layout.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rwlayer } from '../../../src/stages/rwlayer.js';
import { network } from '../../../src/stages/network.js';
import { namespaces } from '../../../src/stages/namespaces.js';
import { describeStep } from '../../../src/kernel/steps.js';
import type { ContainerRecord, NetworkPlan } from '../../../src/container.js';
import { layerDir } from '../../../src/store/paths.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';

const bottom = 'sha256:' + '1'.repeat(64);
const top = 'sha256:' + '2'.repeat(64);

function container(): ContainerRecord {
  return {
    id: 'f'.repeat(64), name: 'test', created: new Date().toISOString(),
    image: { id: 'sha256:' + 'a'.repeat(64), name: 'demo', layers: [bottom, top] },
    // --network none: its plan needs no host commands (the bridge's are tested in test/unit/net).
    config: { argv: ['sh'], env: [], workingDir: '/', user: '', hostname: 'box', tty: false, interactive: false, autoRemove: false, network: 'none' },
    state: { status: 'created', pid: null, pidStartTime: null, exitCode: null, startedAt: null, finishedAt: null, error: '' },
  };
}

describe('rw layer, network and namespaces plans', () => {
  let store: ReturnType<typeof tempStore>;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  let cgroups: Extract<CgroupLayout, { version: 1 }>; // v1 trees in a directory of the test's own: the stage makes the container's cgroup there
  beforeEach(() => {
    store = tempStore();
    runtime = { sys: fakeSyscalls(), paths: store };
    cgroups = { version: 1, roots: Object.fromEntries(CONTROLLERS.map((controller) => [controller, path.join(store.root, 'cgroup', controller)])) };
    for (const dir of Object.values(cgroups.roots)) fs.mkdirSync(dir!, { recursive: true });
    for (const diffId of [bottom, top]) fs.mkdirSync(layerDir(store, diffId), { recursive: true });
  });
  afterEach(() => store.remove());

  it('stacks the image layers topmost first under a per-container upper dir', async () => {
    const plan = await rwlayer(runtime, container());
    expect(plan.lowerdirs).toEqual([layerDir(store, top), layerDir(store, bottom)]);
    expect(plan.steps).toEqual([{
      op: 'mount', source: 'overlay', target: plan.mountpoint, fstype: 'overlay', flags: [],
      data: `lowerdir=${plan.lowerdirs.join(':')},upperdir=${plan.upperdir},workdir=${plan.workdir}`,
    }]);
    expect(fs.statSync(plan.upperdir).isDirectory()).toBe(true);
    expect(runtime.sys.calls).toEqual([]); // planning mounts nothing: the child does
  });

  it('names a missing layer', async () => {
    fs.rmSync(layerDir(store, top), { recursive: true });
    await expect(rwlayer(runtime, container())).rejects.toThrow(/layer .*2222.* is missing/);
  });

  it('writes hostname, hosts and resolv.conf and brings up only loopback', async () => {
    const plan = await network(runtime, container());
    expect(plan.steps).toEqual([{ op: 'link_up', name: 'lo' }]);
    expect(fs.readFileSync(plan.files.hostname, 'utf8')).toBe('box\n');
    expect(fs.readFileSync(plan.files.hosts, 'utf8')).toMatch(/127\.0\.0\.1\tlocalhost/);
    expect(fs.readFileSync(plan.files.resolvConf, 'utf8')).not.toMatch(/nameserver\s+127\./);
  });

  it('makes mounts private first, builds the root inside the overlay, then pivots into it', async () => {
    const c = container();
    const rootfs = await rwlayer(runtime, c);
    const plan = await namespaces(runtime, c, rootfs, await network(runtime, c), cgroups);
    expect(plan.cloneFlags).toEqual(['CLONE_NEWNS', 'CLONE_NEWUTS', 'CLONE_NEWIPC', 'CLONE_NEWPID', 'CLONE_NEWNET']);
    // Right after the propagation step: into the container's cgroup, then a cgroup namespace rooted there.
    const joins = plan.cgroup.joins.map((file) => ({ op: 'write_file', path: file, data: '0' }));
    expect(plan.steps.slice(1, 2 + joins.length)).toEqual([...joins, { op: 'unshare', flags: ['CLONE_NEWCGROUP'] }]);
    for (const file of plan.cgroup.joins) expect(file).toMatch(new RegExp(`/tsrun/${c.id}/(tasks|cgroup\\.procs)$`));

    const steps = plan.steps;
    expect(steps[0]).toEqual({ op: 'mount', source: '', target: '/', fstype: '', flags: ['MS_REC', 'MS_PRIVATE'], data: '' });
    const index = (predicate: (s: (typeof steps)[number]) => boolean) => steps.findIndex(predicate);
    const overlay = index((s) => s.op === 'mount' && s.fstype === 'overlay');
    const proc = index((s) => s.op === 'mount' && s.fstype === 'proc');
    const pivot = index((s) => s.op === 'pivot_root');
    expect(overlay).toBeGreaterThan(0);
    expect(proc).toBeGreaterThan(overlay);
    expect(pivot).toBeGreaterThan(proc);
    expect(steps.slice(pivot)).toEqual([
      { op: 'pivot_root', new_root: '.', put_old: '.' },
      { op: 'umount2', target: '.', flags: ['MNT_DETACH'] },
      { op: 'chdir', path: '/' },
    ]);
    expect(steps[pivot - 1]).toEqual({ op: 'chdir', path: rootfs.mountpoint });

    // Before the pivot, everything the child creates or mounts in the container is resolved inside its root;
    // the only other path is the overlay's own mount point.
    for (const step of steps.slice(1, pivot).filter((s) => ['mount', 'mkdir', 'create_file', 'mknod', 'symlink'].includes(s.op))) {
      if ('root' in step && step.root !== undefined) expect(step.root, describeStep(step)).toBe(rootfs.mountpoint);
      else expect(step, describeStep(step)).toMatchObject({ op: 'mount', fstype: 'overlay', target: rootfs.mountpoint });
    }
    expect(steps).toContainEqual({ op: 'mknod', root: rootfs.mountpoint, path: '/dev/null', mode: 0o20666, major: 1, minor: 3 });
    expect(steps).toContainEqual({ op: 'create_file', root: rootfs.mountpoint, path: '/etc/hosts', mode: 0o644 });
    expect(steps.some((s) => s.op === 'mount' && s.fstype === 'sysfs' && s.flags.includes('MS_RDONLY'))).toBe(true);
    expect(steps.some((s) => s.op === 'sethostname' && s.name === 'box')).toBe(true);
  });

  it('joins the network namespace the network stage made instead of cloning one, and keeps the host\'s with --network host', async () => {
    const c = container();
    const rootfs = await rwlayer(runtime, c);
    const files = { hostname: '/h', hosts: '/hs', resolvConf: '/r' };
    const setns = { op: 'setns', path: '/run/tsrun/netns/x', nstype: 'CLONE_NEWNET' } as const;
    const onBridge: NetworkPlan = { mode: 'bridge', interfaces: [], namespaceFile: setns.path, files, steps: [setns] };
    const bridged = await namespaces(runtime, c, rootfs, onBridge, cgroups);
    expect(bridged.cloneFlags).toEqual(['CLONE_NEWNS', 'CLONE_NEWUTS', 'CLONE_NEWIPC', 'CLONE_NEWPID']);
    expect(bridged.steps.filter((s) => s.op === 'setns')).toEqual([setns]);
    const onHost = await namespaces(runtime, c, rootfs, { mode: 'host', interfaces: [], files, steps: [] }, cgroups);
    expect(onHost.cloneFlags).not.toContain('CLONE_NEWNET');
    expect(onHost.steps.some((s) => s.op === 'setns' || s.op === 'link_up')).toBe(false);
  });
});
