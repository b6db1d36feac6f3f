// The monitor's exit command (`tsrun container-exited ID`, see native/src/monitor.cc): a detached container has
// exited, so its exit is recorded and what it held released; then its restart policy may start it again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRecord, ContainerState, RestartPolicy, Runtime } from '../container.js';
import { saveState } from '../store/containers.js';
import { recordDetachedExit } from './lifecycle.js';
import { startDetached } from '../run.js';

// #region restart-policy
export async function detachedExited(runtime: Runtime, container: ContainerRecord): Promise<void> {
  const exited = await recordDetachedExit(runtime, container);
  if (!restartWanted(container.config.restart, exited)) return;
  // Docker's back-off: 100 ms, doubling with every restart, at most a minute.
  const restarts = exited.restartCount ?? 0;
  await sleep(Math.min(100 * 2 ** restarts, 60_000));
  const again = { ...container, state: { ...exited, restartCount: restarts + 1 } };
  saveState(runtime.paths, container.id, again.state);
  await startDetached(runtime, again);
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
