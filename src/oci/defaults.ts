// `tsrun-oci spec` and `tsrun-oci features`: the config.json a new bundle starts from, and what this runtime can
// honour, in the runtime spec's features format (features.md), which callers read before they write a config.
import os from 'node:os';
import { CAPABILITIES, DEFAULT_CAPABILITIES } from '../security/capabilities.js';
import { MASKED_PATHS, READONLY_PATHS } from '../security/system-paths.js';
import { SECCOMP_ACTIONS, SECCOMP_OPERATORS } from '../kernel/seccomp.js';
import { seccompArchOf } from '../security/seccomp.js';
import { OCI_VERSION } from './state.js';
import type { OciSpec } from './spec.js';

/** As `runc spec`, with Docker's default capabilities: what `tsrun run` gives a container, written out. */
export function defaultSpec(): OciSpec {
  const nodev = ['nosuid', 'noexec', 'nodev'];
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...DEFAULT_CAPABILITIES], effective: [...DEFAULT_CAPABILITIES], permitted: [...DEFAULT_CAPABILITIES] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrun',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...nodev, 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: nodev },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...nodev, 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...nodev, 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}

export function features(): object {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [
      'ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'sync', 'async', 'dirsync', 'noatime', 'atime',
      'nodiratime', 'diratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'bind', 'rbind',
      'private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable',
    ],
    linux: {
      namespaces: ['pid', 'network', 'mount', 'ipc', 'uts', 'cgroup'],
      capabilities: [...CAPABILITIES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: true, actions: [...SECCOMP_ACTIONS], operators: [...SECCOMP_OPERATORS], archs: [seccompArchOf(os.machine())] },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'org.opencontainers.runtime-spec.features': 'tsrun-oci' },
  };
}
