// `tsrun system prune`: what Docker's does, for what tsrun has. Stopped
// containers (and their rw layers), user networks no container is on,
// dangling images (no name left, no container using them), and, once none of
// its containers runs, the default bridge with tsrun's firewall rules: then
// the host's network is as it was before tsrun first ran. `docker container prune`
// (src/daemon/containers.ts) is its first part alone.
import { isUp, type ContainerRecord } from '../container.js';
import type { Runtime } from '../runtime.js';
import { deleteContainer } from '../store/containers.js';
import { reconcileAll } from './reconcile.js';
import { pruneImages, type RemovedImage } from '../store/images.js';
import { pruneDefaultBridge, type NetworkHost } from '../net/bridges.js';
import { pruneNetworks } from '../net/networks.js';
import { directorySize } from '../store/disk-usage.js';
import { upperDir } from '../stages/rwlayer.js';

export interface PruneReport {
  containers: string[];
  networks: string[];
  images: RemovedImage[];
  /** Whether the default bridge and tsrun's rules went (they stay while a container runs). */
  bridgeRemoved: boolean;
}

export async function systemPrune(runtime: Runtime, host: NetworkHost): Promise<PruneReport> {
  const containers = (await pruneContainers(runtime)).map(({ container }) => container);

  const networks = await pruneNetworks(runtime.sys, runtime.paths, host);

  const images = (await pruneImages(runtime.sys, runtime.paths, { all: false })).removed;

  const bridgeRemoved = await pruneDefaultBridge(runtime.sys, host);
  return { containers: containers.map((container) => container.id), networks: networks.map((network) => network.name), images, bridgeRemoved };
}

// #region prune-containers
/** `docker container prune`, and the first part of a system prune: the stopped containers `wanted` picks (every
 *  one, unless told), deleted with their rw layers, each with the bytes its layer held (docker's SpaceReclaimed). */
export async function pruneContainers(runtime: Runtime, wanted: (container: ContainerRecord) => boolean = () => true): Promise<Array<{ container: ContainerRecord; bytes: number }>> {
  const stopped = (await reconcileAll(runtime)).filter((container) => !isUp(container.state) && wanted(container));
  return stopped.map((container) => {
    const bytes = directorySize(upperDir(runtime.paths, container)); // measured before: once gone, nothing to measure
    deleteContainer(runtime.paths, container.id);
    return { container, bytes };
  });
}
// #endregion
