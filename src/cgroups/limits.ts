// Docker's resource flags, and the cgroup files they become in v1 and in v2.
import { fail } from '../errors.js';
import type { Controller } from './layout.js';

export interface ResourceLimits {
  /** --memory, in bytes */
  memory?: number;
  /** --memory-swap: memory plus swap, in bytes; -1 for unlimited swap */
  memorySwap?: number;
  /** --cpus, e.g. 1.5 */
  cpus?: number;
  /** --cpu-shares, relative weight (docker's default is 1024) */
  cpuShares?: number;
  /** --pids-limit */
  pidsLimit?: number;
  /** --cpuset-cpus, e.g. "0-1" or "0,2" */
  cpusetCpus?: string;
}

/** One write into the container's cgroup: controller, file name, value. */
export interface CgroupSetting {
  controller: Controller;
  file: string;
  value: string;
}

const CFS_PERIOD_US = 100_000;
const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "512m" -> 536870912, as docker reads --memory (b, k, m, g; case-insensitive). */
export function parseBytes(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg])?b?$/i.exec(text.trim());
  if (!match) throw fail(`invalid value ${JSON.stringify(text)} for ${flag}`, 'give a size like 64m or 1g');
  const bytes = Math.round(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]!);
  // Beyond 2^53 a number loses its last digits (and 400 nines are Infinity): no machine has that much anyway.
  if (!Number.isSafeInteger(bytes)) throw fail(`invalid value ${JSON.stringify(text)} for ${flag}: too large`, 'give a size like 64m or 1g');
  return bytes;
}

// #region cgroup-v1
export function settingsV1(limits: ResourceLimits): CgroupSetting[] {
  const settings: CgroupSetting[] = [];
  if (limits.memory !== undefined) {
    settings.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(limits.memory) });
    const swap = memorySwap(limits);
    if (swap !== undefined) settings.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(swap) });
  }
  if (limits.cpus !== undefined) {
    settings.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CFS_PERIOD_US) });
    settings.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(Math.round(limits.cpus * CFS_PERIOD_US)) });
  }
  if (limits.cpuShares !== undefined) settings.push({ controller: 'cpu', file: 'cpu.shares', value: String(limits.cpuShares) });
  if (limits.pidsLimit !== undefined) settings.push({ controller: 'pids', file: 'pids.max', value: pidsMax(limits.pidsLimit) });
  if (limits.cpusetCpus !== undefined) settings.push({ controller: 'cpuset', file: 'cpuset.cpus', value: limits.cpusetCpus });
  return settings;
}
// #endregion

// #region cgroup-v2
export function settingsV2(limits: ResourceLimits): CgroupSetting[] {
  const settings: CgroupSetting[] = [];
  if (limits.memory !== undefined) {
    settings.push({ controller: 'memory', file: 'memory.max', value: String(limits.memory) });
    const swap = memorySwap(limits);
    // v2 limits swap on its own, not memory plus swap.
    if (swap !== undefined) settings.push({ controller: 'memory', file: 'memory.swap.max', value: swap === -1 ? 'max' : String(swap - limits.memory) });
  }
  if (limits.cpus !== undefined) {
    settings.push({ controller: 'cpu', file: 'cpu.max', value: `${Math.round(limits.cpus * CFS_PERIOD_US)} ${CFS_PERIOD_US}` });
  }
  if (limits.cpuShares !== undefined) {
    // v2 weights run 1..10000 where v1 shares ran 2..262144; the conversion runc and crun use (integer division).
    settings.push({ controller: 'cpu', file: 'cpu.weight', value: String(1 + Math.floor(((limits.cpuShares - 2) * 9999) / 262142)) });
  }
  if (limits.pidsLimit !== undefined) settings.push({ controller: 'pids', file: 'pids.max', value: pidsMax(limits.pidsLimit) });
  if (limits.cpusetCpus !== undefined) settings.push({ controller: 'cpuset', file: 'cpuset.cpus', value: limits.cpusetCpus });
  return settings;
}
// #endregion

/** Docker: --memory alone allows as much swap again (memory-swap = 2 × memory); -1 means unlimited. */
function memorySwap(limits: ResourceLimits): number | undefined {
  if (limits.memorySwap === undefined) return limits.memory! * 2;
  if (limits.memorySwap !== -1 && limits.memorySwap < limits.memory!) {
    throw fail('--memory-swap must be at least --memory', 'it counts memory plus swap: give a larger value, or -1 for unlimited swap');
  }
  return limits.memorySwap;
}

const pidsMax = (limit: number) => (limit <= 0 ? 'max' : String(limit));
