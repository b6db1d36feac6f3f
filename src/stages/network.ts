// Stage 4, network: the container's place on a network, decided and built
// before its process exists.
//
//   bridge (the default): tsrun makes a network namespace, kept as a file,
//     and wires it to the host's bridge tsrun0 with a veth pair: eth0 inside,
//     an address of its own, a default route through the bridge's address.
//     The container's process joins that namespace (setns) when it starts.
//   NAME, a user network (`tsrun network create NAME`): the same, on that
//     network's own bridge; and the containers there know each other by name,
//     and by their --network-alias names, from the network's name server
//     (net/dns.ts).
//   A running container joins more networks with `tsrun network connect`
//     (eth1, …, each the same veth pair and lease), and leaves with
//     `disconnect`; its record lists them, and its next start joins them all.
//   none: a new, empty network namespace; the child brings up loopback.
//   host: no network namespace of its own; the host's interfaces.
//
// In every mode the container gets its own /etc/hostname, /etc/hosts and
// /etc/resolv.conf, written here and bind-mounted into its root.
import path from 'node:path';
import type { BridgeAttachment, ContainerRecord, NetworkEndpoint, NetworkPlan } from '../container.js';
import type { Runtime } from '../runtime.js';
import type { StorePaths } from '../store/paths.js';
import { containerDir } from '../store/paths.js';
import { uplinkMtu } from '../net/bridge.js';
import { applyNat, defaultNetwork, deleteDrainingVeth, ensureBridge, networkHost, reclaimStaleLeases, withNetworkLock, type BridgeNetwork, type NetworkHost } from '../net/bridges.js';
import { processStartTime } from '../kernel/proc.js';
import { findLeases, interfaceNumber, leaseAddress, leaseOf, listBridgeStates, publishedPorts, readBridgeState, releaseAddress, writeBridgeState, type BridgeState, type Lease } from '../net/ipam.js';
import { formatMapping, pickHostPorts } from '../net/ports.js';
import { connectContainer, createNetns, deleteLink, removeNetns, vethName } from '../net/veth.js';
import { writeAddressFiles, writeEtcFiles } from '../net/etc-files.js';
import { parseSubnet } from '../net/address.js';
import { CONTAINER_RESOLVER, ensureDns, syncDns } from '../net/dns.js';
import { annotate } from '../trace/span.js';
import { fail } from '../errors.js';

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
  // Each network the container is on, in its record's order: eth0, eth1, … (`tsrun network connect` adds to them).
  const joining = await Promise.all(networksOf(container).map(async (endpoint, n) => ({ endpoint, net: await bridgeNetworkOf(runtime.paths, endpoint.network), inside: `eth${n}` })));
  const file = netnsFile(runtime.paths, container.id);
  const addresses: string[] = [];
  for (const { endpoint, net, inside } of joining) addresses.push(await leaseFor(runtime, container, host, net, endpoint, inside));
  // On a user network, names are asked of the network's name server, at 127.0.0.11 in the container (dns.ts).
  const nameserver = joining.some(({ net }) => net.name !== 'bridge') ? CONTAINER_RESOLVER : undefined;
  const files = writeEtcFiles(containerDir(runtime.paths, container.id), container, mode, addresses, nameserver);
  await createNetns(runtime.sys, file);
  const attachments: BridgeAttachment[] = [];
  for (const { net } of joining) attachments.push(await attach(runtime, container, host, net, file));
  const [bridge, ...alsoOn] = attachments;
  annotate({
    'network.interface.name': bridge?.interface ?? 'lo',
    ...(bridge ? {
      'network.local.address': addresses[0],
      'tsrun.network.bridge': bridge.name,
      'tsrun.network.veth': bridge.hostInterface,
      'tsrun.network.ports': bridge.ports.map(formatMapping),
    } : {}),
    ...(alsoOn.length > 0 ? { 'tsrun.network.also_on': alsoOn.map((other) => `${other.interface} ${other.address} on ${other.name}`) } : {}),
  });
  return {
    mode,
    interfaces: ['lo 127.0.0.1/8', ...attachments.map((attachment) => `${attachment.interface} ${attachment.address}`)],
    namespaceFile: file,
    ...(bridge ? { bridge } : {}),
    ...(alsoOn.length > 0 ? { alsoOn } : {}),
    files,
    // Disconnected from every network, it still has loopback, which the cable would otherwise bring up.
    steps: [{ op: 'setns', path: file, nstype: 'CLONE_NEWNET' }, ...(bridge ? [] : [{ op: 'link_up', name: 'lo' } as const])],
  };
}
// #endregion

/** The networks a container is on: its record's list, or for a record older than it, the one --network named. */
export function networksOf(container: ContainerRecord): NetworkEndpoint[] {
  if (!hasNetworkNamespace(container)) return [];
  return container.config.networks ?? [{ network: container.config.network ?? 'bridge', aliases: [] }];
}

/** A user network's record is read only when one is named. */
async function bridgeNetworkOf(paths: StorePaths, name: string): Promise<BridgeNetwork> {
  return name === 'bridge' ? defaultNetwork(paths) : (await import('../net/networks.js')).bridgeNetworkFor(paths, name);
}

/** Under the network lock: the bridge (first use), an address and the host ports (with the first network only),
 *  recorded before anything else, so that releasing always finds them. The holder is this tsrun, or given. */
async function leaseFor(runtime: Runtime, container: ContainerRecord, host: NetworkHost, net: BridgeNetwork, endpoint: NetworkEndpoint,
  inside: string | undefined, holder: Lease['holder'] = { pid: process.pid, startTime: processStartTime(process.pid) }): Promise<string> {
  return withNetworkLock(runtime.sys, host, async () => {
    const next = inside ?? nextInterface(container.id, host.stateDir);
    deleteDrainingVeth(runtime.sys, host, vethName(container.id, next)); // started again before the kernel deleted it
    const state = await ensureBridge(runtime.sys, host, net);
    await reclaimStaleLeases(runtime.sys, host, net.bridge, state); // left by a tsrun killed before it could release them
    if (leaseOf(state, container.id)) throw fail(`endpoint with name ${container.name} already exists in network ${net.name}`, 'it is on that network already');
    const everyPublished = listBridgeStates(host.stateDir).flatMap((other) => publishedPorts(other.state).map((published) => published.mapping));
    const ports = next === 'eth0' ? await pickHostPorts(container.config.ports ?? [], everyPublished, host.isPortFree) : [];
    const user = net.name !== 'bridge';
    const address = leaseAddress(state, {
      container: container.id, store: runtime.paths.root, netns: netnsFile(runtime.paths, container.id),
      holder, ports,
      ...(user ? { name: container.name } : {}),
      ...(user && endpoint.aliases.length > 0 ? { aliases: endpoint.aliases } : {}),
      ...(next === 'eth0' ? {} : { interface: next }),
    });
    writeBridgeState(host.stateDir, net.bridge, state);
    return address;
  });
}

/** The lowest interface number the container's leases leave free: eth1 after eth0, eth0 again once it left. */
function nextInterface(container: string, stateDir: string): string {
  const taken = new Set(findLeases(container, stateDir).map(({ lease }) => interfaceNumber(lease)));
  let free = 0;
  while (taken.has(free)) free++;
  return `eth${free}`;
}

// #region attach
/** Under the network lock: the veth pair into the namespace, the published ports, and on a user network its name server. */
async function attach(runtime: Runtime, container: ContainerRecord, host: NetworkHost, net: BridgeNetwork, file: string): Promise<BridgeAttachment> {
  const mtu = uplinkMtu(runtime.sys);
  return withNetworkLock(runtime.sys, host, async () => {
    const state = readBridgeState(host.stateDir, net.bridge);
    const address = state && leaseOf(state, container.id);
    // leaseFor made it; only the release of a running container that stopped since `network connect` began takes it.
    if (!state || !address) throw fail(`container ${container.name} stopped while it was being connected to ${net.name}`, 'start it, then connect it again');
    const lease = state.leases[address]!;
    const inside = lease.interface ?? 'eth0';
    const attachment: Omit<BridgeAttachment, 'netlink'> = {
      name: net.bridge, subnet: net.subnet, gateway: state.gateway,
      address: `${address}/${parseSubnet(net.subnet).prefix}`,
      interface: inside,
      hostInterface: vethName(container.id, inside),
      mtu,
      ports: lease.ports ?? [],
    };
    // A name server to start (Node's own start, the longest step here) starts while the cable is laid.
    const serving = lease.name === undefined ? undefined : ensureDns(net.bridge, runtime.paths.root, state, host.dns);
    let netlink: BridgeAttachment['netlink'];
    try {
      netlink = await connectContainer(runtime.sys, { netnsFile: file, bridge: net.bridge, ...attachment });
      if (attachment.ports.length > 0) await applyNat(host); // the DNAT rules, once the container's address answers
    } finally {
      // Recorded whatever happened, so that the release that follows a failure stops it.
      if (serving) {
        await serving;
        writeBridgeState(host.stateDir, net.bridge, state);
      }
    }
    // With the lease on disk, the server listens at 127.0.0.11 in the container's namespace before its process starts.
    if (serving) await syncDns(host.stateDir, net.bridge, host.dns);
    return { ...attachment, netlink };
  });
}
// #endregion

// #region join-network
/** `tsrun network connect` of a running container: what the stage does for one network, into the namespace the
 *  container runs in, on its next free interface. The lease is held by whoever holds its others (else by its
 *  process): when that one is gone, so is this address. */
export async function joinNetwork(runtime: Runtime, container: ContainerRecord, endpoint: NetworkEndpoint, host = networkHost(runtime.paths)): Promise<BridgeAttachment> {
  const net = await bridgeNetworkOf(runtime.paths, endpoint.network);
  const holder = findLeases(container.id, host.stateDir)[0]?.lease.holder ?? { pid: container.state.pid!, startTime: container.state.pidStartTime };
  await leaseFor(runtime, container, host, net, endpoint, undefined, holder);
  try {
    const attachment = await attach(runtime, container, host, net, netnsFile(runtime.paths, container.id));
    rewriteAddressFiles(runtime, container, host);
    return attachment;
  } catch (error) {
    await leaveNetwork(runtime, container, endpoint.network, host); // no address kept for an interface never made
    throw error;
  }
}

/** `tsrun network disconnect` of a running container (or a connect that failed half-way): its interface on that
 *  network and its address there go. */
export async function leaveNetwork(runtime: Runtime, container: ContainerRecord, network: string, host = networkHost(runtime.paths)): Promise<void> {
  const net = await bridgeNetworkOf(runtime.paths, network);
  const named = await withNetworkLock(runtime.sys, host, async () => {
    const state = readBridgeState(host.stateDir, net.bridge);
    const address = state && leaseOf(state, container.id);
    if (!state || !address) return false;
    const { name, interface: inside } = state.leases[address]!;
    deleteLink(runtime.sys, vethName(container.id, inside)); // the namespace stays: its veth goes now
    await giveBack(host, net.bridge, state, address);
    return name !== undefined;
  });
  // The server it leaves lets go of its 127.0.0.11 first, so that another network's can take it.
  if (named) await syncDnsOf([net.bridge, ...namedBridges(container, host)], host);
  rewriteAddressFiles(runtime, container, host);
}

/** The user networks (their bridges) the container is on now. */
function namedBridges(container: ContainerRecord, host: NetworkHost): string[] {
  return findLeases(container.id, host.stateDir).filter(({ lease }) => lease.name !== undefined).map(({ bridge }) => bridge);
}

/** Each server, in turn; one that does not answer catches up by itself within a second (dns-server.ts). */
async function syncDnsOf(bridges: string[], host: NetworkHost): Promise<void> {
  for (const bridge of bridges) await syncDns(host.stateDir, bridge, host.dns).catch(() => {});
}

/** /etc/hosts lists the container's addresses on every network it is on now, as Docker's does. Names are asked of
 *  the server of the first user network among them (it answers for all of them, dns-server.ts), or of the host's
 *  resolvers when it is on none: a container started on the default bridge and connected to a user network
 *  learns its names, as in Docker. */
function rewriteAddressFiles(runtime: Runtime, container: ContainerRecord, host: NetworkHost): void {
  const held = findLeases(container.id, host.stateDir).sort((a, b) => interfaceNumber(a.lease) - interfaceNumber(b.lease));
  const nameserver = held.some(({ lease }) => lease.name !== undefined) ? CONTAINER_RESOLVER : undefined;
  writeAddressFiles(containerDir(runtime.paths, container.id), container, container.config.network ?? 'bridge', held.map(({ address }) => address), nameserver);
}
// #endregion

// #region release
/** When the container has stopped (or failed to start): the namespace file's mount goes, and on every network it is
 *  on, its address and published ports. The bridges stay, and a user network's name server ends itself when idle (dns.ts).
 *
 *  The veth pairs are not deleted here. With the container's processes gone, the mount was the namespace's last
 *  hold: the kernel now deletes the namespace, and each veth end in it with its peer on the host, on a thread of
 *  its own. An RTM_DELLINK would have made tsrun wait those 15-25 ms; the addresses wait instead (ipam.ts). */
export async function releaseNetwork(runtime: Runtime, container: ContainerRecord, host = networkHost(runtime.paths)): Promise<void> {
  if (!hasNetworkNamespace(container)) return;
  // The mount first: killed between the two, this tsrun leaves its leases to reclaimStaleLeases, which deletes the veths.
  removeNetns(runtime.sys, netnsFile(runtime.paths, container.id));
  const named = namedBridges(container, host);
  await withNetworkLock(runtime.sys, host, async () => {
    for (const { bridge, state, address, lease } of findLeases(container.id, host.stateDir)) {
      await giveBack(host, bridge, state, address, vethName(lease.container, lease.interface));
    }
  });
  // Its name server's sockets in the namespace are the namespace's last hold now.
  await syncDnsOf(named, host);
}

/** Under the network lock: one lease's address, and what it kept busy. With `veth`, the host end that is still to
 *  go with the namespace: the address waits for it. */
async function giveBack(host: NetworkHost, bridge: string, state: BridgeState, address: string, veth?: string): Promise<void> {
  const lease = state.leases[address]!;
  releaseAddress(state, lease.container, veth);
  writeBridgeState(host.stateDir, bridge, state);
  if ((lease.ports ?? []).length > 0) await applyNat(host);
}

/** On a bridge (the default one or a user network), the container has a namespace, an address and a veth pair
 *  of its own to give back; with none or host, nothing. */
export function hasNetworkNamespace(container: ContainerRecord): boolean {
  const mode = container.config.network ?? 'bridge';
  return mode !== 'none' && mode !== 'host';
}
// #endregion

/** A detached container's leases pass from the tsrun that started it to the container's own process:
 *  while that runs, the addresses are taken, whatever became of tsrun. */
export async function handOverNetwork(runtime: Runtime, container: ContainerRecord, holder: Lease['holder'], host = networkHost(runtime.paths)): Promise<void> {
  await withNetworkLock(runtime.sys, host, async () => {
    for (const held of findLeases(container.id, host.stateDir)) { // none with --network none or host
      held.lease.holder = holder;
      writeBridgeState(host.stateDir, held.bridge, held.state);
    }
  });
}
