// Device nodes are doors into the kernel's drivers: whoever may open the node
// for the host's disk may read and write the disk, namespaces or not. And a
// node is only a name with two numbers, which an image can ship or root can
// mknod. So the wall is not in the filesystem but in the devices cgroup: the
// kernel checks every open of a device against the container's allow-list.
import fs from 'node:fs';
import path from 'node:path';
import type { ChildStep } from '../kernel/steps.js';
import type { DeviceMapping } from './options.js';

/** One line of the allow-list: a type (c, b, or a for all), numbers (* for any), and r, w, m (mknod). */
export interface DeviceRule {
  type: 'a' | 'c' | 'b';
  major: number | '*';
  minor: number | '*';
  access: string;
}

// #region device-allow-list
/** What every container may open: runc's and Docker's list. Making any node (m) is allowed; opening one is not. */
export const DEFAULT_DEVICE_RULES: DeviceRule[] = [
  { type: 'c', major: '*', minor: '*', access: 'm' },
  { type: 'b', major: '*', minor: '*', access: 'm' },
  { type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { type: 'c', major: 136, minor: '*', access: 'rwm' }, // the ptys of /dev/pts
];
// #endregion

/** --privileged: every device. */
export const ALL_DEVICES: DeviceRule[] = [{ type: 'a', major: '*', minor: '*', access: 'rwm' }];

/** A rule as the v1 devices cgroup reads it: "c 1:3 rwm". */
export function formatDeviceRule(rule: DeviceRule): string {
  return rule.type === 'a' ? 'a' : `${rule.type} ${rule.major}:${rule.minor} ${rule.access}`;
}

/** A device node of the host, as stat(2) describes it. */
export interface HostDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  mode: number;
}

export function hostDevice(file: string): HostDevice {
  const stat = fs.statSync(file);
  // st_rdev packs the numbers glibc's way: major in bits 8-19 and 32-43, minor in 0-7 and 20-31.
  const major = ((stat.rdev >> 8) & 0xfff) | (Math.floor(stat.rdev / 2 ** 32) & ~0xfff);
  const minor = (stat.rdev & 0xff) | ((stat.rdev >> 12) & ~0xff);
  return { path: file, type: stat.isBlockDevice() ? 'b' : 'c', major, minor, mode: stat.mode };
}

/** --device: the host's node now (its numbers may have changed since create), at its path in the container. */
export function mappedDevices(mappings: DeviceMapping[]): Array<{ device: HostDevice; target: string; access: string }> {
  return mappings.map((mapping) => ({ device: hostDevice(mapping.pathOnHost), target: mapping.pathInContainer, access: mapping.cgroupPermissions }));
}

/** Skipped when --privileged copies the host's /dev: its own filesystems, and the nodes every container gets anyway. */
const NOT_COPIED = new Set(['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/ptmx']);

/** --privileged: every device node of the host's /dev, as Docker gives them. */
export function hostDevices(dir = '/dev'): HostDevice[] {
  const found: HostDevice[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (NOT_COPIED.has(file)) continue;
    if (entry.isDirectory()) found.push(...hostDevices(file));
    else if (entry.isCharacterDevice() || entry.isBlockDevice()) found.push(hostDevice(file));
  }
  return found;
}

const S_IFMT = 0o170000;

/** The child's steps that make nodes in the container's /dev: its directories first, then the node. */
export function deviceNodeSteps(devices: Array<{ device: HostDevice; target: string }>, root: string): ChildStep[] {
  const dirs = new Set<string>();
  for (const { target } of devices) {
    for (let dir = path.dirname(target); dir !== '/' && dir !== '/dev'; dir = path.dirname(dir)) dirs.add(dir);
  }
  return [
    ...[...dirs].sort().map((dir): ChildStep => ({ op: 'mkdir', root, path: dir, mode: 0o755 })),
    ...devices.map(({ device, target }): ChildStep => ({
      op: 'mknod', root, path: target, mode: (device.mode & S_IFMT) | (device.mode & 0o777), major: device.major, minor: device.minor,
    })),
  ];
}

const S_IFCHR = 0o020000;

/** The device nodes every container gets in its /dev, as docker gives them. */
const DEFAULT_NODES = [
  { name: 'null', major: 1, minor: 3 },
  { name: 'zero', major: 1, minor: 5 },
  { name: 'full', major: 1, minor: 7 },
  { name: 'random', major: 1, minor: 8 },
  { name: 'urandom', major: 1, minor: 9 },
  { name: 'tty', major: 5, minor: 0 },
];

export function defaultDeviceNodeSteps(root: string): ChildStep[] {
  return DEFAULT_NODES.map((d): ChildStep => ({ op: 'mknod', root, path: `/dev/${d.name}`, mode: S_IFCHR | 0o666, major: d.major, minor: d.minor }));
}

/** The links every /dev has (to the process's own descriptors, and ptmx to the container's devpts), as runc makes them. */
export function devLinkSteps(root: string): ChildStep[] {
  return [
    { op: 'symlink', target: '/proc/self/fd', root, linkpath: '/dev/fd' },
    { op: 'symlink', target: '/proc/self/fd/0', root, linkpath: '/dev/stdin' },
    { op: 'symlink', target: '/proc/self/fd/1', root, linkpath: '/dev/stdout' },
    { op: 'symlink', target: '/proc/self/fd/2', root, linkpath: '/dev/stderr' },
    { op: 'symlink', target: 'pts/ptmx', root, linkpath: '/dev/ptmx' },
  ];
}
