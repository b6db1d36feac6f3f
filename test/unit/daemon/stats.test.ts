import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { networkCounters, statsDocument, systemCpuNanoseconds, type StatsSample } from '../../../src/daemon/stats.js';
import type { ContainerRecord } from '../../../src/container.js';

describe('docker stats: what the daemon reads, and the object the CLI reads', () => {
  it('sums the host\'s CPU time from /proc/stat\'s first line, its first seven counters, in nanoseconds', () => {
    const procStat = 'cpu  100 2 30 400 5 0 6 7 0 0\ncpu0 50 1 15 200 2 0 3 3 0 0\n';
    expect(systemCpuNanoseconds(procStat)).toBe((100 + 2 + 30 + 400 + 5 + 0 + 6) * 10_000_000);
    expect(() => systemCpuNanoseconds('intr 1 2 3\n')).toThrow(/cpu line/);
  });

  it('reads the network counters of /proc/PID/net/dev, loopback left out, none when it is all there is', () => {
    const netDev = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0',
      '  eth0:    1296      16    1    2    0     0          0         0      726       9    3    4    0     0       0          0',
      '',
    ].join('\n');
    expect(networkCounters(netDev)).toEqual({
      eth0: { rx_bytes: 1296, rx_packets: 16, rx_errors: 1, rx_dropped: 2, tx_bytes: 726, tx_packets: 9, tx_errors: 3, tx_dropped: 4 },
    });
    expect(networkCounters(netDev.split('\n').slice(0, 3).join('\n'))).toBeUndefined();
  });

  it('writes a sample and the one before it as cpu_stats and precpu_stats; a container not running as its name and id', () => {
    const container = { id: 'a'.repeat(64), name: 'box' } as ContainerRecord;
    const sample = (seconds: number, cpu: number): StatsSample => ({
      at: new Date(Date.UTC(2026, 11, 6, 12, 0, seconds)),
      usage: { memoryBytes: 4096, memoryLimit: null, memoryStat: { cache: 1024 }, cpuNanoseconds: cpu, perCpuNanoseconds: [cpu, 0], pids: 2, io: null },
      systemCpuNanoseconds: 1e12 + seconds * 2e9,
      onlineCpus: 2,
      networks: undefined,
    });
    expect(statsDocument(container, sample(1, 7e8), sample(0, 2e8))).toEqual({
      read: '2026-12-06T12:00:01.000Z',
      preread: '2026-12-06T12:00:00.000Z',
      pids_stats: { current: 2 },
      blkio_stats: { io_service_bytes_recursive: null },
      cpu_stats: { cpu_usage: { total_usage: 7e8, percpu_usage: [7e8, 0] }, system_cpu_usage: 1e12 + 2e9, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 2e8, percpu_usage: [2e8, 0] }, system_cpu_usage: 1e12, online_cpus: 2 },
      memory_stats: { usage: 4096, stats: { cache: 1024 }, limit: os.totalmem() },
      name: '/box',
      id: container.id,
    });
    expect(statsDocument(container, undefined, undefined)).toMatchObject({
      read: '0001-01-01T00:00:00Z', preread: '0001-01-01T00:00:00Z', memory_stats: {}, pids_stats: {}, name: '/box',
    });
  });
});
