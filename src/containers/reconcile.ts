// Every command that reads a container first finishes what its vanished owner left undone. A foreground
// `tsrun run` killed with SIGKILL (its container dies with it), or a monitor killed, cannot clean up after
// the container: the record says "running", the overlay's netns, veth and address, the cgroup and, with
// --rm, the container itself are still there. The next `tsrun ps`, `run`, `inspect`, `rm`… notices that the
// process is gone (pid and start time, as the network leases do) and does what the owner would have done.
import fs from 'node:fs';
import { isUp, type ContainerRecord } from '../container.js';
import type { Runtime } from '../runtime.js';
import { isRunningProcess } from '../kernel/proc.js';
import { listContainers } from '../store/containers.js';
import { containerRunDir } from '../store/paths.js';
import { recordExitIfGone } from '../store/record-exit.js';
import { HOST_NETWORK_DIR, listBridgeStates } from '../net/ipam.js';
import { lostItsNameServer } from '../net/dns.js';

// #region reconcile
/** The container as it is now; null if it was run with --rm and is gone with its process. */
export async function reconcile(runtime: Runtime, container: ContainerRecord): Promise<ContainerRecord | null> {
  const { container: now, recorded } = recordExitIfGone(runtime.paths, container);
  if (!recorded && !abandoned(runtime, now)) return now;
  // Loaded only now: most commands find every container as its record says, and start faster without the stages.
  const { releaseContainer } = await import('./lifecycle.js');
  await releaseContainer(runtime, now);
  return container.config.autoRemove && !now.state.restarting ? null : now;
}

/** Not running, its owner gone, and what a start makes still there: the run dir (which a release removes
 *  last but one), or with --rm the container itself (which a release removes last). A tsrun killed after it
 *  set the network up, say, or while it released the container. */
function abandoned(runtime: Runtime, container: ContainerRecord): boolean {
  const { owner } = container.state;
  if (isUp(container.state) || !owner || isRunningProcess(owner.pid, owner.startTime)) return false;
  return (container.config.autoRemove && !container.state.restarting) || fs.existsSync(containerRunDir(runtime.paths, container.id));
}
// #endregion

/** Every container of the store, each reconciled; and the name server of a user network, if it died while
 *  containers are on it (its containers would otherwise ask in vain until another one joins). */
export async function reconcileAll(runtime: Runtime): Promise<ContainerRecord[]> {
  const containers = await Promise.all(listContainers(runtime.paths).map((container) => reconcile(runtime, container)));
  if (listBridgeStates(HOST_NETWORK_DIR).some(({ state }) => lostItsNameServer(state))) {
    const { networkHost, reviveNameServers } = await import('../net/bridges.js');
    await reviveNameServers(runtime.sys, networkHost(runtime.paths), runtime.paths.root);
  }
  return containers.filter((container): container is ContainerRecord => container !== null);
}
