// Reading processes from /proc: is the container's process still the one we started?
import fs from 'node:fs';

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may itself contain spaces: count fields after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return null;
  }
}

/** True when `pid` runs and is the process that started at `startTime` (pids get reused). */
export function isSameProcess(pid: number, startTime: number | null): boolean {
  const now = processStartTime(pid);
  return now !== null && (startTime === null || now === startTime);
}

/** Like isSameProcess, but false once the process has exited and only waits for its parent to reap it
 *  (state Z, field 3 of /proc/PID/stat): an orphan's new parent, PID 1, may take a while to do so. */
export function isRunningProcess(pid: number, startTime: number | null): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat[stat.lastIndexOf(')') + 2];
    return state !== 'Z' && isSameProcess(pid, startTime);
  } catch {
    return false;
  }
}
