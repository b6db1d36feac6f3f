// A container recorded as running whose process is gone (tsrun was killed, the
// host rebooted) is marked exited the next time anyone looks.
import type { ContainerRecord } from '../container.js';
import { isSameProcess } from '../kernel/proc.js';
import { saveState } from './containers.js';
import type { StorePaths } from './paths.js';

// When tsrun dies, the kernel SIGKILLs the container (PR_SET_PDEATHSIG): 128 + 9.
const KILLED_WITH_TSRUN = 137;

export function reconcile(paths: StorePaths, container: ContainerRecord): ContainerRecord {
  const { state } = container;
  if (state.status !== 'running' || (state.pid !== null && isSameProcess(state.pid, state.pidStartTime))) return container;
  const exited = { ...state, status: 'exited' as const, pid: null, pidStartTime: null, exitCode: KILLED_WITH_TSRUN, finishedAt: new Date().toISOString() };
  saveState(paths, container.id, exited);
  return { ...container, state: exited };
}
