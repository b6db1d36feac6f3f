// Stage 4, network: the container's place on a network, decided and built
// before its process exists.
//
//   bridge (the default): tsrun makes a network namespace, kept as a file,
//     and wires it to the host's bridge tsrun0 with a veth pair: eth0 inside,
//     an address of its own, a default route through the bridge's address.
//     The container's process joins that namespace (setns) when it starts.
//   NAME, a user network (`tsrun network create NAME`): the same, on that
//     network's own bridge; and the containers there know each other by name,
//     from the network's name server (net/dns.ts).
//   none: a new, empty network namespace; the child brings up loopback.
//   host: no network namespace of its own; the host's interfaces.
//
// In every mode the container gets its own /etc/hostname, /etc/hosts and
// /etc/resolv.conf, written here and bind-mounted into its root.
import path from 'node:path';
import type { BridgeAttachment, ContainerRecord, NetworkPlan } from '../container.js';
import type { Runtime } from '../runtime.js';
import type { StorePaths } from '../store/paths.js';
import { containerDir } from '../store/paths.js';
import { uplinkMtu } from '../net/bridge.js';
import { applyNat, defaultNetwork, ensureBridge, networkHost, reclaimStaleLeases, withNetworkLock, type BridgeNetwork, type NetworkHost } from '../net/bridges.js';
import { processStartTime } from '../kernel/proc.js';
import { findLease, leaseAddress, leaseOf, listBridgeStates, publishedPorts, readBridgeState, releaseAddress, writeBridgeState, type Lease } from '../net/ipam.js';
import { formatMapping, pickHostPorts } from '../net/ports.js';
import { connectContainer, createNetns, disconnectContainer, removeNetns, vethName } from '../net/veth.js';
import { writeEtcFiles } from '../net/etc-files.js';
import { formatAddress, nthAddress, parseSubnet } from '../net/address.js';
import { ensureDns, stopDnsWhenIdle } from '../net/dns.js';
import { annotate } from '../trace/span.js';

/** Where a container's network namespace is kept while it runs. */
export const netnsFile = (paths: StorePaths, id: string) => path.join(paths.runRoot, 'netns', id);

// #region network
export async function network(runtime: Runtime, container: ContainerRecord, host = networkHost(runtime.paths)): Promise<NetworkPlan> {
  const mode = container.config.network ?? 'bridge';
  annotate({ 'tsrun.network.mode': mode });
  if (mode === 'host') {
    annotate({ 'network.interface.name': 'host' });
    return { mode, interfaces: ['(the host\'s)'], files: writeEtcFiles(containerDir(runtime.paths, container.id), container, mode), steps: [] };
  }
  if (mode === 'none') {
    annotate({ 'network.interface.name': 'lo' });
    return { mode, interfaces: ['lo 127.0.0.1/8'], files: writeEtcFiles(containerDir(runtime.paths, container.id), container, mode), steps: [{ op: 'link_up', name: 'lo' }] };
  }
  // A user network's record is read only when one is named.
  const net = mode === 'bridge' ? defaultNetwork(runtime.paths) : (await import('../net/networks.js')).bridgeNetworkFor(runtime.paths, mode);
  const file = netnsFile(runtime.paths, container.id);
  const address = await leaseFor(runtime, container, host, net, file);
  // On a user network, names are asked of the network's name server, on its gateway address (dns.ts).
  const nameserver = mode === 'bridge' ? undefined : formatAddress(nthAddress(parseSubnet(net.subnet), 1));
  const files = writeEtcFiles(containerDir(runtime.paths, container.id), container, mode, address, nameserver);
  const bridge = await attach(runtime, container, host, net, file);
  annotate({
    'network.interface.name': 'eth0',
    'network.local.address': address,
    'tsrun.network.bridge': bridge.name,
    'tsrun.network.veth': bridge.hostInterface,
    'tsrun.network.ports': bridge.ports.map(formatMapping),
  });
  return {
    mode,
    interfaces: ['lo 127.0.0.1/8', `eth0 ${bridge.address}`],
    namespaceFile: file,
    bridge,
    files,
    steps: [{ op: 'setns', path: file, nstype: 'CLONE_NEWNET' }],
  };
}
// #endregion

/** Under the network lock: the bridge (first use), an address and the host ports, recorded before anything else,
 *  so that releasing always finds them. */
async function leaseFor(runtime: Runtime, container: ContainerRecord, host: NetworkHost, net: BridgeNetwork, file: string): Promise<string> {
  return withNetworkLock(runtime.sys, host, async () => {
    const state = await ensureBridge(host, net);
    await reclaimStaleLeases(runtime.sys, host, net.bridge, state); // left by a tsrun killed before it could release them
    const everyPublished = listBridgeStates(host.stateDir).flatMap((other) => publishedPorts(other.state).map((published) => published.mapping));
    const ports = await pickHostPorts(container.config.ports ?? [], everyPublished, host.isPortFree);
    const address = leaseAddress(state, {
      container: container.id, store: runtime.paths.root, netns: file,
      holder: { pid: process.pid, startTime: processStartTime(process.pid) },
      ports,
      name: net.name === 'bridge' ? undefined : container.name,
    });
    writeBridgeState(host.stateDir, net.bridge, state);
    return address;
  });
}

// #region attach
/** Under the network lock: the namespace, the veth pair, the published ports, and on a user network its name server. */
async function attach(runtime: Runtime, container: ContainerRecord, host: NetworkHost, net: BridgeNetwork, file: string): Promise<BridgeAttachment> {
  const mtu = await uplinkMtu(host.run);
  return withNetworkLock(runtime.sys, host, async () => {
    const state = readBridgeState(host.stateDir, net.bridge)!; // leaseFor made it, under the same lock
    const address = leaseOf(state, container.id)!;
    const lease = state.leases[address]!;
    const attachment: BridgeAttachment = {
      name: net.bridge, subnet: net.subnet, gateway: state.gateway,
      address: `${address}/${parseSubnet(net.subnet).prefix}`,
      hostInterface: vethName(container.id),
      mtu,
      ports: lease.ports ?? [],
    };
    // A name server to start (Node's own start, the longest step here) starts while the cable is laid.
    const serving = lease.name === undefined ? undefined : ensureDns(net.bridge, runtime.paths.root, state, host.dns);
    try {
      await createNetns(host.run, file);
      await connectContainer(host.run, { netnsFile: file, bridge: net.bridge, ...attachment });
      if (attachment.ports.length > 0) await applyNat(host); // the DNAT rules, once the container's address answers
    } finally {
      // Recorded whatever happened, so that the release that follows a failure stops it.
      if (serving) {
        await serving;
        writeBridgeState(host.stateDir, net.bridge, state);
      }
    }
    return attachment;
  });
}
// #endregion


// #region release
/** When the container has stopped (or failed to start): the veth pair, the address, its published ports and the
 *  namespace file go (and with a user network's last container, its name server). The bridge stays. */
export async function releaseNetwork(runtime: Runtime, container: ContainerRecord, host = networkHost(runtime.paths)): Promise<void> {
  if (!hasNetworkNamespace(container)) return;
  await withNetworkLock(runtime.sys, host, async () => {
    const held = findLease(container.id, host.stateDir);
    if (!held) return;
    const { bridge, state, lease } = held;
    await disconnectContainer(host.run, vethName(container.id));
    releaseAddress(state, container.id);
    await stopDnsWhenIdle(state, host.dns);
    writeBridgeState(host.stateDir, bridge, state);
    if ((lease.ports ?? []).length > 0) await applyNat(host);
  });
  removeNetns(runtime.sys, netnsFile(runtime.paths, container.id));
}

/** On a bridge (the default one or a user network), the container has a namespace, an address and a veth pair
 *  of its own to give back; with none or host, nothing. */
export function hasNetworkNamespace(container: ContainerRecord): boolean {
  const mode = container.config.network ?? 'bridge';
  return mode !== 'none' && mode !== 'host';
}
// #endregion

/** A detached container's lease passes from the tsrun that started it to the container's own process:
 *  while that runs, the address is taken, whatever became of tsrun. */
export async function handOverNetwork(runtime: Runtime, container: ContainerRecord, holder: Lease['holder'], host = networkHost(runtime.paths)): Promise<void> {
  await withNetworkLock(runtime.sys, host, async () => {
    const held = findLease(container.id, host.stateDir);
    if (!held) return; // --network none or host: no lease
    held.lease.holder = holder;
    writeBridgeState(host.stateDir, held.bridge, held.state);
  });
}
