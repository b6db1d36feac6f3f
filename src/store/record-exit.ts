// Has a container recorded as running lost its process? Its owner (tsrun for a foreground run, or the
// monitor of a detached one) was killed, or the host rebooted: the record still says "running". This
// reads /proc (the pid, its start time, and whether it is only a zombie waiting to be reaped) and, if the
// process is gone, writes the exit down: the code the monitor recorded, or 137, as a foreground container
// dies by SIGKILL with its tsrun. What it held is released by src/containers/reconcile.ts.
import fs from 'node:fs';
import path from 'node:path';
import { isUp, type ContainerRecord } from '../container.js';
import { isRunningProcess } from '../kernel/proc.js';
import { saveState } from './containers.js';
import { hasErrorCode } from '../errors.js';
import { containerRunDir, type StorePaths } from './paths.js';

// When tsrun dies, the kernel SIGKILLs a foreground container (PR_SET_PDEATHSIG): 128 + 9.
const KILLED_WITH_TSRUN = 137;

// #region record-exit
/** The record, with the exit written down if its process is gone; the same object if nothing changed. */
export function recordExitIfGone(paths: StorePaths, container: ContainerRecord): ContainerRecord {
  const { state } = container;
  if (!isUp(state) || (state.pid !== null && isRunningProcess(state.pid, state.pidStartTime))) return container;
  // A detached container's monitor is about to write the exit down: let it.
  if (state.monitor && isRunningProcess(state.monitor.pid, state.monitor.startTime)) return container;
  // The monitor may have written the exit status before it died.
  const recorded = readExitFile(path.join(containerRunDir(paths, container.id), 'exit'));
  const exited = {
    ...state, status: 'exited' as const, pid: null, pidStartTime: null, monitor: null,
    exitCode: recorded?.code ?? KILLED_WITH_TSRUN, finishedAt: recorded?.finishedAt ?? new Date().toISOString(),
  };
  try {
    saveState(paths, container.id, exited);
  } catch (error) {
    // A full disk (filled by this very container, perhaps) must not stop `tsrun rm` from freeing it:
    // the exit is found again, and written down, the next time the record is read.
    if (!hasErrorCode(error, 'ENOSPC')) throw error;
  }
  return { ...container, state: exited };
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
