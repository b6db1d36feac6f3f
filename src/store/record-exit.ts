// Has a container recorded as running lost its process? Its owner (tsrun for a foreground run, or the
// monitor of a detached one) was killed, or the host rebooted: the record still says "running". This
// reads /proc (the pid, its start time, and whether it is only a zombie waiting to be reaped) and, if the
// process is gone, writes the exit down: the code the monitor recorded, or 137, as a foreground container
// dies by SIGKILL with its tsrun. What it held is released by src/containers/reconcile.ts.
import fs from 'node:fs';
import path from 'node:path';
import { isUp, type ContainerRecord, type ContainerState } from '../container.js';
import { isRunningProcess } from '../kernel/proc.js';
import { readState, saveState } from './containers.js';
import { hasErrorCode } from '../errors.js';
import { containerRunDir, type StorePaths } from './paths.js';

// When tsrun dies, the kernel SIGKILLs a foreground container (PR_SET_PDEATHSIG): 128 + 9.
const KILLED_WITH_TSRUN = 137;

// #region record-exit
/** The record as it is now, and whether this call found the process gone and wrote its exit down (then what
 *  it held is for the caller to release). */
export function recordExitIfGone(paths: StorePaths, container: ContainerRecord): { container: ContainerRecord; recorded: boolean } {
  if (!lostItsProcess(container.state)) return { container, recorded: false };
  // Read again: since `container` was read, its monitor (or foreground tsrun) may have written the exit down and
  // released the run dir, exit file and all; or a restart policy may have started it again.
  const current = readState(paths, container.id);
  if (!current) return { container, recorded: false }; // removed meanwhile
  if (!lostItsProcess(current)) return { container: { ...container, state: current }, recorded: false };
  const recordedByMonitor = readExitFile(path.join(containerRunDir(paths, container.id), 'exit'));
  const exited = {
    ...current, status: 'exited' as const, pid: null, pidStartTime: null, monitor: null,
    exitCode: recordedByMonitor?.code ?? KILLED_WITH_TSRUN, finishedAt: recordedByMonitor?.finishedAt ?? new Date().toISOString(),
  };
  try {
    saveState(paths, container.id, exited);
  } catch (error) {
    // A full disk (filled by this very container, perhaps) must not stop `tsrun rm` from freeing it:
    // the exit is found again, and written down, the next time the record is read.
    if (!hasErrorCode(error, 'ENOSPC')) throw error;
  }
  return { container: { ...container, state: exited }, recorded: true };
}

/** Recorded as up, but neither its process nor its monitor runs. The monitor writes the exit down before it ends
 *  (it may have written it to the exit file only). */
function lostItsProcess(state: ContainerState): boolean {
  if (!isUp(state) || (state.pid !== null && isRunningProcess(state.pid, state.pidStartTime))) return false;
  return !(state.monitor && isRunningProcess(state.monitor.pid, state.monitor.startTime));
}
// #endregion

function readExitFile(file: string): { code: number; finishedAt: string } | undefined {
  try {
    const [code, , finishedAt] = fs.readFileSync(file, 'utf8').trim().split(' ');
    return { code: Number(code), finishedAt: finishedAt! };
  } catch {
    return undefined;
  }
}
