// The monitor's exit command (`tsrun container-exited ID`, see native/src/monitor.cc): a detached container has
// exited, so its exit is recorded and what it held released; then its restart policy may want it started again
// (by the command, with src/run.ts's startDetached).
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRecord, ContainerState, RestartPolicy } from '../container.js';
import type { Runtime } from '../runtime.js';
import { saveState } from '../store/containers.js';
import { recordDetachedExit } from './lifecycle.js';

// #region restart-policy
/** The container to start again, once Docker's back-off has passed; null when it stays stopped. */
export async function detachedExited(runtime: Runtime, container: ContainerRecord): Promise<ContainerRecord | null> {
  const exited = await recordDetachedExit(runtime, container);
  if (!restartWanted(container.config.restart, exited)) return null;
  // Docker's back-off: 100 ms, doubling with every restart, at most a minute.
  const restarts = exited.restartCount ?? 0;
  await sleep(Math.min(100 * 2 ** restarts, 60_000));
  const again = { ...container, state: { ...exited, restartCount: restarts + 1 } };
  saveState(runtime.paths, container.id, again.state);
  return again;
}

/** Whether the restart policy starts the container again after this exit. */
export function restartWanted(policy: RestartPolicy | undefined, state: ContainerState): boolean {
  if (!policy || policy.name === 'no' || state.stoppedByUser) return false;
  if (policy.name === 'on-failure') {
    return state.exitCode !== 0 && (policy.maximumRetryCount === 0 || (state.restartCount ?? 0) < policy.maximumRetryCount);
  }
  return true; // always, unless-stopped: tsrun has no daemon restart for them to differ on
}
// #endregion
