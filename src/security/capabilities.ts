// Capabilities: root's power cut into ~40 pieces (man 7 capabilities). A
// container's root keeps Docker's default 14 — enough to chown, bind port 80,
// switch users — and loses the rest: CAP_SYS_ADMIN (mount, most of the
// kernel's knobs), CAP_SYS_MODULE, CAP_SYS_PTRACE, CAP_NET_ADMIN, …
import fs from 'node:fs';
import { fail } from '../errors.js';

/** Every capability, in the kernel's order: a capability's number is its index (linux/capability.h). */
export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

// #region default-capabilities
/** What a container's root may do by default: Docker's list, unchanged since 2014 apart from what it dropped. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
// #endregion

/** "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" all name CAP_NET_ADMIN; "ALL" stays ALL. */
export function normalizeCapability(flag: string, name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL' || upper === 'CAP_ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!(CAPABILITIES as readonly string[]).includes(full)) {
    throw fail(`invalid ${flag}: unknown capability ${JSON.stringify(name)}`, 'see `man 7 capabilities` for the names, e.g. NET_ADMIN or CAP_SYS_TIME');
  }
  return full;
}

// #region capability-set
/** The capabilities a container gets, as Docker decides them: --privileged gets all; --cap-add ALL
 *  is all but those dropped; --cap-drop ALL is only those added; otherwise the default 14, minus, plus. */
export function containerCapabilities(privileged: boolean, capAdd: string[], capDrop: string[]): string[] {
  const all = availableCapabilities();
  if (privileged) return all;
  if (capAdd.includes('ALL')) return all.filter((cap) => !capDrop.includes(cap));
  const caps = capDrop.includes('ALL') ? capAdd : [...DEFAULT_CAPABILITIES.filter((cap) => !capDrop.includes(cap)), ...capAdd];
  const missing = caps.find((cap) => !all.includes(cap));
  if (missing) {
    throw fail(`cannot give the container ${missing}: tsrun itself does not have it (see CapBnd in /proc/self/status)`,
      'a virtual machine or an outer container took it away; run without it');
  }
  return inKernelOrder(caps);
}
// #endregion

/** Sorted by number, without repeats: the order the kernel and /proc/PID/status use. */
export function inKernelOrder(caps: string[]): string[] {
  return (CAPABILITIES as readonly string[]).filter((cap) => caps.includes(cap));
}

/** As /proc/PID/status shows a set: "00000000a80425fb". */
export function capabilityMask(caps: string[]): string {
  let mask = 0n;
  for (const cap of caps) mask |= 1n << BigInt((CAPABILITIES as readonly string[]).indexOf(cap));
  return mask.toString(16).padStart(16, '0');
}

let available: string[] | undefined;

/** "All" capabilities is what tsrun itself may hand on: those in its own bounding set (a VM or an outer
 *  container may have taken some away, and capset refuses to grant what the caller cannot have). */
export function availableCapabilities(): string[] {
  if (!available) {
    const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapBnd:'));
    const bounding = BigInt(`0x${line?.split(/\s+/)[1] ?? '0'}`);
    available = CAPABILITIES.filter((_, number) => (bounding >> BigInt(number)) & 1n);
  }
  return available;
}
