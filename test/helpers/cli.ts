// Run the real CLI (bin/tsrun.js, compiled) as a child process, as a user would.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const TSRUN = path.resolve(import.meta.dirname, '../../bin/tsrun.js');

export interface CliResult { status: number | null; stdout: string; stderr: string }

export function tsrun(root: string, args: string[], options: SpawnSyncOptions = {}): CliResult {
  const result = spawnSync(process.execPath, [TSRUN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    ...options,
    env: { ...process.env, NO_COLOR: '1', ...options.env, TSRUN_ROOT: root },
  });
  return { status: result.status, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}

/** What a run could leave behind on the host: mounts, and processes that are
 *  tsrun or live in another PID namespace than ours (a container's). */
export function hostSnapshot(): { mounts: string[]; processes: string[] } {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' ').slice(3, 5).join(' ')) // root and mount point: ids change, places don't
    .filter(Boolean).sort();
  const ourPidNs = fs.readlinkSync('/proc/self/ns/pid');
  const processes = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).flatMap((pid) => {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const foreign = fs.readlinkSync(`/proc/${pid}/ns/pid`) !== ourPidNs;
      return foreign || cmdline.includes(TSRUN) ? [`${pid} ${cmdline}`] : [];
    } catch {
      return []; // exited while we looked
    }
  });
  return { mounts, processes: processes.sort() };
}
