// GET /containers/{id}/stats: `docker stats`. What the container uses is read as `tsrun stats` reads it, from its
// cgroup (readUsage, src/cgroups/cgroup.ts); its network counters from /proc/PID/net/dev, which lists the
// interfaces of that process's network namespace; the host's CPU time from /proc/stat. The CLI does the sums: CPU %
// is the container's CPU time over the host's between two samples (precpu_stats is the one before), times the CPUs.
//
//   ?stream=1 (the default)   an object a second, each with the one before as its precpu_stats, until the client goes
//   ?stream=0                 one object, sampled a second after a first one, so that its CPU % means something
//   ?stream=0&one-shot=1      one object at once, its precpu_stats empty
//
// A container that is not running is an object with its name and id and nothing measured, as dockerd sends it.
import fs from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { isUp, type ContainerRecord } from '../container.js';
import { containerCgroup, readUsage, type CgroupUsage } from '../cgroups/cgroup.js';
import { lookUp } from './containers.js';
import { badRequest, queryFlag, sendJson, type DaemonRequest } from './http.js';

/** What one moment of a running container is. */
export interface StatsSample {
  at: Date;
  usage: CgroupUsage;
  /** All the host's CPUs' time so far (/proc/stat), in nanoseconds. */
  systemCpuNanoseconds: number;
  onlineCpus: number;
  /** By interface, loopback left out; undefined when the container has no interface of its own (--network none,
   *  host), as dockerd leaves `networks` out then. */
  networks: Record<string, NetworkCounters> | undefined;
}

export interface NetworkCounters {
  rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number;
  tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number;
}

const SAMPLE_INTERVAL_MS = 1000;
/** Go's zero time, which dockerd writes for a read that never happened. */
const NEVER = '0001-01-01T00:00:00Z';
/** /proc/stat counts in USER_HZ ticks, 100 a second on every Linux. */
const NANOSECONDS_PER_TICK = 1e9 / 100;

// #region stats
export async function stats(request: DaemonRequest): Promise<void> {
  const { query, res, signal } = request;
  const stream = query.get('stream') === null || queryFlag(query, 'stream');
  const oneShot = queryFlag(query, 'one-shot');
  if (stream && oneShot) throw badRequest('cannot have stream=true and one-shot=true');
  const container = await lookUp(request); // a container that is not there: a plain 404
  if (!stream) {
    let sample = await sampleNow(request);
    let previous: StatsSample | undefined;
    if (sample && !oneShot) {
      await sleep(SAMPLE_INTERVAL_MS);
      [previous, sample] = [sample, await sampleNow(request)];
    }
    return sendJson(res, 200, statsDocument(container, sample, previous));
  }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  let previous: StatsSample | undefined;
  try {
    while (!signal.aborted) {
      const sample = await sampleNow(request);
      res.write(JSON.stringify(statsDocument(container, sample, previous)) + '\n');
      previous = sample;
      await sleep(SAMPLE_INTERVAL_MS, undefined, { signal });
    }
  } catch {
    // the client has gone (the sleep is aborted), or the container has been removed: the stream ends
  } finally {
    res.end();
  }
}
// #endregion

/** The container as it is now, measured; undefined when it is not running (or stops while it is read). */
async function sampleNow(request: DaemonRequest): Promise<StatsSample | undefined> {
  const container = await lookUp(request);
  if (!isUp(container.state) || container.state.pid === null) return undefined;
  try {
    const usage = readUsage(containerCgroup(container.id, container.config.resources ?? {}));
    return {
      at: new Date(),
      usage,
      systemCpuNanoseconds: systemCpuNanoseconds(fs.readFileSync('/proc/stat', 'utf8')),
      onlineCpus: os.cpus().length,
      // With --network host the process sees the host's interfaces, which are not the container's to count.
      networks: container.config.network === 'host' ? undefined : networkCounters(fs.readFileSync(`/proc/${container.state.pid}/net/dev`, 'utf8')),
    };
  } catch {
    return undefined; // its cgroup or its process went meanwhile
  }
}

/** Docker's stats object, as the CLI reads it (docker/cli's stats_helpers.go). */
export function statsDocument(container: ContainerRecord, sample: StatsSample | undefined, previous: StatsSample | undefined): object {
  const cpu = (at: StatsSample | undefined) => (at ? {
    cpu_usage: { total_usage: at.usage.cpuNanoseconds, ...(at.usage.perCpuNanoseconds.length > 0 ? { percpu_usage: at.usage.perCpuNanoseconds } : {}) },
    system_cpu_usage: at.systemCpuNanoseconds,
    online_cpus: at.onlineCpus,
  } : { cpu_usage: { total_usage: 0 } });
  const io = sample?.usage.io;
  return {
    read: sample ? sample.at.toISOString() : NEVER,
    preread: previous ? previous.at.toISOString() : NEVER,
    pids_stats: sample ? { current: sample.usage.pids } : {},
    blkio_stats: {
      io_service_bytes_recursive: io ? io.flatMap(({ major, minor, readBytes, writeBytes }) => [
        { major, minor, op: 'read', value: readBytes }, { major, minor, op: 'write', value: writeBytes },
      ]) : null,
    },
    cpu_stats: cpu(sample),
    precpu_stats: cpu(previous),
    // The CLI shows usage less the page cache it could drop (total_inactive_file on v1, inactive_file on v2).
    memory_stats: sample ? { usage: sample.usage.memoryBytes, stats: sample.usage.memoryStat, limit: sample.usage.memoryLimit ?? os.totalmem() } : {},
    name: `/${container.name}`,
    id: container.id,
    ...(sample?.networks ? { networks: sample.networks } : {}),
  };
}

/** The host's CPU time so far: the first line of /proc/stat, its first seven counters (user, nice, system, idle,
 *  iowait, irq, softirq) summed, as dockerd sums them. */
export function systemCpuNanoseconds(procStat: string): number {
  const fields = procStat.split('\n')[0]!.trim().split(/\s+/);
  if (fields[0] !== 'cpu') throw new Error('/proc/stat does not begin with its cpu line');
  return fields.slice(1, 8).reduce((total, ticks) => total + Number(ticks), 0) * NANOSECONDS_PER_TICK;
}

/** /proc/PID/net/dev's interfaces but loopback; undefined when there is none. */
export function networkCounters(netDev: string): Record<string, NetworkCounters> | undefined {
  const entries = netDev.split('\n').slice(2).filter((line) => line.includes(':')).map((line) => {
    const [name, counters] = line.split(':');
    const n = counters!.trim().split(/\s+/).map(Number);
    return [name!.trim(), {
      rx_bytes: n[0]!, rx_packets: n[1]!, rx_errors: n[2]!, rx_dropped: n[3]!,
      tx_bytes: n[8]!, tx_packets: n[9]!, tx_errors: n[10]!, tx_dropped: n[11]!,
    }] as const;
  }).filter(([name]) => name !== 'lo');
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}
