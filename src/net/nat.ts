// Outbound traffic: containers have private addresses, so the host forwards
// their packets and rewrites the source to its own address on the way out
// (masquerade), as a home router does. Inbound, for published ports: the
// destination of a new connection to the host's port is rewritten to the
// container's address and port (DNAT), the way a home router forwards a port.
// And between networks: nothing is forwarded from one of tsrun's bridges to another; nor from anywhere else to a
// container, but what a published port lets in; and nothing from outside reaches 127.0.0.0/8, which the
// bridges must route (route_localnet) for a port published on 127.0.0.1. The rules live in a table of tsrun's
// own, `ip tsrun`, so `nft list table ip tsrun` shows all of them and
// deleting that one table removes them, leaving everyone else's rules alone.
import type { CommandRunner } from './command.js';
import type { PortMapping } from '../container.js';

export const NAT_TABLE = 'ip tsrun';

// #region masquerade
/** A published port, where it leads: the container's address and port. */
export interface PublishedRule {
  mapping: PortMapping;
  address: string;
}

/** One bridge's share of the table. */
export interface NatNetwork {
  bridge: string;
  subnet: string;
  published: PublishedRule[];
}

export function natRuleset(networks: NatNetwork[]): string {
  const published = networks.flatMap((network) => network.published);
  const dnatOf = ({ mapping, address }: PublishedRule) => {
    // Addressed to this host: one of its own addresses (fib ... type local), or the one address it was published on.
    const toHost = mapping.hostIp === '' ? 'fib daddr type local' : `ip daddr ${mapping.hostIp}`;
    return `    ${toHost} ${mapping.protocol} dport ${mapping.hostPort} dnat to ${address}:${mapping.containerPort}`;
  };
  // A port published on 127.0.0.1 is for this host's own programs: it is DNAT'd on the way out of them only
  // (moby#45610: in prerouting, a LAN host that sent to 127.0.0.1 would have reached the container).
  const fromOutside = published.filter(({ mapping }) => !isLoopback(mapping.hostIp)).map(dnatOf);
  const bridges = networks.map((network) => network.bridge);
  return [
    // Declaring the table, then deleting it, makes "replace the whole table" one atomic transaction.
    `table ${NAT_TABLE}`,
    `delete table ${NAT_TABLE}`,
    `table ${NAT_TABLE} {`,
    // Connections from other machines arrive here…
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...fromOutside,
    '  }',
    // …and the host's own (curl http://127.0.0.1:8080) here: locally made packets skip prerouting.
    '  chain output {',
    '    type nat hook output priority -100; policy accept;', // dstnat's number: older nft names it for prerouting only
    ...published.map(dnatOf),
    '  }',
    // No packet from outside the host is for 127.0.0.0/8: not a container's for the host's loopback services
    // (the classroom registry listens there), not a LAN host's for a port published on 127.0.0.1.
    '  chain guard {',
    '    type filter hook prerouting priority raw; policy accept;',
    '    iifname != "lo" ip daddr 127.0.0.0/8 drop',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...networks.flatMap(({ bridge, subnet }) => [
      // Leaving by any interface but its own bridge: container-to-container traffic keeps its addresses.
      `    ip saddr ${subnet} oifname != "${bridge}" masquerade`,
      // A connection to 127.0.0.1 that DNAT sent to a container: the container could not answer 127.0.0.1,
      // so it gets the bridge's address as its source (the bridge has route_localnet on to let it through).
      `    ip saddr 127.0.0.0/8 oifname "${bridge}" masquerade`,
    ]),
    '  }',
    // Networks are apart: the host forwards nothing from one of tsrun's bridges to another. And from anywhere
    // else, only what a container began, or a published port (DNAT'd) reaches it, as in Docker since 28.0.
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    ...(bridges.length > 1 ? bridges.map((bridge) => `    iifname "${bridge}" oifname { ${bridges.filter((other) => other !== bridge).map((other) => `"${other}"`).join(', ')} } drop`) : []),
    ...bridges.flatMap((bridge) => [
      `    oifname "${bridge}" ct state established,related accept`,
      `    oifname "${bridge}" ct status dnat accept`,
      `    oifname "${bridge}" iifname "${bridge}" accept`,
      `    oifname "${bridge}" drop`,
    ]),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** 127.0.0.1, or any address of 127.0.0.0/8. */
export const isLoopback = (address: string) => address.startsWith('127.');

// #endregion

/** Turn on IPv4 forwarding; returns the value it had before. */
export async function enableForwarding(run: CommandRunner): Promise<string> {
  const before = (await run(['sysctl', '-n', 'net.ipv4.ip_forward'])).trim();
  if (before !== '1') await run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  return before;
}

export async function restoreForwarding(run: CommandRunner, before: string): Promise<void> {
  if (before !== '1') await run(['sysctl', '-q', '-w', `net.ipv4.ip_forward=${before}`]);
}
