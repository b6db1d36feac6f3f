// Every command that reads a container first finishes what its vanished owner left undone. A foreground
// `tsrun run` killed with SIGKILL (its container dies with it), or a monitor killed, cannot clean up after
// the container: the record says "running", the overlay's netns, veth and address, the cgroup and, with
// --rm, the container itself are still there. The next `tsrun ps`, `run`, `inspect`, `rm`… notices that the
// process is gone (pid and start time, as the network leases do) and does what the owner would have done.
import type { ContainerRecord, Runtime } from './container.js';
import { containerCgroup } from './cgroups/cgroup.js';
import { listContainers } from './store/containers.js';
import { recordExitIfGone } from './store/record-exit.js';

// #region reconcile
/** The container as it is now; null if it was run with --rm and is gone with its process. */
export async function reconcile(runtime: Runtime, container: ContainerRecord): Promise<ContainerRecord | null> {
  const now = recordExitIfGone(runtime.paths, container);
  if (now === container) return container;
  // Loaded only now: most commands find every container as its record says, and start faster without the stages.
  const { releaseContainer } = await import('./run.js');
  await releaseContainer(runtime, now, containerCgroup(container.id, container.config.resources ?? {}));
  return container.config.autoRemove ? null : now;
}
// #endregion

/** Every container of the store, each reconciled. */
export async function reconcileAll(runtime: Runtime): Promise<ContainerRecord[]> {
  const containers = await Promise.all(listContainers(runtime.paths).map((container) => reconcile(runtime, container)));
  return containers.filter((container): container is ContainerRecord => container !== null);
}
