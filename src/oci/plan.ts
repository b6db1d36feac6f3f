// From a bundle's config.json to the child's steps. `tsrun run` plans these steps from Docker's defaults in
// its namespaces and exec stages; here the bundle says them all, and the same builders lay them out: the
// cgroup join and pivot_root of stages/namespaces.ts, the process's steps of stages/exec.ts, the capability
// and seccomp order of security/confinement.ts, the cgroup of cgroups/. Only the reading of config.json is
// the OCI door's own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OciDeviceRule, OciLinux, OciMount, OciProcess, OciResources, OciSpec } from './spec.js';
import type { ChildStep, Hook } from '../kernel/steps.js';
import { ancestors } from '../kernel/steps.js';
import type { Syscalls } from '../kernel/syscalls.js';
import { planCgroupAt, type CgroupPlan } from '../cgroups/cgroup.js';
import type { CgroupLayout } from '../cgroups/layout.js';
import type { ResourceLimits } from '../cgroups/limits.js';
import { joinCgroupSteps, moveRootSteps, pivotRootSteps } from '../stages/namespaces.js';
import { processSteps } from '../stages/exec.js';
import { confinementSteps } from '../security/confinement.js';
import { CAPABILITIES } from '../security/capabilities.js';
import { DEFAULT_DEVICE_RULES, defaultDeviceNodeSteps, devLinkSteps, type DeviceRule } from '../security/devices.js';
import { ULIMIT_RESOURCES, type Ulimit } from '../security/options.js';
import { maskedPathSteps, readonlyPathSteps } from '../security/system-paths.js';
import { parseSeccompProfile, resolveSeccompProfile } from '../security/seccomp.js';
import { fail } from '../errors.js';
import { OCI_VERSION } from './state.js';

export interface OciPlan {
  /** The container's root filesystem, on the host. */
  root: string;
  cloneFlags: string[];
  /** Everything the child does, ending in the execve that waits for `start` (native/src/exec.c). */
  steps: ChildStep[];
  cgroup: CgroupPlan;
  /** Where the cgroup is below each hierarchy's root: `update` plans it again there. */
  cgroupPath: string;
}

// #region namespaces
/** A namespace of config.json: new ones are clone flags, one with a path is joined (setns), and one not listed
 *  is the runtime's own, shared with the host. */
const CLONE_FLAG = { pid: 'CLONE_NEWPID', network: 'CLONE_NEWNET', mount: 'CLONE_NEWNS', ipc: 'CLONE_NEWIPC', uts: 'CLONE_NEWUTS', cgroup: 'CLONE_NEWCGROUP' } as const;
// #endregion

/** `noPivot`: leave the host's root with moveRootSteps instead of pivot_root (`create --no-pivot`). */
export function planBundle(spec: OciSpec, bundle: string, id: string, layout: CgroupLayout, sys: Syscalls, { noPivot = false } = {}): OciPlan {
  const root = path.resolve(bundle, spec.root.path);
  const linux = spec.linux ?? {};
  const proc = spec.process!;
  const namespaces = linux.namespaces ?? [];
  const fresh = (type: keyof typeof CLONE_FLAG) => namespaces.some((ns) => ns.type === type && !ns.path);
  // The cgroup namespace is made once the child is in its cgroup (below), as `tsrun run` does.
  const cloneFlags = namespaces.filter((ns) => !ns.path && ns.type !== 'cgroup').map((ns) => CLONE_FLAG[ns.type as keyof typeof CLONE_FLAG]);
  if (!cloneFlags.includes('CLONE_NEWNS')) throw fail('config.json: linux.namespaces: tsrun needs a new mount namespace', 'add {"type": "mount"}');

  // #region joins
  // Joined before anything else. A PID namespace is entered by children only: a fork step follows its setns.
  const joins: ChildStep[] = [];
  for (const ns of namespaces.filter((n) => n.path)) {
    joins.push({ op: 'setns', path: ns.path!, nstype: CLONE_FLAG[ns.type as keyof typeof CLONE_FLAG] });
  }
  if (namespaces.some((ns) => ns.type === 'pid' && ns.path)) joins.push({ op: 'fork' });
  // #endregion

  const at = cgroupPath(linux.cgroupsPath, id);
  const cgroup = planCgroupAt(layout, at, resourceLimits(linux.resources ?? {}), deviceRules(linux.resources?.devices));
  const mounts = (spec.mounts ?? []).flatMap((mount) => mountSteps(mount, root, cgroup));
  const devTmpfs = (spec.mounts ?? []).some((m) => path.normalize(m.destination) === '/dev' && m.type !== 'bind' && !m.options?.some((o) => o === 'bind' || o === 'rbind'));
  const hasProc = (spec.mounts ?? []).some((m) => m.type === 'proc');
  const createHooks = containerHooks(spec, 'createContainer', id, bundle);
  const startHooks = containerHooks(spec, 'startContainer', id, bundle);

  const steps: ChildStep[] = [
    ...joins,
    ...(proc.oomScoreAdj !== undefined ? [{ op: 'write_file', path: '/proc/self/oom_score_adj', data: String(proc.oomScoreAdj) } as ChildStep] : []),
    // #region rootfs
    // Nothing mounted from here on reaches the host (rootfsPropagation may say otherwise), and the root is a
    // mount of its own: pivot_root takes only a mount point.
    { op: 'mount', source: '', target: '/', fstype: '', flags: ['MS_REC', propagationFlag(linux.rootfsPropagation ?? 'rprivate')], data: '' },
    { op: 'mount', source: root, target: root, fstype: '', flags: ['MS_BIND', 'MS_REC'], data: '' },
    // #endregion
    ...joinCgroupSteps(cgroup, fresh('cgroup')),
    ...(spec.hostname !== undefined ? [{ op: 'sethostname', name: spec.hostname } as ChildStep] : []),
    ...(spec.domainname !== undefined ? [{ op: 'setdomainname', name: spec.domainname } as ChildStep] : []),
    { op: 'umask', mask: 0 },
    ...mounts,
    ...(devTmpfs ? devSteps(root, linux.devices ?? []) : []),
    { op: 'umask', mask: 0o022 },
    ...sysctlSteps(linux.sysctl ?? {}, root, hasProc, fresh('network'), fresh('ipc')),
    // #region create-container-hooks
    // Every mount made, the root still writable and the host's root still there: runc runs them here, from the root.
    ...(createHooks.length ? [{ op: 'chdir', path: root } as ChildStep, ...createHooks.map((hook): ChildStep => ({ op: 'run_hook', ...hook }))] : []),
    // #endregion
    ...(spec.root.readonly ? [{ op: 'mount', source: '', target: root, fstype: '', flags: ['MS_BIND', 'MS_REMOUNT', 'MS_RDONLY'], data: '' } as ChildStep] : []),
    ...maskSteps(linux.maskedPaths ?? [], root),
    ...readonlyPathSteps(linux.readonlyPaths ?? [], root),
    ...(noPivot ? moveRootSteps(root) : pivotRootSteps(root)),
    ...processPlanSteps(proc, linux, sys).map((step) => (step.op === 'execve' && startHooks.length ? { ...step, hooks: startHooks } : step)),
  ];
  return { root, cloneFlags, steps, cgroup, cgroupPath: at };
}

// #region container-hooks
/** The hooks config.json runs in the container: createContainer by the child, in the container's namespaces before
 *  pivot_root (its path is the host's); startContainer by tsrun-exec after `start`, in the container as its program
 *  (its path is the container's). Each gets the state on its standard input, with the status runc gives it. */
function containerHooks(spec: OciSpec, kind: 'createContainer' | 'startContainer', id: string, bundle: string): Hook[] {
  const hooks = spec.hooks?.[kind] ?? [];
  if (hooks.length === 0) return [];
  const state = JSON.stringify({ ociVersion: OCI_VERSION, id, status: kind === 'createContainer' ? 'creating' : 'created', bundle, annotations: spec.annotations ?? {} });
  // It is written into a pipe before the hook starts (native/src/hook.c), so it must fit in one.
  if (Buffer.byteLength(state) > 60_000) throw fail(`config.json: hooks.${kind}: the state, with its annotations, is too large for a hook's standard input (60 kB)`);
  return hooks.map((hook) => ({ name: kind, path: hook.path, argv: hook.args?.length ? hook.args : [hook.path], envp: hook.env ?? [], timeout: hook.timeout ?? 0, state }));
}
// #endregion

// #region process
/** The process's own steps, from config.json's process (or, for `exec`, process.json): its umask, limits, capabilities,
 *  no_new_privs, the container's seccomp filter, its user, and the execve: the exec stage's steps. */
export function processPlanSteps(proc: OciProcess, linux: OciLinux, sys: Syscalls): ChildStep[] {
  const caps = proc.capabilities ?? {};
  for (const cap of Object.values(caps).flat()) {
    if (!(CAPABILITIES as readonly string[]).includes(cap)) throw fail(`config.json: process.capabilities: unknown capability ${cap}`);
  }
  const seccomp = linux.seccomp ? seccompProgram(sys, linux.seccomp, caps.bounding ?? []) : null;
  const confined = confinementSteps({
    capabilities: { bounding: caps.bounding ?? [], effective: caps.effective ?? [], permitted: caps.permitted ?? [], inheritable: caps.inheritable ?? [], ambient: ambientCapabilities(caps).raised },
    noNewPrivileges: proc.noNewPrivileges ?? false,
    rlimits: (proc.rlimits ?? []).map(rlimit),
  }, seccomp, proc.user.uid);
  const env = proc.env ?? [];
  const search = (env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '').split(':').filter(Boolean);
  const { steps } = processSteps({
    argv: proc.args, env, cwd: proc.cwd, uid: proc.user.uid, gid: proc.user.gid, groups: proc.user.additionalGids ?? [], search,
  }, confined, proc.terminal ? { rows: proc.consoleSize?.height || 24, cols: proc.consoleSize?.width || 80 } : null);
  return [...(proc.user.umask !== undefined ? [{ op: 'umask', mask: proc.user.umask } as ChildStep] : []), ...steps];
}
// #endregion

/** The kernel raises an ambient capability only if it is permitted and inheritable; runc's default spec lists some that
 *  are not (it warns and goes on, as tsrun-oci does: for root, whose every execve gets the bounding set, they change nothing). */
export function ambientCapabilities(caps: NonNullable<OciProcess['capabilities']>): { raised: string[]; skipped: string[] } {
  const raisable = (cap: string) => !!caps.permitted?.includes(cap) && !!caps.inheritable?.includes(cap);
  return { raised: (caps.ambient ?? []).filter(raisable), skipped: (caps.ambient ?? []).filter((cap) => !raisable(cap)) };
}

/** cgroupsPath below each hierarchy's root; without one, tsrun-oci/ID. systemd's slice:prefix:name is not cgroupfs. */
function cgroupPath(cgroupsPath: string | undefined, id: string): string {
  if (!cgroupsPath) return path.join('tsrun-oci', id);
  if (cgroupsPath.includes(':')) throw fail(`config.json: linux.cgroupsPath ${JSON.stringify(cgroupsPath)} is systemd's form`, 'tsrun-oci manages cgroupfs paths only: drop --systemd-cgroup (containerd: SystemdCgroup = false)');
  return path.normalize(cgroupsPath).replace(/^\/+/, '');
}

export function resourceLimits({ memory, cpu, pids }: OciResources): ResourceLimits {
  const limits: ResourceLimits = {};
  if (memory?.limit && memory.limit > 0) limits.memory = memory.limit;
  if (memory?.swap && (memory.swap > 0 || memory.swap === -1)) limits.memorySwap = memory.swap;
  if (cpu?.quota && cpu.quota > 0) limits.cpus = cpu.quota / (cpu.period || 100_000);
  if (cpu?.shares) limits.cpuShares = cpu.shares;
  if (cpu?.cpus) limits.cpusetCpus = cpu.cpus;
  if (pids?.limit && pids.limit > 0) limits.pidsLimit = pids.limit;
  return limits;
}

// #region device-rules
/** linux.resources.devices, an ordered list of allow and deny, as tsrun's allow-list. A deny of everything may
 *  come first (Docker's and runc's lists do), and a deny of what no earlier rule allowed changes nothing (Docker
 *  ends with one for /dev/fuse); a deny that would cut into an allow cannot be an allow-list, and is refused.
 *  The nodes every container gets are allowed, as runc allows them. */
function deviceRules(rules: OciDeviceRule[] = []): DeviceRule[] {
  const allowed: DeviceRule[] = [];
  rules.forEach((rule, i) => {
    const line: DeviceRule = { type: rule.type ?? 'a', major: rule.major ?? '*', minor: rule.minor ?? '*', access: rule.access ?? 'rwm' };
    if (rule.allow) allowed.push(line);
    else if (allowed.some((allow) => overlap(allow, line))) {
      throw fail(`config.json: linux.resources.devices[${i}]: a deny rule that takes back part of an earlier allow is not supported`);
    }
  });
  return [...DEFAULT_DEVICE_RULES, ...allowed];
}

function overlap(a: DeviceRule, b: DeviceRule): boolean {
  const same = <T>(x: T | '*' | 'a', y: T | '*' | 'a') => x === y || x === '*' || y === '*' || x === 'a' || y === 'a';
  return same(a.type, b.type) && same(a.major, b.major) && same(a.minor, b.minor) && [...a.access].some((c) => b.access.includes(c));
}
// #endregion

/** RLIMIT_NOFILE -> nofile, the name --ulimit uses. */
function rlimit({ type, soft, hard }: { type: string; soft: number; hard: number }): Ulimit {
  const name = type.replace(/^RLIMIT_/, '').toLowerCase();
  if (ULIMIT_RESOURCES[name] !== type) throw fail(`config.json: process.rlimits: unknown type ${JSON.stringify(type)}`);
  // A Go runtime writes "unlimited" as 2^64 - 1, which JSON.parse reads as 18446744073709552000.
  const value = (n: number) => (n >= 2 ** 63 ? -1 : n);
  return { name, soft: value(soft), hard: value(hard) };
}

// #region seccomp
/** config.json's seccomp is Docker's profile format already resolved for this container: no includes or excludes,
 *  so the same parser and resolver take it, and libseccomp compiles it. */
function seccompProgram(sys: Syscalls, seccomp: NonNullable<OciSpec['linux']>['seccomp'], capabilities: string[]): string {
  const profile = parseSeccompProfile(JSON.stringify({ syscalls: [], ...seccomp }), 'of config.json (linux.seccomp)');
  const filter = resolveSeccompProfile(profile, { capabilities, arch: os.machine(), kernel: os.release() });
  return sys.seccomp_export_bpf(filter).toString('base64');
}
// #endregion

// #region mounts
const FLAGS: Record<string, { set?: string[]; clear?: string[] }> = {
  ro: { set: ['MS_RDONLY'] }, rw: { clear: ['MS_RDONLY'] },
  nosuid: { set: ['MS_NOSUID'] }, suid: { clear: ['MS_NOSUID'] },
  nodev: { set: ['MS_NODEV'] }, dev: { clear: ['MS_NODEV'] },
  noexec: { set: ['MS_NOEXEC'] }, exec: { clear: ['MS_NOEXEC'] },
  sync: { set: ['MS_SYNCHRONOUS'] }, async: { clear: ['MS_SYNCHRONOUS'] },
  dirsync: { set: ['MS_DIRSYNC'] },
  noatime: { set: ['MS_NOATIME'] }, atime: { clear: ['MS_NOATIME'] },
  nodiratime: { set: ['MS_NODIRATIME'] }, diratime: { clear: ['MS_NODIRATIME'] },
  relatime: { set: ['MS_RELATIME'] }, norelatime: { clear: ['MS_RELATIME'] },
  strictatime: { set: ['MS_STRICTATIME'] }, nostrictatime: { clear: ['MS_STRICTATIME'] },
  bind: { set: ['MS_BIND'] }, rbind: { set: ['MS_BIND', 'MS_REC'] },
};
const PROPAGATION: Record<string, string[]> = {
  private: ['MS_PRIVATE'], rprivate: ['MS_PRIVATE', 'MS_REC'], slave: ['MS_SLAVE'], rslave: ['MS_SLAVE', 'MS_REC'],
  shared: ['MS_SHARED'], rshared: ['MS_SHARED', 'MS_REC'], unbindable: ['MS_UNBINDABLE'], runbindable: ['MS_UNBINDABLE', 'MS_REC'],
};

function propagationFlag(name: string): string {
  const flags = PROPAGATION[name];
  if (!flags) throw fail(`config.json: linux.rootfsPropagation: unknown value ${JSON.stringify(name)}`);
  return flags[0]!;
}

/** One entry of config.json's mounts: the flags and data of its options, the target made inside the root, the
 *  mount, then what a bind can take only from a second call (read-only) or a call of its own (propagation). */
export function mountSteps(mount: OciMount, root: string, cgroup: CgroupPlan): ChildStep[] {
  const flags = new Set<string>();
  const data: string[] = [];
  const propagation: string[][] = [];
  for (const option of mount.options ?? []) {
    const flag = FLAGS[option];
    if (flag) {
      flag.set?.forEach((f) => flags.add(f));
      flag.clear?.forEach((f) => flags.delete(f));
    } else if (PROPAGATION[option]) propagation.push(PROPAGATION[option]!);
    else data.push(option);
  }
  const target = path.posix.normalize(mount.destination);
  if (!target.startsWith('/')) throw fail(`config.json: mounts: destination ${JSON.stringify(mount.destination)} must be absolute`);
  const bind = mount.type === 'bind' || flags.has('MS_BIND');
  if (mount.type === 'cgroup') return cgroupMountSteps(target, root, cgroup, flags.has('MS_RDONLY'));
  // A bind of a file needs a file to cover; everything else, a directory.
  const isFile = bind && !!mount.source && !fs.statSync(mount.source).isDirectory();
  const make: ChildStep[] = [
    ...ancestors(isFile ? path.posix.dirname(target) : target).map((dir): ChildStep => ({ op: 'mkdir', root, path: dir, mode: 0o755 })),
    ...(isFile ? [{ op: 'create_file', root, path: target, mode: 0o644 } as ChildStep] : []),
  ];
  const mountFlags = [...flags].filter((f) => !(bind && f === 'MS_RDONLY'));
  return [
    ...make,
    { op: 'mount', source: mount.source ?? mount.type ?? 'none', root, target, fstype: bind ? '' : mount.type ?? '', flags: mountFlags, data: data.join(',') },
    ...(bind && flags.has('MS_RDONLY') ? [{ op: 'mount', source: '', root, target, fstype: '', flags: [...new Set(['MS_BIND', 'MS_REMOUNT', ...flags])], data: '' } as ChildStep] : []),
    ...propagation.map((p): ChildStep => ({ op: 'mount', source: '', root, target, fstype: '', flags: p, data: '' })),
  ];
}

/** A "cgroup" mount: on v2 the cgroup2 filesystem (in the container's cgroup namespace, its own cgroup is the
 *  root); on v1, as runc, a tmpfs with the container's own directory of each hierarchy bound in. */
function cgroupMountSteps(target: string, root: string, cgroup: CgroupPlan, readOnly: boolean): ChildStep[] {
  const ro = readOnly ? ['MS_RDONLY'] : [];
  const base = ['MS_NOSUID', 'MS_NODEV', 'MS_NOEXEC'];
  const dirs = ancestors(target).map((dir): ChildStep => ({ op: 'mkdir', root, path: dir, mode: 0o755 }));
  if (cgroup.version === 2) return [...dirs, { op: 'mount', source: 'cgroup', root, target, fstype: 'cgroup2', flags: [...base, ...ro], data: '' }];
  const hierarchies = [...new Set(Object.values(cgroup.byController))];
  return [
    ...dirs,
    { op: 'mount', source: 'tmpfs', root, target, fstype: 'tmpfs', flags: base, data: 'mode=755' },
    ...hierarchies.flatMap((dir): ChildStep[] => {
      const at = path.posix.join(target, hierarchyName(dir, cgroup));
      return [
        { op: 'mkdir', root, path: at, mode: 0o755 },
        { op: 'mount', source: dir, root, target: at, fstype: '', flags: ['MS_BIND', 'MS_REC'], data: '' },
        ...(readOnly ? [{ op: 'mount', source: '', root, target: at, fstype: '', flags: ['MS_BIND', 'MS_REMOUNT', ...base, ...ro], data: '' } as ChildStep] : []),
      ];
    }),
    ...(readOnly ? [{ op: 'mount', source: '', root, target, fstype: '', flags: ['MS_REMOUNT', ...base, ...ro], data: 'mode=755' } as ChildStep] : []),
  ];
}

/** "cpu,cpuacct" for /sys/fs/cgroup/cpu,cpuacct/docker/ID: the hierarchy's mount point's name. */
function hierarchyName(dir: string, cgroup: CgroupPlan): string {
  const controllers = Object.entries(cgroup.byController).filter(([, d]) => d === dir).map(([c]) => c);
  const match = dir.split('/').find((part) => controllers.some((c) => part.split(',').includes(c)));
  return match ?? controllers.join(',');
}
// #endregion

// #region dev
/** A /dev the bundle mounted as a tmpfs gets what runc puts there: the standard nodes, the bundle's own, and the links. */
function devSteps(root: string, devices: NonNullable<NonNullable<OciSpec['linux']>['devices']>): ChildStep[] {
  const TYPE = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 } as const;
  const own = new Set(devices.map((d) => path.posix.normalize(d.path)));
  return [
    ...defaultDeviceNodeSteps(root).filter((step) => step.op === 'mknod' && !own.has(step.path)),
    ...devices.flatMap((d): ChildStep[] => [
      ...ancestors(path.posix.dirname(d.path)).map((dir): ChildStep => ({ op: 'mkdir', root, path: dir, mode: 0o755 })),
      { op: 'mknod', root, path: d.path, mode: TYPE[d.type] | ((d.fileMode ?? 0o666) & 0o777), major: d.major ?? 0, minor: d.minor ?? 0 },
    ]),
    ...devLinkSteps(root),
  ];
}
// #endregion

// #region sysctl
/** Only the settings a container's own namespaces hold, as runc allows: the rest would change the host. */
function sysctlSteps(sysctl: Record<string, string>, root: string, hasProc: boolean, ownNetwork: boolean, ownIpc: boolean): ChildStep[] {
  return Object.entries(sysctl).map(([key, value]): ChildStep => {
    const ipc = /^(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs\.mqueue\.)/.test(key);
    const net = key.startsWith('net.');
    if (!(ipc && ownIpc) && !(net && ownNetwork)) throw fail(`config.json: linux.sysctl: ${key} is not in the container's own namespaces`, 'only net.* (with a new network namespace) and the IPC settings can be set');
    if (!hasProc) throw fail('config.json: linux.sysctl needs a proc mount');
    if (key.includes('/') || key.split('.').includes('..')) throw fail(`config.json: linux.sysctl: invalid name ${JSON.stringify(key)}`);
    // The container's procfs, mounted above under the root: its sysctl files are the container's namespaces'.
    return { op: 'write_file', path: path.join(root, 'proc/sys', key.replace(/\./g, '/')), data: value };
  });
}
// #endregion

// #region masks
/** maskedPaths: a directory gets an empty read-only tmpfs over it, anything else /dev/null (runc's rule). Whether it is
 *  a directory is asked of the host's own /proc and /sys, the same kernel's files; other paths are taken as files. */
function maskSteps(paths: string[], root: string): ChildStep[] {
  const isDir = (p: string) => { try { return /^\/(proc|sys)\//.test(p) && fs.lstatSync(p).isDirectory(); } catch { return false; } };
  return maskedPathSteps(paths.filter((p) => !isDir(p)), paths.filter(isDir), root);
}
// #endregion
