// /proc and /sys are the kernel's own view of the whole machine, not only of
// the container: some files there tell the host's secrets, others change the
// host when written. Docker hides the first kind and makes the second read-only;
// --privileged and --security-opt systempaths=unconfined leave them as they are.
import type { ChildStep } from '../kernel/steps.js';
import { securityOptions, type SecurityConfig } from './options.js';

// #region masked-paths
/** Kernel files a container must not read or write (Docker's list): hidden behind /dev/null or an empty tmpfs.
 *  They tell secrets (kcore: the host's memory; keys; timer_list and sched_debug: other processes) or reach
 *  hardware (acpi, scsi, firmware, powercap's energy counters, which leak what the CPU computes). */
export const MASKED_FILES = ['/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug'];
export const MASKED_DIRS = ['/proc/asound', '/proc/acpi', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
/** Kernel settings visible but read-only: writing them would change the host. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
// #endregion

/** As `docker inspect` lists them (HostConfig.MaskedPaths). */
export const MASKED_PATHS = [...MASKED_FILES, ...MASKED_DIRS];

/** Whether a container gets the masks and read-only paths: the namespaces stage applies them, inspect reports them. */
export function systemPathsMasked(security: SecurityConfig): boolean {
  return !security.privileged && !securityOptions(security.securityOpt).systemPathsUnconfined;
}

/** Masked files get /dev/null bound over them, masked directories an empty read-only tmpfs. A read-only path
 *  is bound onto itself, then remounted read-only: a bind mount takes new flags only from a remount. */
export function systemPathSteps(root: string): ChildStep[] {
  return [...maskedPathSteps(MASKED_FILES, MASKED_DIRS, root), ...readonlyPathSteps(READONLY_PATHS, root)];
}

/** The same steps for any lists: an OCI bundle's maskedPaths and readonlyPaths (src/oci/plan.ts). */
export function maskedPathSteps(files: string[], dirs: string[], root: string): ChildStep[] {
  return [
    ...files.map((p): ChildStep => ({ op: 'mount', source: '/dev/null', sourceInRoot: true, root, target: p, fstype: '', flags: ['MS_BIND'], data: '', optional: true })),
    ...dirs.map((p): ChildStep => ({ op: 'mount', source: 'tmpfs', root, target: p, fstype: 'tmpfs', flags: ['MS_RDONLY'], data: 'size=0', optional: true })),
  ];
}

export function readonlyPathSteps(paths: string[], root: string): ChildStep[] {
  return paths.flatMap((p): ChildStep[] => [
    { op: 'mount', source: p, sourceInRoot: true, root, target: p, fstype: '', flags: ['MS_BIND', 'MS_REC'], data: '', optional: true },
    { op: 'mount', source: '', root, target: p, fstype: '', flags: ['MS_BIND', 'MS_REMOUNT', 'MS_RDONLY'], data: '', optional: true },
  ]);
}
