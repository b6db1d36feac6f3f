// The host's side of the default network: a bridge, a virtual switch inside
// the kernel. Every container's veth plugs into it as a port; the bridge also
// has an address of its own, the gateway, so the host is on that network too.
import { ipBatch, type CommandRunner } from './command.js';
import { formatSubnet, parseSubnet, overlaps } from './address.js';
import { fail } from '../errors.js';
import { macFor } from './veth.js';

export const BRIDGE = 'tsrun0';
export const DEFAULT_SUBNET = '10.88.0.0/16';
/** When the host has no default route to measure. */
const DEFAULT_MTU = 1500;

interface Route { dst: string; dev: string }

/** The subnet must be one the host does not already reach another way, or its packets would go astray. */
export async function checkSubnetIsFree(run: CommandRunner, subnet: string, bridge: string): Promise<void> {
  const routes = JSON.parse(await run(['ip', '-json', 'route', 'show'])) as Route[];
  const taken = routes.find((route) => route.dst !== 'default' && route.dev !== bridge && overlaps(parseSubnet(route.dst), parseSubnet(subnet)));
  if (taken) {
    throw fail(`the bridge subnet ${subnet} overlaps the host's route to ${taken.dst} on ${taken.dev}`,
      'set another "bridge-subnet" in config.json in the store');
  }
}

/** The MTU of the interface the host's default route leaves by: a container's packets
 *  leave that way too, and must not be bigger than it carries. */
export async function uplinkMtu(run: CommandRunner): Promise<number> {
  const [uplink] = JSON.parse(await run(['ip', '-json', 'route', 'show', 'default'])) as Route[];
  if (!uplink) return DEFAULT_MTU;
  const [link] = JSON.parse(await run(['ip', '-json', 'link', 'show', 'dev', uplink.dev])) as Array<{ mtu: number }>;
  return link?.mtu ?? DEFAULT_MTU;
}

// #region create-bridge
export async function createBridge(run: CommandRunner, name: string, subnet: string, gateway: string): Promise<void> {
  const { prefix } = parseSubnet(subnet);
  await ipBatch(run, [
    // A MAC of its own, made from the gateway address: without one, a bridge takes its lowest port's, and changes
    // it when that container leaves, so the others' ARP entry for the gateway points nowhere for half a minute.
    `link add ${name} address ${macFor(gateway)} type bridge`,
    `address add ${gateway}/${prefix} dev ${name}`,
    `link set ${name} up`,
  ]);
  // Let packets from 127.0.0.1 be routed to the bridge: how the host's own connections to a published
  // port on 127.0.0.1 reach a container once DNAT has rewritten their destination (see nat.ts).
  await run(['sysctl', '-q', '-w', `net.ipv4.conf.${name}.route_localnet=1`]);
}
// #endregion

export async function deleteBridge(run: CommandRunner, name: string): Promise<void> {
  await run(['ip', 'link', 'delete', name]);
}

/** "10.88.0.0/16" as written in config.json, normalised (10.88.1.2/16 -> 10.88.0.0/16). */
export function normaliseSubnet(text: string): string {
  return formatSubnet(parseSubnet(text));
}
