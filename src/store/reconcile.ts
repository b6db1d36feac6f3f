// A container recorded as running whose process is gone (tsrun or its monitor
// was killed, the host rebooted) is marked exited the next time anyone looks,
// and what it held only while running (its cgroup, its overlay's mount point)
// is removed. Its network lease is freed by the next network stage, which
// finds its holder gone (see reclaimStaleLeases).
import fs from 'node:fs';
import path from 'node:path';
import { isUp, type ContainerRecord } from '../container.js';
import { isSameProcess } from '../kernel/proc.js';
import { containerCgroup, removeCgroupIfEmpty } from '../cgroups/cgroup.js';
import { saveState } from './containers.js';
import { containerRunDir, type StorePaths } from './paths.js';

// When tsrun dies, the kernel SIGKILLs a foreground container (PR_SET_PDEATHSIG): 128 + 9.
const KILLED_WITH_TSRUN = 137;

// #region reconcile
export function reconcile(paths: StorePaths, container: ContainerRecord): ContainerRecord {
  const { state } = container;
  if (!isUp(state) || (state.pid !== null && isSameProcess(state.pid, state.pidStartTime))) return container;
  // A detached container's monitor is about to write the exit down: let it.
  if (state.monitor && isSameProcess(state.monitor.pid, state.monitor.startTime)) return container;
  const runDir = containerRunDir(paths, container.id);
  // The monitor may have written the exit status before it died.
  const recorded = readExitFile(path.join(runDir, 'exit'));
  const exited = {
    ...state, status: 'exited' as const, pid: null, pidStartTime: null, monitor: null,
    exitCode: recorded?.code ?? KILLED_WITH_TSRUN, finishedAt: recorded?.finishedAt ?? new Date().toISOString(),
  };
  saveState(paths, container.id, exited);
  removeLeftovers(container, runDir);
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

/** The cgroup directories (empty now: their processes are gone) and the run directory. */
function removeLeftovers(container: ContainerRecord, runDir: string): void {
  removeCgroupIfEmpty(containerCgroup(container.id, container.config.resources ?? {}));
  fs.rmSync(runDir, { recursive: true, force: true });
}
