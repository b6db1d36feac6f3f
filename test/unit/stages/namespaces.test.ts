// The namespaces stage: the clone flags, the container's cgroup (made here, in a cgroup tree of the test's own
// under the temp dir, v1 and v2), and the child's steps that build the container's root. No root needed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { namespaces } from '../../../src/stages/namespaces.js';
import { describeStep } from '../../../src/kernel/steps.js';
import type { ContainerRecord, NetworkPlan, RootfsPlan } from '../../../src/container.js';
import type { CgroupLayout } from '../../../src/cgroups/layout.js';
import type { ResourceLimits } from '../../../src/cgroups/limits.js';
import { deviceFilterProgram } from '../../../src/cgroups/device-filter.js';
import { ALL_DEVICES, DEFAULT_DEVICE_RULES } from '../../../src/security/devices.js';
import { DEFAULT_SECURITY, parseDevice, type SecurityConfig } from '../../../src/security/options.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';

const ID = 'f'.repeat(64);

function container(config: Partial<ContainerRecord['config']> = {}): ContainerRecord {
  return {
    id: ID, name: 'test', created: new Date().toISOString(),
    image: { id: 'sha256:' + 'a'.repeat(64), name: 'demo', layers: ['sha256:' + '1'.repeat(64)] },
    config: { argv: ['sh'], env: [], workingDir: '/', user: '', hostname: 'box', tty: false, interactive: false, autoRemove: false, network: 'none', ...config },
    state: { status: 'created', pid: null, pidStartTime: null, exitCode: null, startedAt: null, finishedAt: null, error: '' },
  };
}

const files = { hostname: '/store/c/hostname', hosts: '/store/c/hosts', resolvConf: '/store/c/resolv.conf' };
const NONE: NetworkPlan = { mode: 'none', interfaces: ['lo 127.0.0.1/8'], files, steps: [{ op: 'link_up', name: 'lo' }] };

/** A cgroup v1 tree per controller, cpu and cpuacct co-mounted as they often are, all under `root`. */
function v1Layout(root: string): CgroupLayout {
  const dir = (name: string) => {
    fs.mkdirSync(path.join(root, name), { recursive: true });
    return path.join(root, name);
  };
  return { version: 1, roots: { memory: dir('memory'), cpu: dir('cpu,cpuacct'), cpuacct: dir('cpu,cpuacct'), cpuset: dir('cpuset'), pids: dir('pids'), freezer: dir('freezer'), devices: dir('devices') } };
}

/** A cgroup v2 tree under `root`. A real cgroupfs makes cgroup.controllers in each new directory; tsrun's own
 *  parent here is made with one, as the kernel would make it. */
function v2Layout(root: string): CgroupLayout {
  fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
  fs.mkdirSync(path.join(root, 'tsrun'));
  fs.writeFileSync(path.join(root, 'tsrun', 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
  return { version: 2, root };
}

describe('namespaces stage', () => {
  let store: ReturnType<typeof tempStore>;
  let cgroupRoot: string;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  let rootfs: RootfsPlan;
  beforeEach(() => {
    store = tempStore();
    cgroupRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cgroupfs-'));
    runtime = { sys: fakeSyscalls(), paths: store };
    const mountpoint = path.join(store.runRoot, 'containers', ID, 'rootfs');
    rootfs = {
      lowerdirs: [path.join(store.root, 'layers/sha256/1111')], upperdir: path.join(store.root, 'containers', ID, 'upper'),
      workdir: path.join(store.root, 'containers', ID, 'work'), mountpoint,
      steps: [{ op: 'mount', source: 'overlay', target: mountpoint, fstype: 'overlay', flags: [], data: 'lowerdir=…' }],
    };
  });
  afterEach(() => {
    store.remove();
    fs.rmSync(cgroupRoot, { recursive: true, force: true });
  });

  const read = (...parts: string[]) => fs.readFileSync(path.join(cgroupRoot, ...parts), 'utf8');
  /** Another cgroup tree, for a second start in one test. */
  const another = (name: string) => {
    fs.mkdirSync(path.join(cgroupRoot, name));
    return path.join(cgroupRoot, name);
  };

  describe('the steps', () => {
    it('makes mounts private first, builds the root inside the overlay, then pivots into it', async () => {
      const plan = await namespaces(runtime, container(), rootfs, NONE, v2Layout(cgroupRoot));
      expect(plan.cloneFlags).toEqual(['CLONE_NEWNS', 'CLONE_NEWUTS', 'CLONE_NEWIPC', 'CLONE_NEWPID', 'CLONE_NEWNET']);
      expect(plan.root).toBe(rootfs.mountpoint);

      const steps = plan.steps;
      expect(steps[0]).toEqual({ op: 'mount', source: '', target: '/', fstype: '', flags: ['MS_REC', 'MS_PRIVATE'], data: '' });
      const index = (predicate: (s: (typeof steps)[number]) => boolean) => steps.findIndex(predicate);
      const overlay = index((s) => s.op === 'mount' && s.fstype === 'overlay');
      const proc = index((s) => s.op === 'mount' && s.fstype === 'proc');
      const pivot = index((s) => s.op === 'pivot_root');
      expect(overlay).toBeGreaterThan(0);
      expect(steps.slice(overlay, overlay + rootfs.steps.length)).toEqual(rootfs.steps);
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
      expect(steps).toContainEqual({ op: 'mount', source: files.hosts, root: rootfs.mountpoint, target: '/etc/hosts', fstype: '', flags: ['MS_BIND'], data: '' });
      expect(steps.some((s) => s.op === 'mount' && s.fstype === 'sysfs' && s.flags.includes('MS_RDONLY'))).toBe(true);
      expect(steps.some((s) => s.op === 'sethostname' && s.name === 'box')).toBe(true);
      expect(steps).toContainEqual({ op: 'link_up', name: 'lo' }); // the network stage's steps
    });

    it('joins the network namespace the network stage made instead of cloning one, and keeps the host\'s with --network host', async () => {
      const layout = v2Layout(cgroupRoot);
      const setns = { op: 'setns', path: '/run/tsrun/netns/x', nstype: 'CLONE_NEWNET' } as const;
      const onBridge: NetworkPlan = { mode: 'bridge', interfaces: [], namespaceFile: setns.path, files, steps: [setns] };
      const bridged = await namespaces(runtime, container(), rootfs, onBridge, layout);
      expect(bridged.cloneFlags).toEqual(['CLONE_NEWNS', 'CLONE_NEWUTS', 'CLONE_NEWIPC', 'CLONE_NEWPID']);
      expect(bridged.steps.filter((s) => s.op === 'setns')).toEqual([setns]);
      const onHost = await namespaces(runtime, container(), rootfs, { mode: 'host', interfaces: [], files, steps: [] }, layout);
      expect(onHost.cloneFlags).not.toContain('CLONE_NEWNET');
      expect(onHost.steps.some((s) => s.op === 'setns' || s.op === 'link_up')).toBe(false);
    });

    it('makes the root read-only with --read-only, after everything is mounted on it', async () => {
      const plan = await namespaces(runtime, container({ readOnly: true }), rootfs, NONE, v2Layout(cgroupRoot));
      const rootRemount = (s: (typeof plan.steps)[number]) => s.op === 'mount' && s.target === rootfs.mountpoint && s.flags.includes('MS_REMOUNT');
      const remount = plan.steps.findIndex(rootRemount);
      expect(plan.steps[remount]).toEqual({ op: 'mount', source: '', target: rootfs.mountpoint, fstype: '', flags: ['MS_BIND', 'MS_REMOUNT', 'MS_RDONLY'], data: '' });
      expect(remount).toBeGreaterThan(plan.steps.findIndex((s) => s.op === 'mount' && s.target === '/etc/resolv.conf'));
      expect(remount).toBeLessThan(plan.steps.findIndex((s) => s.op === 'pivot_root'));
      const writable = await namespaces(runtime, container(), rootfs, NONE, v2Layout(another('writable')));
      expect(writable.steps.some(rootRemount)).toBe(false);
    });

  });

  describe('the cgroup, on cgroup v2', () => {
    it('makes the container\'s cgroup with its limits before the child exists, and the child\'s first steps join it', async () => {
      const resources: ResourceLimits = { memory: 64 << 20, cpus: 1.5, pidsLimit: 100 };
      const plan = await namespaces(runtime, container({ resources }), rootfs, NONE, v2Layout(cgroupRoot));
      const dir = path.join(cgroupRoot, 'tsrun', ID);
      expect(plan.cgroup).toMatchObject({ version: 2, dirs: [dir], joins: [path.join(dir, 'cgroup.procs')] });
      expect(fs.statSync(dir).isDirectory()).toBe(true);
      // The controllers handed down to tsrun's parent and to the container.
      expect(read('cgroup.subtree_control')).toBe('+memory +cpu +cpuset +pids');
      expect(read('tsrun', 'cgroup.subtree_control')).toBe('+memory +cpu +cpuset +pids');
      expect(read('tsrun', ID, 'memory.max')).toBe(String(64 << 20));
      expect(read('tsrun', ID, 'memory.swap.max')).toBe(String(64 << 20)); // docker: as much swap again
      expect(read('tsrun', ID, 'cpu.max')).toBe('150000 100000');
      expect(read('tsrun', ID, 'pids.max')).toBe('100');
      // Right after making mounts private: into the cgroup ("0": me), then a cgroup namespace rooted there.
      expect(plan.steps.slice(1, 3)).toEqual([
        { op: 'write_file', path: path.join(dir, 'cgroup.procs'), data: '0' },
        { op: 'unshare', flags: ['CLONE_NEWCGROUP'] },
      ]);
    });

    it('attaches a device filter of Docker\'s default devices, plus --device ones; everything with --privileged', async () => {
      await namespaces(runtime, container(), rootfs, NONE, v2Layout(cgroupRoot));
      const loaded = runtime.sys.calls.filter((call) => call.name === 'bpf_prog_load');
      expect(loaded.map((call) => call.args)).toEqual([['BPF_PROG_TYPE_CGROUP_DEVICE', deviceFilterProgram(DEFAULT_DEVICE_RULES), 'MIT']]);
      expect(runtime.sys.calls.filter((call) => call.name === 'bpf_prog_attach').map((call) => call.args.slice(2))).toEqual([['BPF_CGROUP_DEVICE', ['BPF_F_ALLOW_MULTI']]]);

      const withDevice: SecurityConfig = { ...DEFAULT_SECURITY, devices: [parseDevice('/dev/null:/dev/mynull:rw')] };
      const sys = fakeSyscalls();
      const plan = await namespaces({ sys, paths: store }, container({ security: withDevice }), rootfs, NONE, v2Layout(another('device')));
      expect(sys.calls.find((call) => call.name === 'bpf_prog_load')!.args[1])
        .toEqual(deviceFilterProgram([...DEFAULT_DEVICE_RULES, { type: 'c', major: 1, minor: 3, access: 'rw' }]));
      expect(plan.steps).toContainEqual({ op: 'mknod', root: rootfs.mountpoint, path: '/dev/mynull', mode: 0o20666, major: 1, minor: 3 });

      const privileged = fakeSyscalls();
      await namespaces({ sys: privileged, paths: store }, container({ security: { ...DEFAULT_SECURITY, privileged: true } }), rootfs, NONE, v2Layout(another('privileged')));
      expect(privileged.calls.find((call) => call.name === 'bpf_prog_load')!.args[1]).toEqual(deviceFilterProgram(ALL_DEVICES));
    });
  });

  describe('the cgroup, on cgroup v1', () => {
    it('makes one directory per tree, co-mounted controllers sharing one, each limit in its controller\'s, and joins each tree', async () => {
      const resources: ResourceLimits = { memory: 64 << 20, memorySwap: -1, cpuShares: 512, pidsLimit: 10, cpusetCpus: '0' };
      const plan = await namespaces(runtime, container({ resources }), rootfs, NONE, v1Layout(cgroupRoot));
      const trees = ['memory', 'cpu,cpuacct', 'cpuset', 'pids', 'freezer', 'devices'];
      const dirs = trees.map((tree) => path.join(cgroupRoot, tree, 'tsrun', ID));
      expect(plan.cgroup.version).toBe(1);
      expect(plan.cgroup.dirs).toEqual(dirs);
      for (const dir of dirs) expect(fs.statSync(dir).isDirectory(), dir).toBe(true);
      expect(read('memory', 'tsrun', ID, 'memory.limit_in_bytes')).toBe(String(64 << 20));
      expect(read('memory', 'tsrun', ID, 'memory.memsw.limit_in_bytes')).toBe('-1');
      expect(read('cpu,cpuacct', 'tsrun', ID, 'cpu.shares')).toBe('512');
      expect(read('pids', 'tsrun', ID, 'pids.max')).toBe('10');
      expect(read('cpuset', 'tsrun', ID, 'cpuset.cpus')).toBe('0');
      // tasks, not cgroup.procs, in every tree; then the cgroup namespace.
      const joins = dirs.map((dir) => path.join(dir, 'tasks'));
      expect(plan.cgroup.joins).toEqual(joins);
      expect(plan.steps.slice(1, 2 + joins.length)).toEqual([
        ...joins.map((file) => ({ op: 'write_file', path: file, data: '0' })),
        { op: 'unshare', flags: ['CLONE_NEWCGROUP'] },
      ]);
      expect(runtime.sys.calls.some((call) => call.name === 'bpf_prog_load')).toBe(false); // v1: the devices controller, no BPF
    });

    it('denies every device in the devices controller, then allows Docker\'s list; with --privileged, all', async () => {
      const plan = await namespaces(runtime, container(), rootfs, NONE, v1Layout(cgroupRoot));
      const devicesDir = path.join(cgroupRoot, 'devices', 'tsrun', ID);
      expect(read('devices', 'tsrun', ID, 'devices.deny')).toBe('a');
      // Each rule is one write to devices.allow (a plain file here keeps only the last).
      const allowed = plan.cgroup.writes.filter((write) => write.file === path.join(devicesDir, 'devices.allow')).map((write) => write.value);
      expect(allowed).toContain('c 1:3 rwm');
      expect(allowed).toHaveLength(DEFAULT_DEVICE_RULES.length);
      expect(read('devices', 'tsrun', ID, 'devices.allow')).toBe(allowed.at(-1));

      const other = another('privileged');
      await namespaces(runtime, container({ security: { ...DEFAULT_SECURITY, privileged: true } }), rootfs, NONE, v1Layout(other));
      expect(fs.readFileSync(path.join(other, 'devices', 'tsrun', ID, 'devices.allow'), 'utf8')).toBe('a');
    });

  });
});
