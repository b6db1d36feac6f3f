// Every container gets a cgroup of its own: a directory in the cgroup
// filesystem (one per controller on v1) whose files hold its limits and whose
// cgroup.procs lists its processes. The child joins it before execve, so even
// its first instruction is accounted and limited.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTROLLERS, cgroupLayout, type CgroupLayout, type Controller } from './layout.js';
import { settingsV1, settingsV2, type ResourceLimits } from './limits.js';
import { formatDeviceRule, type DeviceRule } from '../security/devices.js';
import { deviceFilterProgram } from './device-filter.js';
import type { Syscalls } from '../kernel/syscalls.js';
import { fail, withContext } from '../errors.js';

const PARENT = 'tsrun';

export interface CgroupPlan {
  version: 1 | 2;
  /** The container's cgroup directories: one on v2, one per controller on v1. */
  dirs: string[];
  /** Files to write, with their values, in order. */
  writes: Array<{ file: string; value: string }>;
  /** The files the child writes "0" (itself) into to join the cgroup: cgroup.procs on v2, each tree's tasks on v1. */
  joins: string[];
  /** Which directory holds each controller's files (on v2, the one directory holds them all). */
  byController: Partial<Record<Controller, string>>;
  /** The devices the container may use (src/security/devices.ts): on v1 they are writes above, on v2 a BPF program. */
  devices: DeviceRule[];
}

/** The cgroup of a container on this machine: the plan for its id, in the layout /proc/self/mountinfo shows.
 *  Only the start that makes it needs the devices: stopping, pausing and removing need only where it is. */
export function containerCgroup(containerId: string, limits: ResourceLimits, devices: DeviceRule[] = []): CgroupPlan {
  return planCgroup(hostCgroupLayout(), containerId, limits, devices);
}

/** Where this machine's cgroup filesystems are mounted. */
export function hostCgroupLayout(): CgroupLayout {
  return cgroupLayout(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** A container of tsrun's has the cgroup tsrun/ID in each hierarchy. */
export function planCgroup(layout: CgroupLayout, containerId: string, limits: ResourceLimits, devices: DeviceRule[] = []): CgroupPlan {
  return planCgroupAt(layout, path.join(PARENT, containerId), limits, devices);
}

// #region cgroup-plan
/** `at`: the cgroup's path below each hierarchy's root (an OCI bundle's cgroupsPath names its own). */
export function planCgroupAt(layout: CgroupLayout, at: string, limits: ResourceLimits, devices: DeviceRule[] = []): CgroupPlan {
  if (layout.version === 2) {
    const dir = path.join(layout.root, at);
    return {
      version: 2,
      dirs: [dir],
      writes: settingsV2(limits).map((s) => ({ file: path.join(dir, s.file), value: s.value })),
      joins: [path.join(dir, 'cgroup.procs')],
      byController: Object.fromEntries(CONTROLLERS.map((c) => [c, dir])),
      devices,
    };
  }
  const dirOf = (controller: Controller) => path.join(layout.roots[controller]!, at);
  const controllers = CONTROLLERS.filter((c) => layout.roots[c] !== undefined);
  // Co-mounted controllers ("cpu,cpuacct") share one tree, and so one directory.
  const dirs = [...new Set(controllers.map(dirOf))];
  return {
    version: 1,
    dirs,
    writes: [
      ...settingsV1(limits).filter((s) => layout.roots[s.controller]).map((s) => ({ file: path.join(dirOf(s.controller), s.file), value: s.value })),
      ...(layout.roots.devices && devices.length > 0 ? deviceWritesV1(dirOf('devices'), devices) : []),
    ],
    // tasks, not cgroup.procs: moving a whole thread group takes a lock whose every write waits for an RCU grace
    // period, one per tree; a process moving itself, one thread, goes without it.
    // The child is one thread (clone without CLONE_THREAD), so both files say the same of it.
    joins: dirs.map((dir) => path.join(dir, 'tasks')),
    byController: Object.fromEntries(controllers.map((c) => [c, dirOf(c)])),
    devices,
  };
}
// #endregion

// #region devices-v1
/** v1's devices controller: deny everything, then allow each rule, before any process is in the cgroup. */
function deviceWritesV1(dir: string, devices: DeviceRule[]): Array<{ file: string; value: string }> {
  return [
    { file: path.join(dir, 'devices.deny'), value: 'a' },
    ...devices.map((rule) => ({ file: path.join(dir, 'devices.allow'), value: formatDeviceRule(rule) })),
  ];
}
// #endregion

export function createCgroup(plan: CgroupPlan, sys: Syscalls): void {
  const filterDevices = plan.version === 2 && plan.devices.length > 0;
  for (const dir of plan.dirs) {
    if (filterDevices) removeLeftover(dir);
    for (const level of levelsDown(dir)) {
      if (plan.version === 2) enableControllers(path.dirname(level));
      makeDir(level);
      // Also where another start made the level a moment ago and may not have filled it yet: it fills it the same.
      if (plan.version === 1) inheritCpuset(level);
    }
  }
  for (const { file, value } of plan.writes) fs.writeFileSync(file, value);
  if (filterDevices) attachDeviceFilter(plan.dirs[0]!, plan.devices, sys);
}

/** mkdir, if it is not there yet: two containers starting at once may both find tsrun's parent missing. */
function makeDir(dir: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** `dir`, its parent, and any directory above them still missing, top down: each must exist and, on v2, be handed
 *  the controllers by its own parent. */
function levelsDown(dir: string): string[] {
  const levels = [dir];
  for (let level = path.dirname(dir); levels.length < 2 || !fs.existsSync(level); level = path.dirname(level)) levels.unshift(level);
  return levels;
}

// #region devices-v2
/** v2's devices: a BPF program that the kernel asks at every open and mknod of a device node in the cgroup. */
function attachDeviceFilter(dir: string, devices: DeviceRule[], sys: Syscalls): void {
  let progFd: number;
  try {
    progFd = sys.bpf_prog_load('BPF_PROG_TYPE_CGROUP_DEVICE', deviceFilterProgram(devices), 'MIT');
  } catch (error) {
    // Not withContext: the message holds the verifier's log, which says why it refused the program.
    throw fail(`load the device filter for ${dir}: ${(error as Error).message}`, undefined, error);
  }
  try {
    const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      // BPF_F_ALLOW_MULTI, as runc: a cgroup below this one may attach a filter of its own (a runtime in a
      // --privileged container), and an access needs every filter's yes. A second program of ours would
      // only narrow the first, though, so each start attaches to a new directory (removeLeftover).
      sys.bpf_prog_attach(progFd, dirFd, 'BPF_CGROUP_DEVICE', ['BPF_F_ALLOW_MULTI']);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch (error) {
    throw withContext(`attach the device filter to ${dir}`, error);
  } finally {
    fs.closeSync(progFd); // the attachment holds the program now; it goes when the cgroup is removed
  }
}
// #endregion

/** A cgroup left by an earlier start of the container goes, and its device filter with it. Processes still in it: an error. */
function removeLeftover(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw withContext('remove the cgroup of an earlier start', error);
  }
}

/** A new v1 cpuset cgroup has no CPUs and no memory nodes, so nothing could run in it: copy its parent's. */
function inheritCpuset(dir: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const own = path.join(dir, file);
    if (fs.existsSync(own) && fs.readFileSync(own, 'utf8').trim() === '') {
      fs.writeFileSync(own, fs.readFileSync(path.join(path.dirname(dir), file), 'utf8'));
    }
  }
}

/** v2 only hands a controller down to children where the parent's cgroup.subtree_control says so. */
function enableControllers(parent: string): void {
  const available = new Set(fs.readFileSync(path.join(parent, 'cgroup.controllers'), 'utf8').trim().split(/\s+/));
  const wanted = CONTROLLERS.filter((c) => available.has(c)).map((c) => `+${c}`).join(' ');
  if (wanted) fs.writeFileSync(path.join(parent, 'cgroup.subtree_control'), wanted);
}

const EMPTY_WAIT_MS = 2_000;

/** Remove the container's cgroup once its processes are gone, and tsrun's parent if nothing else is in it. */
export async function removeCgroup(plan: CgroupPlan): Promise<void> {
  for (const dir of plan.dirs) {
    const deadline = Date.now() + EMPTY_WAIT_MS;
    for (;;) {
      try {
        fs.rmdirSync(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        // EBUSY: the kernel has not finished reaping the last process yet.
        if (code !== 'EBUSY' || Date.now() > deadline) throw error;
        await sleep(10);
      }
    }
    removeParentIfEmpty(dir);
  }
}

/** For a container found dead (reconcile): its cgroup goes if nothing is left in it, at once, without waiting. */
export function removeCgroupIfEmpty(plan: CgroupPlan): void {
  for (const dir of plan.dirs) {
    try {
      fs.rmdirSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EBUSY') throw error; // EBUSY: a process of it lives on somewhere; leave it
    }
    removeParentIfEmpty(dir);
  }
}

/** tsrun's own parent cgroup goes with the last container in it. */
function removeParentIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(path.dirname(dir));
  } catch {
    // other containers still have cgroups there
  }
}

/** The processes in the cgroup now, by their pids on the host (`top`, `tsrun-oci kill --all`); none once it is gone.
 *  On v1 every tree the container joined lists the same ones: the first is read. */
export function cgroupProcesses(plan: CgroupPlan): number[] {
  try {
    return fs.readFileSync(path.join(plan.dirs[0]!, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export interface CgroupUsage {
  memoryBytes: number;
  /** null: no limit. */
  memoryLimit: number | null;
  /** memory.stat's counters (cache, rss, total_inactive_file … on v1; file, anon, inactive_file … on v2). */
  memoryStat: Record<string, number>;
  /** CPU time used by all the cgroup's processes so far. */
  cpuNanoseconds: number;
  /** The same, CPU by CPU: v1's cpuacct counts it; v2 does not ([]). */
  perCpuNanoseconds: number[];
  pids: number;
  /** Bytes read and written on each block device (v2's io.stat); null on v1, where tsrun's containers have no
   *  blkio cgroup of their own, and on a v2 machine whose io controller is not enabled for them. */
  io: Array<{ major: number; minor: number; readBytes: number; writeBytes: number }> | null;
}

// #region cgroup-usage
/** What the container uses now, read from its cgroup's files (`tsrun stats`, `docker stats`). */
export function readUsage(plan: CgroupPlan): CgroupUsage {
  const read = (controller: Controller, file: string) => fs.readFileSync(path.join(plan.byController[controller]!, file), 'utf8').trim();
  const number = (text: string) => Number(text);
  const memoryStat = Object.fromEntries(read('memory', 'memory.stat').split('\n').filter(Boolean).map((line) => {
    const [key, value] = line.split(' ');
    return [key!, number(value!)];
  }));
  if (plan.version === 2) {
    const cpuStat = read('cpu', 'cpu.stat');
    const max = read('memory', 'memory.max');
    return {
      memoryBytes: number(read('memory', 'memory.current')),
      memoryLimit: max === 'max' ? null : number(max),
      memoryStat,
      cpuNanoseconds: number(/usage_usec (\d+)/.exec(cpuStat)?.[1] ?? '0') * 1000,
      perCpuNanoseconds: [],
      pids: number(read('pids', 'pids.current')),
      io: readIoStat(path.join(plan.dirs[0]!, 'io.stat')),
    };
  }
  const limit = number(read('memory', 'memory.limit_in_bytes'));
  const cpuacct = plan.byController.cpuacct !== undefined;
  return {
    memoryBytes: number(read('memory', 'memory.usage_in_bytes')),
    // v1 says "no limit" with the largest multiple of the page size it can hold.
    memoryLimit: limit >= 2 ** 62 ? null : limit,
    memoryStat,
    cpuNanoseconds: cpuacct ? number(read('cpuacct', 'cpuacct.usage')) : 0,
    perCpuNanoseconds: cpuacct ? read('cpuacct', 'cpuacct.usage_percpu').split(' ').filter(Boolean).map(number) : [],
    pids: number(read('pids', 'pids.current')),
    io: null,
  };
}

/** v2's io.stat, a line a device: `8:0 rbytes=1024 wbytes=512 rios=3 wios=1 dbytes=0 dios=0`. */
function readIoStat(file: string): CgroupUsage['io'] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  return text.split('\n').filter(Boolean).map((line) => {
    const [device = '', ...counters] = line.split(' ');
    const [major, minor] = device.split(':').map(Number);
    const value = (name: string) => Number(counters.find((counter) => counter.startsWith(`${name}=`))?.slice(name.length + 1) ?? 0);
    return { major: major!, minor: minor!, readBytes: value('rbytes'), writeBytes: value('wbytes') };
  });
}
// #endregion

/** How many processes the kernel's OOM killer has killed in the cgroup: docker's OOMKilled. */
export function oomKills(plan: CgroupPlan): number {
  const dir = plan.byController.memory;
  if (!dir) return 0;
  const file = path.join(dir, plan.version === 2 ? 'memory.events' : 'memory.oom_control');
  try {
    return Number(/^oom_kill (\d+)$/m.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0; // the cgroup is gone already
  }
}

// #region freeze
/** `tsrun pause`/`unpause`: the kernel stops (or resumes) scheduling every process of the cgroup. */
export async function setFrozen(plan: CgroupPlan, frozen: boolean): Promise<void> {
  // Both freeze in the background, until every task has stopped: v1's freezer.state says FREEZING until then,
  // v2's cgroup.events "frozen 0". A pause is done, as Docker's is, when the kernel says so.
  let done: () => boolean;
  if (plan.version === 2) {
    const dir = plan.dirs[0]!;
    fs.writeFileSync(path.join(dir, 'cgroup.freeze'), frozen ? '1' : '0');
    done = () => /^frozen 1$/m.test(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8')) === frozen;
  } else {
    const dir = plan.byController.freezer;
    if (!dir) throw new Error('this machine has no freezer cgroup');
    const state = path.join(dir, 'freezer.state');
    fs.writeFileSync(state, frozen ? 'FROZEN' : 'THAWED');
    done = () => !frozen || fs.readFileSync(state, 'utf8').trim() === 'FROZEN';
  }
  const deadline = Date.now() + EMPTY_WAIT_MS;
  while (!done() && Date.now() < deadline) await sleep(10);
}
// #endregion

/** Whether the cgroup is asked to be frozen (v2's cgroup.freeze, v1's freezer.state FREEZING or FROZEN): a paused
 *  container, for a caller that keeps no status of its own (tsrun-oci's `state`). False once the cgroup is gone. */
export function isFrozen(plan: CgroupPlan): boolean {
  try {
    if (plan.version === 2) return fs.readFileSync(path.join(plan.dirs[0]!, 'cgroup.freeze'), 'utf8').trim() === '1';
    const freezer = plan.byController.freezer;
    return !!freezer && fs.readFileSync(path.join(freezer, 'freezer.state'), 'utf8').trim() !== 'THAWED';
  } catch {
    return false;
  }
}
