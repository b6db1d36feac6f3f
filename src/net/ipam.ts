// IP address management for a bridge: which container holds which address.
// The leases live in one JSON file per bridge, changed only under a lock, so
// two concurrent `tsrun run`s can never be handed the same address.
//
// The bridge belongs to the host, not to one tsrun store (tests run several
// stores at once on one bridge), so its state lives in one place per host,
// under /run: it is forgotten at reboot, exactly when the bridge goes too.
import fs from 'node:fs';
import path from 'node:path';
import { formatAddress, nthAddress, parseSubnet, subnetSize } from './address.js';
import { readJson, writeJsonAtomic } from '../store/atomic.js';
import { fail } from '../errors.js';
import type { PortMapping } from '../container.js';

export const HOST_NETWORK_DIR = '/run/tsrun/network';

export interface BridgeState {
  subnet: string;
  gateway: string;
  /** net.ipv4.ip_forward before tsrun turned it on, so that pruning can put it back. */
  ipForwardBefore: string;
  /** address -> who holds it. */
  leases: Record<string, Lease>;
  /** On a user network: its name server's process (dns.ts), while containers are on it. */
  dns?: Lease['holder'];
  /** Addresses of released containers whose veth the kernel is still deleting, with their namespace: address ->
   *  the host end's name. Not handed out again until that link is gone (bridges.ts, forgetDeletedVeths). */
  draining?: Record<string, string>;
}

export interface Lease {
  container: string;
  /** The store the container belongs to. */
  store: string;
  /** The tsrun process that set the container up: if it is gone, so is the container. */
  holder: { pid: number; startTime: number | null };
  /** The container's network namespace file. */
  netns: string;
  /** Host ports published to this container (-p, -P), each with its host port picked. */
  ports?: PortMapping[];
  /** On a user network: the name it started with (the name server reads the current one from its store). */
  name?: string;
  /** On a user network: its --network-alias names there, which the name server answers too. */
  aliases?: string[];
  /** The container's interface on this bridge: eth1, … for a network joined after the first; eth0 when absent. */
  interface?: string;
}

export const networkLockPath = (dir: string) => path.join(dir, 'lock');
const statePath = (dir: string, bridge: string) => path.join(dir, `${bridge}.json`);

export function readBridgeState(dir: string, bridge: string): BridgeState | undefined {
  return fs.existsSync(statePath(dir, bridge)) ? readJson<BridgeState>(statePath(dir, bridge)) : undefined;
}

/** Every bridge tsrun has state for on this host, by bridge name. */
export function listBridgeStates(dir: string): Array<{ bridge: string; state: BridgeState }> {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((file) => file.endsWith('.json')).sort()
    .map((file) => ({ bridge: file.slice(0, -'.json'.length), state: readJson<BridgeState>(path.join(dir, file)) }));
}

export function writeBridgeState(dir: string, bridge: string, state: BridgeState | undefined): void {
  if (state) writeJsonAtomic(statePath(dir, bridge), state);
  else fs.rmSync(statePath(dir, bridge), { force: true });
}

// #region lease
/** The lowest address of the subnet that nobody holds: not the network address,
 *  not the gateway, not the broadcast address, not another container's, not one whose veth is still there. */
export function leaseAddress(state: BridgeState, lease: Lease): string {
  const subnet = parseSubnet(state.subnet);
  for (let n = 1; n < subnetSize(subnet) - 1; n++) {
    const address = formatAddress(nthAddress(subnet, n));
    if (address === state.gateway || address in state.leases || address in (state.draining ?? {})) continue;
    state.leases[address] = lease;
    return address;
  }
  throw fail(`no address left in ${state.subnet}`, 'stop some containers, or give the bridge a bigger subnet');
}
// #endregion

export function leaseOf(state: BridgeState, container: string): string | undefined {
  return Object.keys(state.leases).find((address) => state.leases[address]!.container === container);
}

/** What a running container holds on its first network (eth0, where ports are published): its address and
 *  published ports (for ps and inspect). */
export function findLease(container: string, dir = HOST_NETWORK_DIR): { bridge: string; state: BridgeState; address: string; gateway: string; lease: Lease } | undefined {
  const held = findLeases(container, dir).sort((a, b) => interfaceNumber(a.lease) - interfaceNumber(b.lease))[0];
  return held && { ...held, gateway: held.state.gateway };
}

/** 0 for eth0, 1 for eth1, … */
export const interfaceNumber = (lease: Lease) => Number((lease.interface ?? 'eth0').slice('eth'.length));

/** Every lease the container holds: one per network it is on. */
export function findLeases(container: string, dir = HOST_NETWORK_DIR): Array<{ bridge: string; state: BridgeState; address: string; lease: Lease }> {
  return listBridgeStates(dir).flatMap(({ bridge, state }) => {
    const address = leaseOf(state, container);
    return address ? [{ bridge, state, address, lease: state.leases[address]! }] : [];
  });
}

/** Every port published on this bridge, and where it leads. */
export function publishedPorts(state: BridgeState): { mapping: PortMapping; address: string }[] {
  return Object.entries(state.leases).flatMap(([address, lease]) => (lease.ports ?? []).map((mapping) => ({ mapping, address })));
}

/** The container's lease goes. With `untilGone`, the name of its veth that the kernel has yet to delete, its address
 *  waits in `draining` until that link has gone: another container given it sooner would share it, and its MAC, with
 *  an interface still on the bridge. */
export function releaseAddress(state: BridgeState, container: string, untilGone?: string): void {
  const address = leaseOf(state, container);
  if (!address) return;
  delete state.leases[address];
  if (untilGone) state.draining = { ...state.draining, [address]: untilGone };
}
