// The host's side of the default network: a bridge, a virtual switch inside
// the kernel. Every container's veth plugs into it as a port; the bridge also
// has an address of its own, the gateway, so the host is on that network too.
import type { LinkInfo, RtnetlinkMessage, Syscalls } from '../kernel/syscalls.js';
import type { CommandRunner } from './command.js';
import { formatSubnet, parseSubnet, overlaps } from './address.js';
import { fail } from '../errors.js';
import { macFor } from './veth.js';

export const BRIDGE = 'tsrun0';
export const DEFAULT_SUBNET = '10.88.0.0/16';
/** When the host has no default route to measure. */
const DEFAULT_MTU = 1500;

/** The subnet must be one the host does not already reach another way, or its packets would go astray. */
export function checkSubnetIsFree(sys: Syscalls, subnet: string, bridge: string): void {
  const links = sys.rtnetlink_getlink();
  const taken = sys.rtnetlink_getroute().map((route) => ({ dst: route.dst, dev: linkName(links, route.oif) }))
    .find((route) => route.dst !== 'default' && route.dev !== bridge && overlaps(parseSubnet(route.dst), parseSubnet(subnet)));
  if (taken) {
    throw fail(`the bridge subnet ${subnet} overlaps the host's route to ${taken.dst} on ${taken.dev}`,
      'set another "bridge-subnet" in config.json in the store');
  }
}

/** The MTU of the interface the host's default route leaves by: a container's packets
 *  leave that way too, and must not be bigger than it carries. */
export function uplinkMtu(sys: Syscalls): number {
  const uplink = sys.rtnetlink_getroute().find((route) => route.dst === 'default');
  return (uplink && sys.rtnetlink_getlink().find((link) => link.index === uplink.oif)?.mtu) ?? DEFAULT_MTU;
}

/** Whether the host has a network interface of that name. */
export function linkExists(sys: Syscalls, name: string): boolean {
  return sys.rtnetlink_getlink().some((link) => link.ifname === name);
}

function linkName(links: LinkInfo[], index: number): string {
  return links.find((link) => link.index === index)?.ifname ?? `#${index}`;
}

// #region create-bridge
/** The bridge, up, with a MAC of its own; then the gateway's address on it. */
export function bridgeMessages(name: string, subnet: string, gateway: string): RtnetlinkMessage[] {
  return [
    // A MAC of its own, made from the gateway address: without one, a bridge takes its lowest port's, and changes
    // it when that container leaves, so the others' ARP entry for the gateway points nowhere for half a minute.
    { message: 'RTM_NEWLINK', IFLA_IFNAME: name, IFLA_INFO_KIND: 'bridge', IFLA_ADDRESS: macFor(gateway), ifi_flags: ['IFF_UP'] },
    { message: 'RTM_NEWADDR', ifa_index: name, ifa_prefixlen: parseSubnet(subnet).prefix, IFA_LOCAL: gateway },
  ];
}

export async function createBridge(sys: Syscalls, run: CommandRunner, name: string, subnet: string, gateway: string): Promise<void> {
  sys.rtnetlink({ messages: bridgeMessages(name, subnet, gateway) });
  // Let packets from 127.0.0.1 be routed to the bridge: how the host's own connections to a published
  // port on 127.0.0.1 reach a container once DNAT has rewritten their destination (see nat.ts).
  await run(['sysctl', '-q', '-w', `net.ipv4.conf.${name}.route_localnet=1`]);
}
// #endregion

/** "10.88.0.0/16" as written in config.json, normalised (10.88.1.2/16 -> 10.88.0.0/16). */
export function normaliseSubnet(text: string): string {
  return formatSubnet(parseSubnet(text));
}
