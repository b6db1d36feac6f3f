// `tsrun network connect` and `disconnect`, as Docker's: a container joins or leaves a network. A running one
// gets (or loses) its interface there at once, through the network stage's own lease and veth pair
// (src/stages/network.ts); any other has only its record changed, which its next start follows.
import { isUp, isUserNetwork, type ContainerRecord, type NetworkEndpoint } from '../container.js';
import type { Runtime } from '../runtime.js';
import type { NetworkHost } from '../net/bridges.js';
import { findNetwork } from '../net/networks.js';
import { joinNetwork, leaveNetwork, networksOf } from '../stages/network.js';
import { getContainer, saveNetworks } from '../store/containers.js';
import { MAX_INTERFACES } from '../net/veth.js';
import { reconcile } from './reconcile.js';
import { fail } from '../errors.js';

// #region network-connect
export async function connectToNetwork(runtime: Runtime, networkName: string, containerName: string, aliases: string[], host?: NetworkHost): Promise<void> {
  const container = await current(runtime, containerName);
  const network = networkNamed(runtime, networkName);
  const mode = container.config.network ?? 'bridge';
  // Docker's words, for what a container sharing the host's stack, or having none, cannot do.
  if (network === 'host' || mode === 'host') throw fail('container cannot be disconnected from host network or connected to host network', 'a container on the host\'s network has no interfaces of its own to add');
  if (network === 'none' || mode === 'none') throw fail('container cannot be connected to multiple networks with one of the networks in private (none) mode', 'run it on a network to begin with');
  if (aliases.length > 0 && !isUserNetwork(network)) throw fail('network-scoped alias is supported only for containers in user defined networks', 'drop --alias, or connect it to a network of `tsrun network create`');
  if (networksOf(container).some((endpoint) => endpoint.network === network)) {
    throw fail(`endpoint with name ${container.name} already exists in network ${network}`, 'it is on that network already');
  }
  if (networksOf(container).length >= MAX_INTERFACES) {
    throw fail(`a container has at most ${MAX_INTERFACES} interfaces in tsrun (eth0 to eth${MAX_INTERFACES - 1})`, 'disconnect it from a network first');
  }
  const endpoint: NetworkEndpoint = { network, aliases };
  if (isUp(container.state)) await joinNetwork(runtime, container, endpoint, host);
  await saveNetworks(runtime.sys, runtime.paths, container.id, (now) => [...networksOf(now), endpoint]);
}
// #endregion

/** With --force, a network removed meanwhile is forgotten too, as Docker forgets it. */
export async function disconnectFromNetwork(runtime: Runtime, networkName: string, containerName: string, force: boolean, host?: NetworkHost): Promise<void> {
  const container = await current(runtime, containerName);
  const gone = force && !isBuiltIn(networkName) && !findNetwork(runtime.paths, networkName);
  const network = gone ? networkName : networkNamed(runtime, networkName);
  if (network === 'host' && container.config.network === 'host') throw fail('container cannot be disconnected from host network or connected to host network', 'a container on the host\'s network stays on it');
  if (!networksOf(container).some((endpoint) => endpoint.network === network)) {
    throw fail(`container ${container.id} is not connected to the network ${network}`, 'see the networks it is on with `tsrun inspect`');
  }
  if (isUp(container.state) && !gone) await leaveNetwork(runtime, container, network, host);
  await saveNetworks(runtime.sys, runtime.paths, container.id, (now) => networksOf(now).filter((endpoint) => endpoint.network !== network));
}

/** The container as it is now: if its process is gone, what it held is released first (reconcile.ts). */
async function current(runtime: Runtime, nameOrId: string): Promise<ContainerRecord> {
  const container = await reconcile(runtime, getContainer(runtime.paths, nameOrId));
  if (!container) throw fail(`no such container: ${nameOrId}`, 'it was run with --rm and has exited');
  return container;
}

/** A built-in network, or a user network by its name (given by name or id), as records keep it. */
function networkNamed(runtime: Runtime, nameOrId: string): string {
  if (isBuiltIn(nameOrId)) return nameOrId;
  const network = findNetwork(runtime.paths, nameOrId);
  if (!network) throw fail(`network ${nameOrId} not found`, 'see `tsrun network ls`');
  return network.name;
}

const isBuiltIn = (name: string) => !isUserNetwork(name);
