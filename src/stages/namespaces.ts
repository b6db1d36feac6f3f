// Stage 5, namespaces: decide which namespaces the container's process gets,
// make its cgroup (the limits, the devices it may open), and list, step by
// step, how its child builds the container's world before running the
// command: private mounts, the cgroup joined, the overlay as root, /proc,
// /sys, /dev, then pivot_root so the host's filesystem is out of reach.
//
// The steps are plain data. The child (native/src/spawn.cc) performs them in
// order right after clone(), and reports the first one that fails.
import type { ContainerRecord, NamespacesPlan, NetworkPlan, RootfsPlan } from '../container.js';
import type { Runtime } from '../runtime.js';
import { stepsAndSpans, type ChildStep } from '../kernel/steps.js';
import { annotate } from '../trace/span.js';
import { createCgroup, hostCgroupLayout, planCgroup, type CgroupPlan } from '../cgroups/cgroup.js';
import type { CgroupLayout } from '../cgroups/layout.js';
import { DEFAULT_SECURITY } from '../security/options.js';
import { systemPathSteps, systemPathsMasked } from '../security/system-paths.js';
import { ALL_DEVICES, DEFAULT_DEVICE_RULES, defaultDeviceNodeSteps, devLinkSteps, deviceNodeSteps, hostDevices, mappedDevices, type DeviceRule } from '../security/devices.js';

// #region clone-flags
/** One new namespace of each kind: the container sees its own mounts (NEWNS),
 *  hostname (NEWUTS), System V IPC (NEWIPC), process ids (NEWPID: its command is
 *  PID 1) and network stack (NEWNET). Its cgroup namespace comes a moment later,
 *  from unshare, once the child is in its own cgroup: that cgroup is then its "/". */
const CLONE_FLAGS = ['CLONE_NEWNS', 'CLONE_NEWUTS', 'CLONE_NEWIPC', 'CLONE_NEWPID', 'CLONE_NEWNET'];

/** Only `--network none` needs a new, empty network stack from clone: on the bridge, the
 *  child joins the namespace the network stage made (its setns step); with `--network host`
 *  it keeps the host's. */
function cloneFlagsFor(net: NetworkPlan): string[] {
  return net.mode === 'none' ? CLONE_FLAGS : CLONE_FLAGS.filter((flag) => flag !== 'CLONE_NEWNET');
}
// #endregion

/** `cgroups`: where the cgroup filesystems are (this machine's, unless a test gives a directory of its own). */
export async function namespaces(
  runtime: Runtime, container: ContainerRecord, rootfs: RootfsPlan, net: NetworkPlan, cgroups: CgroupLayout = hostCgroupLayout(),
): Promise<NamespacesPlan> {
  const cloneFlags = cloneFlagsFor(net);
  annotate({ 'tsrun.namespaces': cloneFlags });
  const root = rootfs.mountpoint;
  const security = container.config.security ?? DEFAULT_SECURITY;
  // --device nodes, or with --privileged every node of the host's /dev; the cgroup lets the container open them.
  const mapped = security.privileged ? [] : mappedDevices(security.devices);
  const devices = security.privileged ? hostDevices().map((device) => ({ device, target: device.path })) : mapped;
  const deviceRules = security.privileged ? ALL_DEVICES : [
    ...DEFAULT_DEVICE_RULES,
    ...mapped.map(({ device, access }): DeviceRule => ({ type: device.type, major: device.major, minor: device.minor, access })),
  ];
  // #region cgroup-create
  // Made now, before the child exists: its first steps join it. Released with the container (containers/lifecycle.ts).
  const cgroup = planCgroup(cgroups, container.id, container.config.resources ?? {}, deviceRules);
  createCgroup(cgroup, runtime.sys);
  // #endregion
  const mounts = await volumeMountSteps(runtime, container, rootfs);
  // Each { span } names the steps after it for the trace: the child times them itself.
  const { steps, spans } = stepsAndSpans([
    { span: 'tsrun.child.propagation' },
    // #region propagation
    // The child starts with a copy of the host's mounts. Make them private first,
    // so that nothing mounted from here on propagates back to the host.
    { op: 'mount', source: '', target: '/', fstype: '', flags: ['MS_REC', 'MS_PRIVATE'], data: '' },
    // #endregion
    { span: 'tsrun.child.cgroup' },
    ...joinCgroupSteps(cgroup),
    { span: 'tsrun.child.network' },
    ...net.steps,
    { span: 'tsrun.child.hostname' },
    // #region hostname
    { op: 'sethostname', name: container.config.hostname }, // in the new UTS namespace: the host keeps its name
    // #endregion
    { span: 'tsrun.child.overlay-mount' },
    // #region overlay-mount
    ...rootfs.steps,
    // #endregion
    { span: 'tsrun.child.pseudo-filesystems' },
    // #region pseudo-filesystems
    { op: 'umask', mask: 0 },
    { op: 'mkdir', root, path: '/proc', mode: 0o555 },
    { op: 'mount', source: 'proc', root, target: '/proc', fstype: 'proc', flags: ['MS_NOSUID', 'MS_NODEV', 'MS_NOEXEC'], data: '' },
    { op: 'mkdir', root, path: '/sys', mode: 0o555 },
    // Read-only: /sys holds the host's devices and kernel knobs (--privileged makes it writable, as Docker does).
    { op: 'mount', source: 'sysfs', root, target: '/sys', fstype: 'sysfs', flags: ['MS_NOSUID', 'MS_NODEV', 'MS_NOEXEC', ...(security.privileged ? [] : ['MS_RDONLY'])], data: '' },
    { op: 'mkdir', root, path: '/dev', mode: 0o755 },
    { op: 'mount', source: 'tmpfs', root, target: '/dev', fstype: 'tmpfs', flags: ['MS_NOSUID', 'MS_STRICTATIME'], data: 'mode=755,size=65536k' },
    ...defaultDeviceNodeSteps(root),
    ...deviceNodeSteps(devices, root),
    ...devLinkSteps(root),
    { op: 'mkdir', root, path: '/dev/pts', mode: 0o755 },
    // newinstance: the container's ptys are numbered apart from the host's.
    { op: 'mount', source: 'devpts', root, target: '/dev/pts', fstype: 'devpts', flags: ['MS_NOSUID', 'MS_NOEXEC'], data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' },
    { op: 'mkdir', root, path: '/dev/shm', mode: 0o1777 },
    { op: 'mount', source: 'shm', root, target: '/dev/shm', fstype: 'tmpfs', flags: ['MS_NOSUID', 'MS_NODEV', 'MS_NOEXEC'], data: 'mode=1777,size=65536k' },
    { op: 'mkdir', root, path: '/dev/mqueue', mode: 0o755 },
    { op: 'mount', source: 'mqueue', root, target: '/dev/mqueue', fstype: 'mqueue', flags: ['MS_NOSUID', 'MS_NODEV', 'MS_NOEXEC'], data: '' },
    { op: 'umask', mask: 0o022 },
    // #endregion
    { span: 'tsrun.child.etc-files' },
    // #region etc-files
    { op: 'mkdir', root, path: '/etc', mode: 0o755 },
    ...bindFile(net.files.hostname, root, '/etc/hostname'),
    ...bindFile(net.files.hosts, root, '/etc/hosts'),
    ...bindFile(net.files.resolvConf, root, '/etc/resolv.conf'),
    // #endregion
    { span: 'tsrun.child.mounts' },
    ...mounts, // volumes, bind mounts, tmpfs: see src/volumes/mounts.ts
    // #region read-only
    // --read-only: the root, not what is mounted on it, can no longer be written.
    ...(container.config.readOnly ? [{ op: 'mount', source: '', target: root, fstype: '', flags: ['MS_BIND', 'MS_REMOUNT', 'MS_RDONLY'], data: '' } as ChildStep] : []),
    // #endregion
    { span: 'tsrun.child.masks' },
    ...(systemPathsMasked(security) ? systemPathSteps(root) : []),
    { span: 'tsrun.child.pivot_root' },
    ...pivotRootSteps(root),
  ]);
  return { cloneFlags, cgroup, root, steps, stepSpans: spans };
}

// The two moves every container's child makes, whoever planned the rest (an OCI bundle's too: src/oci/plan.ts).

// #region cgroup-join
/** Into the container's cgroup ("0" means "me"), then a cgroup namespace rooted there,
 *  so inside, /proc/self/cgroup says "/" and the host's hierarchy stays out of sight. */
export function joinCgroupSteps(cgroup: CgroupPlan, newNamespace = true): ChildStep[] {
  return [
    ...cgroup.joins.map((file): ChildStep => ({ op: 'write_file', path: file, data: '0' })),
    ...(newNamespace ? [{ op: 'unshare', flags: ['CLONE_NEWCGROUP'] } as ChildStep] : []),
  ];
}
// #endregion

// #region pivot-root
/** Make the overlay the root. pivot_root(".", ".") stacks the old root under
 *  the new one; detaching it leaves the host's filesystem unreachable. */
export function pivotRootSteps(root: string): ChildStep[] {
  return [
    { op: 'chdir', path: root },
    { op: 'pivot_root', new_root: '.', put_old: '.' },
    { op: 'umount2', target: '.', flags: ['MNT_DETACH'] },
    { op: 'chdir', path: '/' },
  ];
}
// #endregion

// #region move-root
/** pivot_root's stand-in, for a host that runs from its initial ramfs, whose root pivot_root cannot move
 *  (`tsrun-oci --no-pivot`, as runc does it): the container's root mount moved onto "/", and chroot into it. The
 *  host's root stays in the mount namespace, covered, and a chroot is a fence a process with CAP_SYS_CHROOT can
 *  climb: pivot_root is the default. */
export function moveRootSteps(root: string): ChildStep[] {
  return [
    { op: 'chdir', path: root },
    { op: 'mount', source: root, target: '/', fstype: '', flags: ['MS_MOVE'], data: '' },
    { op: 'chroot', path: '.' },
    { op: 'chdir', path: '/' },
  ];
}
// #endregion

/** The child's steps for -v, --mount and --tmpfs; the code for them is loaded only when there are some. */
async function volumeMountSteps(runtime: Runtime, container: ContainerRecord, rootfs: RootfsPlan): Promise<ChildStep[]> {
  if (!container.config.mounts?.length) return [];
  const { mountSteps, prepareMounts } = await import('../volumes/mounts.js');
  return mountSteps(prepareMounts(runtime.paths, container.config.mounts, [rootfs.upperdir, ...rootfs.lowerdirs], runtime.sys), rootfs.mountpoint);
}

/** A host file (the network stage's) bound over a file of the container's, made first if the image has none. */
function bindFile(source: string, root: string, target: string): ChildStep[] {
  return [
    { op: 'create_file', root, path: target, mode: 0o644 },
    { op: 'mount', source, root, target, fstype: '', flags: ['MS_BIND'], data: '' },
  ];
}
