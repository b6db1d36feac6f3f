// The bridges' life on the host: the default one (tsrun0) and one per user
// network. Each is made on first use (bridge, gateway address, forwarding,
// NAT), kept while containers hold addresses on it, and removed by a prune
// (or `tsrun network rm`) once none does. Every change happens under the
// network lock, so a prune can never pull a bridge from under a starting
// container, and tsrun's one nft table is rewritten from all bridges' state.
import fs from 'node:fs';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';
import type { StorePaths } from '../store/paths.js';
import { withLock } from '../store/lock.js';
import { runCommand, type CommandRunner } from './command.js';
import { formatAddress, nthAddress, parseSubnet } from './address.js';
import { BRIDGE, DEFAULT_SUBNET, checkSubnetIsFree, createBridge, linkExists, normaliseSubnet } from './bridge.js';
import { enableForwarding, restoreForwarding } from './nat.js';
import { installNat, type FirewallBackend } from './firewall.js';
import { HOST_NETWORK_DIR, listBridgeStates, networkLockPath, publishedPorts, readBridgeState, writeBridgeState, type BridgeState } from './ipam.js';
import { deleteLink, removeNetns, vethName } from './veth.js';
import { controlSocket, ensureDns, lostItsNameServer, stopDns, type DnsProcesses } from './dns.js';
import { isSameProcess } from '../kernel/proc.js';
import { fail } from '../errors.js';
import { configFile, readJsonObject } from '../store/config.js';
import { inSpan } from '../trace/span.js';
import type { PortMapping } from '../container.js';

/** How the network stage reaches the host: a command runner and where the bridges' state is kept. */
export interface NetworkHost {
  run: CommandRunner;
  stateDir: string;
  /** Which tool writes tsrun's rules (default nftables). */
  firewall?: FirewallBackend;
  /** Whether nothing on the host listens on a port to be published (default: try to bind it). */
  isPortFree?: (mapping: PortMapping) => Promise<boolean>;
  /** How user networks' name servers are started and stopped (default: `tsrun dns-server` processes). */
  dns?: DnsProcesses;
}

/** A network of bridge type: the default one, or a user network. */
export interface BridgeNetwork {
  /** As users name it: "bridge" for the default, else the name given to `tsrun network create`. */
  name: string;
  /** The Linux bridge: tsrun0, or tsrun-<8 hex of the network's id>. */
  bridge: string;
  subnet: string;
}

export function withNetworkLock<T>(sys: Syscalls, host: NetworkHost, work: () => Promise<T>): Promise<T> {
  return withLock(sys, networkLockPath(host.stateDir), work);
}

/** How tsrun reaches this host's network: real commands, the state under /run, and the firewall tool that works here:
 *  "firewall-backend" from <root>/config.json, else nftables when the nft command exists, else iptables. */
export function networkHost(paths: StorePaths): NetworkHost {
  const configured = readConfig(paths)['firewall-backend'];
  if (configured !== undefined && configured !== 'nftables' && configured !== 'iptables') {
    throw fail(`"firewall-backend" in ${path.join(paths.root, 'config.json')} must be "nftables" or "iptables"`, 'fix or remove it');
  }
  const firewall = configured ?? (onPath('nft') || !onPath('iptables') ? 'nftables' : 'iptables');
  return { run: runCommand, stateDir: HOST_NETWORK_DIR, firewall };
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((dir) => dir !== '' && fs.existsSync(path.join(dir, command)));
}

function readConfig(paths: StorePaths): { 'bridge-subnet'?: string; 'firewall-backend'?: string } {
  return readJsonObject(configFile(paths)); // the store's config.json, as the registry settings read it
}

/** The default network: tsrun0, on "bridge-subnet" from <root>/config.json or the default subnet. */
export function defaultNetwork(paths: StorePaths): BridgeNetwork {
  return { name: 'bridge', bridge: BRIDGE, subnet: normaliseSubnet(readConfig(paths)['bridge-subnet'] ?? DEFAULT_SUBNET) };
}

// #region first-use
/** The bridge's state, making the bridge first if the host does not have it. Call under the network lock. */
export async function ensureBridge(sys: Syscalls, host: NetworkHost, network: BridgeNetwork): Promise<BridgeState> {
  return inSpan('tsrun.network.bridge', { 'network.interface.name': network.bridge }, async () => {
    const { bridge, subnet } = network;
    const known = readBridgeState(host.stateDir, bridge);
    if (known && known.subnet !== subnet) {
      throw fail(`the bridge ${bridge} serves ${known.subnet}, not the configured ${subnet}`,
        'stop tsrun\'s containers on it and remove it first, or keep "bridge-subnet" as it was');
    }
    const bridgeExists = linkExists(sys, bridge);
    if (known && bridgeExists) return known;

    checkSubnetIsFree(sys, subnet, bridge);
    const gateway = formatAddress(nthAddress(parseSubnet(subnet), 1));
    if (!bridgeExists) await createBridge(sys, host.run, bridge, subnet, gateway);
    // ip_forward as it was before any of tsrun's bridges, so the last prune can put it back.
    const before = known?.ipForwardBefore ?? listBridgeStates(host.stateDir)[0]?.state.ipForwardBefore;
    const ipForwardBefore = before ?? await enableForwarding(host.run);
    const state: BridgeState = { subnet, gateway, ipForwardBefore, leases: known?.leases ?? {} };
    writeBridgeState(host.stateDir, bridge, state);
    await applyNat(host);
    return state;
  });
}
// #endregion

/** tsrun's nft table, rewritten whole from every bridge's state: masquerade, isolation, and the published ports. */
export async function applyNat(host: NetworkHost): Promise<void> {
  const networks = listBridgeStates(host.stateDir).map(({ bridge, state }) => ({ bridge, subnet: state.subnet, published: publishedPorts(state) }));
  const ports = networks.reduce((count, network) => count + network.published.length, 0);
  await inSpan('tsrun.network.nat', { 'tsrun.network.bridges': networks.map((network) => network.bridge), 'tsrun.network.published_ports': ports },
    () => installNat(host.run, networks, host.firewall));
}

/** Leases whose tsrun is gone (killed before it could clean up, its container with it):
 *  their veth, namespace file and address are freed. Call under the network lock. */
export async function reclaimStaleLeases(sys: Syscalls, host: NetworkHost, bridge: string, state: BridgeState): Promise<void> {
  let portsFreed = false;
  for (const [address, lease] of Object.entries(state.leases)) {
    if (isSameProcess(lease.holder.pid, lease.holder.startTime)) continue;
    deleteLink(sys, vethName(lease.container, lease.interface));
    removeNetns(sys, lease.netns);
    portsFreed ||= (lease.ports ?? []).length > 0;
    delete state.leases[address];
  }
  forgetDeletedVeths(sys, state);
  writeBridgeState(host.stateDir, bridge, state);
  if (portsFreed) await applyNat(host);
}

/** Every user network that has containers but lost its name server gets another (dns.ts). */
export async function reviveNameServers(sys: Syscalls, host: NetworkHost, root: string): Promise<void> {
  await withNetworkLock(sys, host, async () => {
    for (const { bridge, state } of listBridgeStates(host.stateDir)) {
      if (!lostItsNameServer(state, host.dns)) continue;
      await ensureDns(bridge, root, state, host.dns);
      writeBridgeState(host.stateDir, bridge, state);
    }
  });
}

/** Asked by a network's name server (pid `server`) once the network has had no container for a while: under the lock,
 *  so that no container joins meanwhile, it is struck from the state if still idle. True: the server is to end. */
export async function retireIdleNameServer(sys: Syscalls, host: NetworkHost, bridge: string, server: number): Promise<boolean> {
  return withNetworkLock(sys, host, async () => {
    const state = readBridgeState(host.stateDir, bridge);
    if (!state || state.dns?.pid !== server) return true; // the network went, or another server took over
    if (Object.keys(state.leases).length > 0) return false;
    delete state.dns;
    writeBridgeState(host.stateDir, bridge, state);
    return true;
  });
}

// #region draining
/** A released container's address comes back once the kernel has deleted its veth (with its namespace, a few tens
 *  of ms after the release); while that link is still there, the address stays out of reach. Call under the
 *  network lock. */
function forgetDeletedVeths(sys: Syscalls, state: BridgeState): void {
  if (!state.draining) return;
  const links = new Set(sys.rtnetlink_getlink().map((link) => link.ifname));
  const left = Object.entries(state.draining).filter(([, veth]) => links.has(veth));
  if (left.length > 0) state.draining = Object.fromEntries(left);
  else delete state.draining;
}

/** A container started again before the kernel has deleted its last veth: that one goes now (RTM_DELLINK), as its
 *  name is to be used again, and its address with it. Call under the network lock. */
export function deleteDrainingVeth(sys: Syscalls, host: NetworkHost, veth: string): void {
  for (const { bridge, state } of listBridgeStates(host.stateDir)) {
    const address = Object.keys(state.draining ?? {}).find((draining) => state.draining![draining] === veth);
    if (!address) continue;
    deleteLink(sys, veth);
    delete state.draining![address];
    if (Object.keys(state.draining!).length === 0) delete state.draining;
    writeBridgeState(host.stateDir, bridge, state);
  }
}
// #endregion

/** Remove the bridge and its state (and, with the last bridge, the nft table and ip_forward's change)
 *  when no container holds an address on it. Returns false (and changes nothing) while one does. */
export async function pruneBridge(sys: Syscalls, host: NetworkHost, bridge: string): Promise<boolean> {
  return withNetworkLock(sys, host, async () => {
    const state = readBridgeState(host.stateDir, bridge);
    if (state) await reclaimStaleLeases(sys, host, bridge, state);
    if (state && Object.keys(state.leases).length > 0) return false;
    if (state) await stopDns(state, host.dns);
    fs.rmSync(controlSocket(host.stateDir, bridge), { force: true }); // a server killed before left it
    for (const veth of Object.values(state?.draining ?? {})) deleteLink(sys, veth); // not left for the kernel to finish
    deleteLink(sys, bridge);
    writeBridgeState(host.stateDir, bridge, undefined);
    await applyNat(host);
    if (state && listBridgeStates(host.stateDir).length === 0) await restoreForwarding(host.run, state.ipForwardBefore);
    return true;
  });
}

export function pruneDefaultBridge(sys: Syscalls, host: NetworkHost): Promise<boolean> {
  return pruneBridge(sys, host, BRIDGE);
}
