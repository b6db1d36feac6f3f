// A container's own network namespace, and the cable that connects it to the
// bridge: a veth pair, two interfaces where what goes into one comes out of
// the other. One end stays on the host as a port of the bridge; the other is
// moved into the container's namespace and renamed eth0.
//
// tsrun makes the namespace before the container's process exists, as Docker
// does, and keeps it alive as a file: the new namespace is bind-mounted on
// FILE (what `ip netns add` does in /run/netns, and `unshare --net=FILE`).
// tsrun can then configure it from the host, and the container's process
// joins it with setns.
//
// The pair, the address and the route are rtnetlink messages (rtnetlink(7)), built here as plain data and
// sent by native/src/netlink.cc: the ones ip(8) would send, without starting ip.
import fs from 'node:fs';
import path from 'node:path';
import type { RtnetlinkBatch, RtnetlinkMessage, Syscalls } from '../kernel/syscalls.js';
import { inSpan } from '../trace/span.js';

/** The host's end, named after the container: tsrun + the first 8 hex digits of its id, and for eth1, … its number
 *  after a dash (tsrun1a2b3c4d-1). Linux allows 15 characters: hence at most ten interfaces, eth0 to eth9. */
export function vethName(containerId: string, inside = 'eth0'): string {
  const own = `tsrun${containerId.slice(0, 8)}`;
  return inside === 'eth0' ? own : `${own}-${inside.slice('eth'.length)}`;
}
export const MAX_INTERFACES = 10;

export interface Connection {
  netnsFile: string;
  bridge: string;
  /** eth0 carries the container's default route; eth1, … reach their own subnet only. */
  interface: string;
  hostInterface: string;
  /** The container's address with the prefix length: 10.88.0.2/16. */
  address: string;
  gateway: string;
  mtu: number;
}

// #region netns
export async function createNetns(sys: Syscalls, file: string): Promise<void> {
  await inSpan('tsrun.network.netns', {}, async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, '', { mode: 0o444 }); // the mount point
    sys.unshare_CLONE_NEWNET(file); // native/src/syscalls.cc: a thread unshares, and bind-mounts its namespace here
  });
}
// #endregion

// #region connect
/** The cable's messages: the first batch on the host, the second inside the container's namespace. */
export function cableMessages(c: Connection): [RtnetlinkBatch, RtnetlinkBatch] {
  const pair: RtnetlinkMessage = {
    // On the host: the pair, its end here a port of the bridge and up, its far end born straight inside the
    // container's namespace (IFLA_NET_NS_FD), with its name and a MAC made from its address.
    message: 'RTM_NEWLINK', IFLA_IFNAME: c.hostInterface, IFLA_INFO_KIND: 'veth', IFLA_MTU: c.mtu, IFLA_MASTER: c.bridge, ifi_flags: ['IFF_UP'],
    VETH_INFO_PEER: { IFLA_IFNAME: c.interface, IFLA_ADDRESS: macFor(c.address), IFLA_MTU: c.mtu, IFLA_NET_NS_FD: c.netnsFile },
  };
  // Inside: the address, and on eth0 loopback and the way out through the gateway. A network joined
  // later (eth1, …) adds its own subnet only, as Docker's do: one default route is enough.
  const [address, prefix] = c.address.split('/');
  const own: RtnetlinkMessage[] = [
    { message: 'RTM_NEWADDR', ifa_index: c.interface, ifa_prefixlen: Number(prefix), IFA_LOCAL: address! },
    { message: 'RTM_NEWLINK', IFLA_IFNAME: c.interface, ifi_flags: ['IFF_UP'] },
  ];
  const inside: RtnetlinkMessage[] = c.interface === 'eth0' ? [
    { message: 'RTM_NEWLINK', IFLA_IFNAME: 'lo', ifi_flags: ['IFF_UP'] },
    ...own,
    { message: 'RTM_NEWROUTE', RTA_GATEWAY: c.gateway },
  ] : own;
  return [{ messages: [pair] }, { netns: c.netnsFile, messages: inside }];
}

/** Lays the cable; returns the messages it sent, for --explain to show. */
export async function connectContainer(sys: Syscalls, c: Connection): Promise<RtnetlinkBatch[]> {
  const [pair, inside] = cableMessages(c);
  await inSpan('tsrun.network.veth', { 'network.interface.name': c.hostInterface }, async () => sys.rtnetlink(pair));
  await inSpan('tsrun.network.address', { 'network.local.address': c.address }, async () => sys.rtnetlink(inside));
  return [pair, inside];
}
// #endregion

/** eth0's hardware address, made from its IP address as Docker does (02:42 + the four bytes):
 *  an address handed out again comes with the same MAC, so neighbours' ARP caches stay right. */
export function macFor(address: string): string {
  const bytes = address.split('/')[0]!.split('.').map((b) => Number(b).toString(16).padStart(2, '0'));
  return ['02', '42', ...bytes].join(':');
}

/** RTM_DELLINK: a container's veth (deleting one end of a pair deletes both), or a bridge. One already gone
 *  (its namespace went first) is what we wanted. */
export function deleteLink(sys: Syscalls, name: string): void {
  try {
    sys.rtnetlink({ messages: [{ message: 'RTM_DELLINK', IFLA_IFNAME: name }] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENODEV') throw error;
  }
}

/** Unmount the namespace file: once the container's processes are gone too, the kernel frees the namespace. */
export function removeNetns(sys: Syscalls, file: string): void {
  if (!fs.existsSync(file)) return;
  try {
    sys.umount2(file, ['MNT_DETACH']);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error; // EINVAL: not mounted (a setup that failed early)
  }
  fs.rmSync(file, { force: true });
}
