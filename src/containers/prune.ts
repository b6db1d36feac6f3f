// `tsrun system prune`: what Docker's does, for what tsrun has. Stopped
// containers (and their rw layers), user networks no container is on,
// dangling images (no name left, no container using them), and, once none of
// its containers runs, the default bridge with tsrun's firewall rules: then
// the host's network is as it was before tsrun first ran.
import { isUp } from '../container.js';
import type { Runtime } from '../runtime.js';
import { deleteContainer } from '../store/containers.js';
import { reconcileAll } from './reconcile.js';
import { pruneImages, type RemovedImage } from '../store/images.js';
import { pruneDefaultBridge, type NetworkHost } from '../net/bridges.js';
import { pruneNetworks } from '../net/networks.js';

export interface PruneReport {
  containers: string[];
  networks: string[];
  images: RemovedImage[];
  /** Whether the default bridge and tsrun's rules went (they stay while a container runs). */
  bridgeRemoved: boolean;
}

export async function systemPrune(runtime: Runtime, host: NetworkHost): Promise<PruneReport> {
  const containers = (await reconcileAll(runtime)).filter((container) => !isUp(container.state));
  for (const container of containers) deleteContainer(runtime.paths, container.id);

  const networks = await pruneNetworks(runtime.sys, runtime.paths, host);

  const images = (await pruneImages(runtime.sys, runtime.paths, { all: false })).removed;

  const bridgeRemoved = await pruneDefaultBridge(runtime.sys, host);
  return { containers: containers.map((container) => container.id), networks: networks.map((network) => network.name), images, bridgeRemoved };
}
