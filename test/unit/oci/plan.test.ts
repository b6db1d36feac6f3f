// A bundle's config.json planned into the child's steps: the same kinds of steps `tsrun run` plans, in runc's order.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planBundle } from '../../../src/oci/plan.js';
import { defaultSpec } from '../../../src/oci/defaults.js';
import type { OciSpec } from '../../../src/oci/spec.js';
import type { CgroupLayout } from '../../../src/cgroups/layout.js';
import type { ChildStep } from '../../../src/kernel/steps.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';

const V1: CgroupLayout = { version: 1, roots: { memory: '/sys/fs/cgroup/memory', cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct', pids: '/sys/fs/cgroup/pids', devices: '/sys/fs/cgroup/devices', freezer: '/sys/fs/cgroup/freezer' } };

let bundle: string;
beforeEach(() => { bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-plan-')); });
afterEach(() => fs.rmSync(bundle, { recursive: true, force: true }));

const plan = (change: (spec: OciSpec) => void = () => {}) => {
  const spec = defaultSpec();
  change(spec);
  return planBundle(spec, bundle, 'c1', V1, fakeSyscalls());
};
const ops = (steps: ChildStep[]) => steps.map((s) => s.op);
const at = (steps: ChildStep[], op: string, target?: string) => steps.findIndex((s) => s.op === op && (target === undefined || ('target' in s && s.target === target) || ('path' in s && s.path === target)));

describe('planBundle', () => {
  it('makes each namespace config.json lists, the cgroup namespace after joining the cgroup', () => {
    const { cloneFlags, steps } = plan();
    expect(cloneFlags).toEqual(['CLONE_NEWPID', 'CLONE_NEWNET', 'CLONE_NEWIPC', 'CLONE_NEWUTS', 'CLONE_NEWNS']);
    const join = at(steps, 'write_file', '/sys/fs/cgroup/memory/tsrun-oci/c1/tasks');
    expect(join).toBeGreaterThan(0);
    expect(steps[at(steps, 'unshare')]).toEqual({ op: 'unshare', flags: ['CLONE_NEWCGROUP'] });
    expect(at(steps, 'unshare')).toBeGreaterThan(join);
  });

  it('joins a namespace with a path instead of making it, and forks after joining a PID namespace', () => {
    const { cloneFlags, steps } = plan((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/pod' } : n.type === 'pid' ? { type: 'pid', path: '/proc/42/ns/pid' } : n));
    });
    expect(cloneFlags).not.toContain('CLONE_NEWNET');
    expect(cloneFlags).not.toContain('CLONE_NEWPID');
    expect(steps.slice(0, 3)).toEqual([
      { op: 'setns', path: '/proc/42/ns/pid', nstype: 'CLONE_NEWPID' },
      { op: 'setns', path: '/run/netns/pod', nstype: 'CLONE_NEWNET' },
      { op: 'fork' },
    ]);
  });

  it('puts the cgroup where cgroupsPath says, and refuses systemd\'s form', () => {
    expect(plan((s) => { s.linux!.cgroupsPath = '/docker/abc'; }).cgroup.dirs).toContain('/sys/fs/cgroup/memory/docker/abc');
    expect(() => plan((s) => { s.linux!.cgroupsPath = 'system.slice:docker:abc'; })).toThrow(/systemd's form/);
  });

  it('binds a file over a file it creates, and remounts a read-only bind', () => {
    const source = path.join(bundle, 'hosts');
    fs.writeFileSync(source, '127.0.0.1 localhost\n');
    const root = path.join(bundle, 'rootfs');
    const { steps } = plan((s) => { s.mounts!.push({ destination: '/etc/hosts', type: 'bind', source, options: ['rbind', 'ro', 'rprivate'] }); });
    const bind = at(steps, 'mount', '/etc/hosts');
    expect(steps[bind - 1]).toEqual({ op: 'create_file', root, path: '/etc/hosts', mode: 0o644 });
    expect(steps.slice(bind, bind + 3)).toEqual([
      { op: 'mount', source, root, target: '/etc/hosts', fstype: '', flags: ['MS_BIND', 'MS_REC'], data: '' },
      { op: 'mount', source: '', root, target: '/etc/hosts', fstype: '', flags: ['MS_BIND', 'MS_REMOUNT', 'MS_REC', 'MS_RDONLY'], data: '' },
      { op: 'mount', source: '', root, target: '/etc/hosts', fstype: '', flags: ['MS_PRIVATE', 'MS_REC'], data: '' },
    ]);
  });

  it('passes options that are no flags as the filesystem\'s data', () => {
    const { steps } = plan();
    expect(steps[at(steps, 'mount', '/dev/shm')]).toMatchObject({ fstype: 'tmpfs', flags: ['MS_NOSUID', 'MS_NOEXEC', 'MS_NODEV'], data: 'mode=1777,size=65536k' });
  });

  it('makes the nodes, masks, read-only paths and pivot_root, then ends with the process, its confinement and execve', () => {
    const { steps } = plan((s) => { s.process!.args = ['echo', 'hi']; });
    expect(at(steps, 'mknod', '/dev/null')).toBeGreaterThan(at(steps, 'mount', '/dev'));
    expect(at(steps, 'mount', '/proc/kcore')).toBeGreaterThan(0);
    expect(at(steps, 'pivot_root')).toBeGreaterThan(at(steps, 'mount', '/proc/sys'));
    expect(ops(steps).slice(at(steps, 'pivot_root'))).toEqual([
      'pivot_root', 'umount2', 'chdir', 'setsid', 'setrlimit', 'capbset_drop', 'setgroups', 'setgid', 'setuid', 'chdir', 'capset', 'prctl', 'execve',
    ]);
    expect(steps.at(-1)).toMatchObject({ op: 'execve', file: 'echo', argv: ['echo', 'hi'], search: ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'] });
  });

  it('with noPivot, moves the root\'s mount onto / and chroots into it, where pivot_root would be', () => {
    const root = path.join(bundle, 'rootfs');
    const { steps } = planBundle(defaultSpec(), bundle, 'c1', V1, fakeSyscalls(), { noPivot: true });
    expect(at(steps, 'pivot_root')).toBe(-1);
    const move = steps.findIndex((s) => s.op === 'mount' && s.flags.includes('MS_MOVE'));
    expect(steps.slice(move - 1, move + 3)).toEqual([
      { op: 'chdir', path: root },
      { op: 'mount', source: root, target: '/', fstype: '', flags: ['MS_MOVE'], data: '' },
      { op: 'chroot', path: '.' },
      { op: 'chdir', path: '/' },
    ]);
    expect(move).toBeGreaterThan(at(steps, 'mount', '/proc/kcore'));
    expect(ops(steps)[move + 3]).toBe('setsid'); // then the process's steps, as after pivot_root
  });

  it('runs createContainer hooks from the root before it is made read-only and left, and gives startContainer hooks to tsrun-exec', () => {
    const root = path.join(bundle, 'rootfs');
    const { steps } = plan((s) => {
      s.annotations = { 'org.example': 'lab' };
      s.hooks = {
        createContainer: [{ path: '/usr/bin/gpu-hook', args: ['gpu-hook', 'prestart'], env: ['DEBUG=1'], timeout: 5 }],
        startContainer: [{ path: '/bin/sh' }],
      };
    });
    const hook = at(steps, 'run_hook');
    expect(steps.slice(hook - 1, hook + 1)).toEqual([
      { op: 'chdir', path: root },
      {
        op: 'run_hook', name: 'createContainer', path: '/usr/bin/gpu-hook', argv: ['gpu-hook', 'prestart'], envp: ['DEBUG=1'], timeout: 5,
        state: JSON.stringify({ ociVersion: '1.0.2', id: 'c1', status: 'creating', bundle, annotations: { 'org.example': 'lab' } }),
      },
    ]);
    expect(hook).toBeGreaterThan(at(steps, 'mount', '/dev/shm'));
    expect(hook).toBeLessThan(steps.findIndex((s) => s.op === 'mount' && s.target === root && s.flags.includes('MS_RDONLY')));
    expect(hook).toBeLessThan(at(steps, 'mount', '/proc/kcore'));
    expect(hook).toBeLessThan(at(steps, 'pivot_root'));
    expect(steps.at(-1)).toMatchObject({
      op: 'execve',
      hooks: [{ name: 'startContainer', path: '/bin/sh', argv: ['/bin/sh'], envp: [], timeout: 0, state: expect.stringContaining('"status":"created"') }],
    });
    expect(ops(plan().steps)).not.toContain('run_hook');
    expect(plan().steps.at(-1)).not.toHaveProperty('hooks');
  });

  it('refuses a hook\'s state that would not fit in the pipe it is written to', () => {
    expect(() => plan((s) => {
      s.annotations = { big: 'x'.repeat(70_000) };
      s.hooks = { startContainer: [{ path: '/bin/sh' }] };
    })).toThrow(/hooks.startContainer: the state, with its annotations, is too large/);
  });

  it('keeps Docker\'s device list as an allow-list, and refuses a deny that takes back an allow', () => {
    const docker = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c' as const, major: 1, minor: 5, access: 'rwm' }, { allow: false, type: 'c' as const, major: 10, minor: 229, access: 'rwm' }];
    const devicesWrites = (p: ReturnType<typeof plan>) => p.cgroup.writes.filter((w) => w.file.includes('devices.')).map((w) => w.value);
    expect(devicesWrites(plan((s) => { s.linux!.resources = { devices: docker }; }))).toContain('c 1:5 rwm');
    expect(devicesWrites(plan((s) => { s.linux!.resources = { devices: docker }; }))).not.toContain('c 10:229 rwm');
    expect(() => plan((s) => { s.linux!.resources = { devices: [...docker, { allow: false, type: 'c', major: 1, minor: 5, access: 'w' }] }; })).toThrow(/devices\[3\]/);
  });

  it('sets only the sysctls of the container\'s own namespaces', () => {
    const { steps } = plan((s) => { s.linux!.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '0' }; });
    expect(steps[at(steps, 'write_file', path.join(bundle, 'rootfs/proc/sys/net/ipv4/ip_unprivileged_port_start'))]).toMatchObject({ data: '0' });
    expect(() => plan((s) => { s.linux!.sysctl = { 'kernel.panic': '1' }; })).toThrow(/not in the container's own namespaces/);
  });
});
