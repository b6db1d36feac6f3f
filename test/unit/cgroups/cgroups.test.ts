// cgroups without root: the layout read from mount tables, docker's flags
// mapped to v1 and v2 files, and the directories made in a fake cgroupfs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cgroupLayout } from '../../../src/cgroups/layout.js';
import { parseBytes, settingsV1, settingsV2 } from '../../../src/cgroups/limits.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { createCgroup, oomKills, planCgroup, readUsage, removeCgroup, setFrozen } from '../../../src/cgroups/cgroup.js';
import { deviceFilterProgram } from '../../../src/cgroups/device-filter.js';
import { ALL_DEVICES, DEFAULT_DEVICE_RULES } from '../../../src/security/devices.js';

const V1_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const V2_MOUNTINFO = `25 23 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

describe('cgroupLayout', () => {
  it('reads a v1 machine (with a hybrid unified mount) as one tree per controller', () => {
    expect(cgroupLayout(V1_MOUNTINFO)).toEqual({
      version: 1,
      roots: { cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct', cpuset: '/sys/fs/cgroup/cpuset', memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids' },
    });
  });

  it('reads a v2 machine as one unified tree', () => {
    expect(cgroupLayout(V2_MOUNTINFO)).toEqual({ version: 2, root: '/sys/fs/cgroup' });
  });

  it('reads this machine without failing', () => {
    const layout = cgroupLayout(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    expect([1, 2]).toContain(layout.version);
  });
});

describe('docker flags as cgroup files', () => {
  it('parses sizes as docker does', () => {
    expect(parseBytes('--memory', '64m')).toBe(64 * 1024 * 1024);
    expect(parseBytes('--memory', '1G')).toBe(1024 ** 3);
    expect(parseBytes('--memory', '512')).toBe(512);
    expect(() => parseBytes('--memory', 'lots')).toThrow(/invalid value "lots" for --memory/);
    expect(() => parseBytes('--memory', '9'.repeat(400))).toThrow(/for --memory: too large/); // Infinity
    expect(() => parseBytes('--memory', '8388608g')).toThrow(/for --memory: too large/); // 2^53: past exact numbers
  });

  it('maps to v1 files', () => {
    expect(settingsV1({ memory: 64 << 20, cpus: 1.5, cpuShares: 512, pidsLimit: 20, cpusetCpus: '0' })).toEqual([
      { controller: 'memory', file: 'memory.limit_in_bytes', value: String(64 << 20) },
      { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(128 << 20) },
      { controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000' },
      { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '150000' },
      { controller: 'cpu', file: 'cpu.shares', value: '512' },
      { controller: 'pids', file: 'pids.max', value: '20' },
      { controller: 'cpuset', file: 'cpuset.cpus', value: '0' },
    ]);
  });

  it('maps to v2 files, where swap is counted on its own and shares become weights', () => {
    expect(settingsV2({ memory: 64 << 20, memorySwap: 96 << 20, cpus: 0.5, cpuShares: 1024, pidsLimit: 0 })).toEqual([
      { controller: 'memory', file: 'memory.max', value: String(64 << 20) },
      { controller: 'memory', file: 'memory.swap.max', value: String(32 << 20) },
      { controller: 'cpu', file: 'cpu.max', value: '50000 100000' },
      { controller: 'cpu', file: 'cpu.weight', value: '39' },
      { controller: 'pids', file: 'pids.max', value: 'max' },
    ]);
    expect(settingsV2({ memory: 1024, memorySwap: -1 })[1]).toEqual({ controller: 'memory', file: 'memory.swap.max', value: 'max' });
  });

  it('refuses --memory-swap below --memory', () => {
    expect(() => settingsV1({ memory: 100, memorySwap: 50 })).toThrow(/--memory-swap must be at least --memory/);
  });
});

describe('a container cgroup in a fake cgroupfs', () => {
  let root: string;
  beforeEach(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cgroupfs-')); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('v2: enables the controllers for tsrun\'s subtree, writes the limits, and removes it again', async () => {
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    const plan = planCgroup({ version: 2, root }, 'abc', { memory: 1 << 20, pidsLimit: 5 });
    expect(plan.joins).toEqual([path.join(root, 'tsrun/abc/cgroup.procs')]);
    // A real cgroupfs makes cgroup.controllers in every new directory; our fake tree needs it for the second level.
    fs.mkdirSync(path.join(root, 'tsrun'));
    fs.writeFileSync(path.join(root, 'tsrun', 'cgroup.controllers'), 'cpuset cpu memory pids\n');
    createCgroup(plan, fakeSyscalls());
    expect(fs.readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu +cpuset +pids');
    expect(fs.readFileSync(path.join(root, 'tsrun/cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu +cpuset +pids');
    expect(fs.readFileSync(path.join(root, 'tsrun/abc/memory.max'), 'utf8')).toBe(String(1 << 20));
    expect(fs.readFileSync(path.join(root, 'tsrun/abc/pids.max'), 'utf8')).toBe('5');
    for (const file of fs.readdirSync(path.join(root, 'tsrun/abc'))) fs.rmSync(path.join(root, 'tsrun/abc', file)); // cgroupfs files vanish with the dir
    fs.rmSync(path.join(root, 'tsrun', 'cgroup.controllers'));
    fs.rmSync(path.join(root, 'tsrun', 'cgroup.subtree_control'));
    await removeCgroup(plan);
    expect(fs.existsSync(path.join(root, 'tsrun'))).toBe(false);
  });

  it('v2: a leftover directory goes, and the device filter is loaded and attached to the new one', () => {
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'memory pids\n');
    fs.mkdirSync(path.join(root, 'tsrun/abc'), { recursive: true }); // an earlier start's
    fs.writeFileSync(path.join(root, 'tsrun', 'cgroup.controllers'), 'memory pids\n');
    const sys = fakeSyscalls();
    createCgroup(planCgroup({ version: 2, root }, 'abc', {}, DEFAULT_DEVICE_RULES), sys);
    expect(sys.calls.map((call) => call.name)).toEqual(['bpf_prog_load', 'bpf_prog_attach']);
    expect(sys.calls[0]!.args).toEqual(['BPF_PROG_TYPE_CGROUP_DEVICE', deviceFilterProgram(DEFAULT_DEVICE_RULES), 'MIT']);
    expect(sys.calls[1]!.args.slice(2)).toEqual(['BPF_CGROUP_DEVICE', ['BPF_F_ALLOW_MULTI']]);
    // Without devices in the plan (stop, pause, a v1 machine), no program.
    const none = fakeSyscalls();
    createCgroup(planCgroup({ version: 2, root }, 'def', {}), none);
    expect(none.calls).toEqual([]);
  });

  it('v1: one directory per controller, and a cpuset that inherits its parent\'s CPUs', () => {
    const roots = { memory: path.join(root, 'memory'), cpuset: path.join(root, 'cpuset'), pids: path.join(root, 'pids') };
    for (const dir of Object.values(roots)) fs.mkdirSync(dir);
    fs.writeFileSync(path.join(roots.cpuset, 'cpuset.cpus'), '0-1\n');
    fs.writeFileSync(path.join(roots.cpuset, 'cpuset.mems'), '0\n');
    const plan = planCgroup({ version: 1, roots }, 'abc', { pidsLimit: 7 });
    expect(plan.dirs).toEqual([path.join(roots.memory, 'tsrun/abc'), path.join(roots.cpuset, 'tsrun/abc'), path.join(roots.pids, 'tsrun/abc')]);
    // In a real cpuset tree the kernel makes these files empty; the fake tree needs them made.
    const makeEmptyCpuset = (dir: string) => { fs.mkdirSync(dir, { recursive: true }); fs.writeFileSync(path.join(dir, 'cpuset.cpus'), ''); fs.writeFileSync(path.join(dir, 'cpuset.mems'), ''); };
    makeEmptyCpuset(path.join(roots.cpuset, 'tsrun'));
    fs.rmdirSync(path.join(roots.cpuset, 'tsrun'), { recursive: true } as never);
    expect(() => createCgroup(plan, fakeSyscalls())).not.toThrow();
    expect(fs.readFileSync(path.join(roots.pids, 'tsrun/abc/pids.max'), 'utf8')).toBe('7');
  });

  it('v1: the devices controller denies everything, then allows each rule of the list, in that order', () => {
    const roots = { devices: path.join(root, 'devices') };
    const plan = planCgroup({ version: 1, roots }, 'abc', {}, DEFAULT_DEVICE_RULES);
    const dir = path.join(roots.devices, 'tsrun/abc');
    expect(plan.writes[0]).toEqual({ file: path.join(dir, 'devices.deny'), value: 'a' });
    expect(plan.writes.slice(1)).toContainEqual({ file: path.join(dir, 'devices.allow'), value: 'c 1:3 rwm' });
    expect(plan.writes.slice(1)).toContainEqual({ file: path.join(dir, 'devices.allow'), value: 'b *:* m' });
    expect(plan.writes.slice(1)).toContainEqual({ file: path.join(dir, 'devices.allow'), value: 'c 136:* rwm' });
    expect(plan.writes.some((w) => /\bb \d/.test(w.value))).toBe(false); // no block device may be opened
    expect(planCgroup({ version: 1, roots }, 'abc', {}, ALL_DEVICES).writes.map((w) => w.value)).toEqual(['a', 'a']);
  });

  it('v2: reads usage and OOM kills from the unified files, and freezes with cgroup.freeze, done when cgroup.events says so', async () => {
    const plan = planCgroup({ version: 2, root }, 'abc', {});
    const dir = path.join(root, 'tsrun/abc');
    fs.mkdirSync(dir, { recursive: true });
    const files = {
      'memory.current': '1048576\n', 'memory.max': 'max\n', 'pids.current': '3\n',
      'cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n',
      'memory.events': 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n',
      'memory.stat': 'anon 524288\nfile 262144\ninactive_file 131072\n',
      'io.stat': '8:0 rbytes=4096 wbytes=512 rios=1 wios=1 dbytes=0 dios=0\n',
    };
    for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
    expect(readUsage(plan)).toEqual({
      memoryBytes: 1048576, memoryLimit: null, memoryStat: { anon: 524288, file: 262144, inactive_file: 131072 },
      cpuNanoseconds: 2_500_000, perCpuNanoseconds: [], pids: 3, io: [{ major: 8, minor: 0, readBytes: 4096, writeBytes: 512 }],
    });
    expect(oomKills(plan)).toBe(1);
    // The kernel freezes in the background: "frozen 1" in cgroup.events once every task has stopped.
    const events = (frozen: 0 | 1) => fs.writeFileSync(path.join(dir, 'cgroup.events'), `populated 1\nfrozen ${frozen}\n`);
    events(0);
    let paused = false;
    const pausing = setFrozen(plan, true).then(() => { paused = true; });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8')).toBe('1');
    expect(paused).toBe(false);
    events(1);
    await pausing;
    events(0);
    await setFrozen(plan, false);
    expect(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8')).toBe('0');
  });

  it('v1: reads usage per controller (cpuacct for CPU time, CPU by CPU too) and OOM kills from memory.oom_control', () => {
    const roots = { memory: path.join(root, 'memory'), cpuacct: path.join(root, 'cpuacct'), pids: path.join(root, 'pids') };
    const plan = planCgroup({ version: 1, roots }, 'abc', {});
    const write = (controller: keyof typeof roots, file: string, text: string) => {
      fs.mkdirSync(path.join(roots[controller], 'tsrun/abc'), { recursive: true });
      fs.writeFileSync(path.join(roots[controller], 'tsrun/abc', file), text);
    };
    write('memory', 'memory.usage_in_bytes', '2097152\n');
    write('memory', 'memory.limit_in_bytes', '9223372036854771712\n'); // v1's "no limit"
    write('memory', 'memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    write('memory', 'memory.stat', 'cache 4096\nrss 8192\ntotal_inactive_file 1024\n');
    write('cpuacct', 'cpuacct.usage', '123456789\n');
    write('cpuacct', 'cpuacct.usage_percpu', '123000000 456789 \n');
    write('pids', 'pids.current', '4\n');
    expect(readUsage(plan)).toEqual({
      memoryBytes: 2097152, memoryLimit: null, memoryStat: { cache: 4096, rss: 8192, total_inactive_file: 1024 },
      cpuNanoseconds: 123456789, perCpuNanoseconds: [123000000, 456789], pids: 4, io: null,
    });
    expect(oomKills(plan)).toBe(2);
  });
});
