// Where the cgroup filesystems are. Two worlds exist:
//   v2 ("unified"): one tree at /sys/fs/cgroup, every controller in it;
//   v1: one tree per controller (/sys/fs/cgroup/memory, …/cpu, …/pids, …).
// Most machines today run v2; this one runs v1. tsrun reads the mount table
// at run time and supports both.

export type CgroupLayout =
  | { version: 2; root: string }
  | { version: 1; roots: Partial<Record<Controller, string>> };

/** The controllers tsrun uses: limits (memory, cpu, cpuset, pids), CPU accounting for `stats` (cpuacct, v1 only),
 *  freezing for `pause` (freezer, v1 only: v2 has cgroup.freeze in every cgroup), and the device allow-list
 *  (devices, v1 only: on v2 it is a BPF program attached to the cgroup). */
export const CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer', 'devices'] as const;
export type Controller = (typeof CONTROLLERS)[number];

// #region cgroup-layout
/** The layout from /proc/self/mountinfo's text: v2 if /sys/fs/cgroup itself is cgroup2, else the v1 trees. */
export function cgroupLayout(mountinfo: string): CgroupLayout {
  const mounts = mountinfo.split('\n').filter(Boolean).map((line) => {
    const [before, after = ''] = line.split(' - ');
    const mountPoint = before!.split(' ')[4]!;
    const [fstype, , superOptions = ''] = after.split(' ');
    return { mountPoint, fstype, options: superOptions.split(',') };
  });
  const unified = mounts.find((m) => m.fstype === 'cgroup2' && m.mountPoint === '/sys/fs/cgroup');
  if (unified) return { version: 2, root: unified.mountPoint };

  const roots: Partial<Record<Controller, string>> = {};
  for (const mount of mounts.filter((m) => m.fstype === 'cgroup')) {
    for (const controller of CONTROLLERS) {
      // cpu is often co-mounted as "cpu,cpuacct": the option list says which controllers a tree has.
      if (mount.options.includes(controller) && !roots[controller]) roots[controller] = mount.mountPoint;
    }
  }
  return { version: 1, roots };
}
// #endregion
