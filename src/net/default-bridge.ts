// The default network's life on the host: made on first use (bridge, gateway
// address, forwarding, NAT), kept while containers hold addresses on it, and
// removed by a prune once none does. Every change happens under the network
// lock, so a prune can never pull the bridge from under a starting container.
import fs from 'node:fs';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';
import type { StorePaths } from '../store/paths.js';
import { withLock } from '../store/lock.js';
import { linkExists, type CommandRunner } from './command.js';
import { formatAddress, nthAddress, parseSubnet } from './address.js';
import { BRIDGE, DEFAULT_SUBNET, checkSubnetIsFree, createBridge, deleteBridge, normaliseSubnet } from './bridge.js';
import { enableForwarding, installNat, removeNat, restoreForwarding } from './nat.js';
import { networkLockPath, publishedPorts, readBridgeState, writeBridgeState, type BridgeState } from './ipam.js';
import { disconnectContainer, removeNetns, vethName } from './veth.js';
import { isSameProcess } from '../kernel/proc.js';
import { fail } from '../errors.js';
import { inSpan } from '../trace/span.js';
import type { PortMapping } from './ports.js';

/** How the network stage reaches the host: a command runner and where the bridge's state is kept. */
export interface NetworkHost {
  run: CommandRunner;
  stateDir: string;
  /** Whether nothing on the host listens on a port to be published (default: try to bind it). */
  isPortFree?: (mapping: PortMapping) => Promise<boolean>;
}

export function withNetworkLock<T>(sys: Syscalls, host: NetworkHost, work: () => Promise<T>): Promise<T> {
  return withLock(sys, networkLockPath(host.stateDir), work);
}

/** "bridge-subnet" in <root>/config.json, or the default. */
export function configuredSubnet(paths: StorePaths): string {
  const file = path.join(paths.root, 'config.json');
  const config = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) as { 'bridge-subnet'?: string } : {};
  return normaliseSubnet(config['bridge-subnet'] ?? DEFAULT_SUBNET);
}

// #region first-use
/** The default bridge's state, making the bridge first if the host does not have it. Call under the network lock. */
export async function defaultBridge(host: NetworkHost, subnet: string): Promise<BridgeState> {
  const known = readBridgeState(host.stateDir, BRIDGE);
  if (known && known.subnet !== subnet) {
    throw fail(`the bridge ${BRIDGE} serves ${known.subnet}, not the configured ${subnet}`,
      'stop tsrun\'s containers on it and remove it first, or keep "bridge-subnet" as it was');
  }
  const bridgeExists = await linkExists(host.run, BRIDGE);
  if (known && bridgeExists) return known;

  await checkSubnetIsFree(host.run, subnet, BRIDGE);
  const gateway = formatAddress(nthAddress(parseSubnet(subnet), 1));
  if (!bridgeExists) await createBridge(host.run, BRIDGE, subnet, gateway);
  const ipForwardBefore = known?.ipForwardBefore ?? await enableForwarding(host.run);
  const state: BridgeState = { subnet, gateway, ipForwardBefore, leases: known?.leases ?? {} };
  await applyNat(host, state);
  writeBridgeState(host.stateDir, BRIDGE, state);
  return state;
}
// #endregion

/** tsrun's nft table, rewritten whole from the bridge's state: masquerade, and the ports its containers publish. */
export async function applyNat(host: NetworkHost, state: BridgeState): Promise<void> {
  const ports = publishedPorts(state);
  await inSpan('tsrun.network.nat', { 'tsrun.network.subnet': state.subnet, 'tsrun.network.published_ports': ports.length },
    () => installNat(host.run, state.subnet, BRIDGE, ports));
}

/** Leases whose tsrun is gone (killed before it could clean up, its container with it):
 *  their veth, namespace file and address are freed. Call under the network lock. */
export async function reclaimStaleLeases(sys: Syscalls, host: NetworkHost, state: BridgeState): Promise<void> {
  let portsFreed = false;
  for (const [address, lease] of Object.entries(state.leases)) {
    if (isSameProcess(lease.holder.pid, lease.holder.startTime)) continue;
    await disconnectContainer(host.run, vethName(lease.container));
    removeNetns(sys, lease.netns);
    portsFreed ||= (lease.ports ?? []).length > 0;
    delete state.leases[address];
  }
  if (portsFreed) await applyNat(host, state);
  writeBridgeState(host.stateDir, BRIDGE, state);
}

/** Remove the bridge, the NAT table and the state, and put ip_forward back, when no
 *  container holds an address. Returns false (and changes nothing) while one does. */
export async function pruneDefaultBridge(sys: Syscalls, host: NetworkHost): Promise<boolean> {
  return withNetworkLock(sys, host, async () => {
    const state = readBridgeState(host.stateDir, BRIDGE);
    if (state) await reclaimStaleLeases(sys, host, state);
    if (state && Object.keys(state.leases).length > 0) return false;
    if (await linkExists(host.run, BRIDGE)) await deleteBridge(host.run, BRIDGE);
    await removeNat(host.run);
    if (state) await restoreForwarding(host.run, state.ipForwardBefore);
    writeBridgeState(host.stateDir, BRIDGE, undefined);
    return true;
  });
}
