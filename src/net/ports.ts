// Published ports: `-p 8080:80` makes the host's port 8080 lead to port 80 of
// the container. Nothing listens on 8080: the kernel rewrites the destination
// of each new connection (DNAT, see nat.ts) before any socket sees it.
//
//   -p 80                    any free host port  -> container port 80/tcp
//   -p 8080:80               host port 8080      -> 80/tcp, on every host address
//   -p 127.0.0.1:8080:80     only via 127.0.0.1
//   -p 127.0.0.1::80/udp     any free port, only via 127.0.0.1, UDP
//   -P                       every port the image EXPOSEs, each to a free host port
import fs from 'node:fs';
import { fail } from '../errors.js';
import { parseAddress } from './address.js';
import type { PortMapping } from '../container.js';

const HELP = 'write it as [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp], e.g. -p 8080:80';

// #region parse-publish
/** One -p value, as docker reads it. */
export function parsePublish(spec: string): PortMapping {
  const [ports, protocol = 'tcp', ...extra] = spec.split('/');
  if (extra.length > 0 || (protocol !== 'tcp' && protocol !== 'udp')) throw fail(`invalid publish ${JSON.stringify(spec)}: the protocol must be tcp or udp`, HELP);
  if (ports!.startsWith('[')) throw fail(`invalid publish ${JSON.stringify(spec)}: tsrun's networks are IPv4 only`, 'publish on an IPv4 address, or on all of them');
  const parts = ports!.split(':');
  if (parts.length > 3) throw fail(`invalid publish ${JSON.stringify(spec)}`, HELP);
  const [hostIp, hostPort, containerPort] = parts.length === 3 ? parts : parts.length === 2 ? ['', ...parts] : ['', '', ...parts];
  if (hostIp !== '') parseAddress(hostIp!); // a clear error for a bad address
  return {
    hostIp: hostIp!,
    hostPort: hostPort === '' ? 0 : portNumber(hostPort!, spec),
    containerPort: portNumber(containerPort!, spec),
    protocol,
  };
}
// #endregion

/** -P: the image's ExposedPorts ({ "80/tcp": {} }), each to a free host port. */
export function exposedPorts(exposed: Record<string, object> | undefined): PortMapping[] {
  return Object.keys(exposed ?? {}).map((key) => ({ ...parsePublish(key), hostPort: 0 }));
}

/** "0.0.0.0:8080->80/tcp", as docker ps shows it. */
export function formatMapping(mapping: PortMapping): string {
  return `${mapping.hostIp || '0.0.0.0'}:${mapping.hostPort}->${mapping.containerPort}/${mapping.protocol}`;
}

function portNumber(text: string, spec: string): number {
  const port = Number(text);
  if (text.includes('-')) throw fail(`invalid publish ${JSON.stringify(spec)}: tsrun does not publish port ranges`, 'publish each port with its own -p');
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw fail(`invalid publish ${JSON.stringify(spec)}: ${JSON.stringify(text)} is not a port number (1-65535)`, HELP);
  return port;
}

// #region pick-host-ports
/** Give every mapping a host port: the one asked for, checked free, or a free one from the ephemeral range.
 *  `taken` are the ports other containers published. Free means nothing on the host listens there either:
 *  DNAT would take its connections away without a word, so that is refused, as docker refuses it. */
export async function pickHostPorts(mappings: PortMapping[], taken: PortMapping[], isFree = canBind): Promise<PortMapping[]> {
  const picked: PortMapping[] = [];
  const clashes = (a: PortMapping, b: PortMapping) => a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === '' || b.hostIp === '' || a.hostIp === b.hostIp);
  for (const mapping of mappings) {
    if (mapping.hostPort !== 0) {
      const where = `${mapping.hostIp || '0.0.0.0'}:${mapping.hostPort}`;
      if ([...taken, ...picked].some((other) => clashes(other, mapping))) {
        throw fail(`Bind for ${where} failed: port is already allocated`, 'another container publishes it; choose another host port');
      }
      if (!(await isFree(mapping))) throw fail(`Bind for ${where} failed: address already in use`, 'a program on the host listens there; choose another host port');
      picked.push(mapping);
      continue;
    }
    const [low, high] = ephemeralRange();
    const start = low + Math.floor(Math.random() * (high - low + 1));
    let found: PortMapping | undefined;
    for (let i = 0; i <= high - low && !found; i++) {
      const candidate = { ...mapping, hostPort: low + ((start - low + i) % (high - low + 1)) };
      if (![...taken, ...picked].some((other) => clashes(other, candidate)) && await isFree(candidate)) found = candidate;
    }
    if (!found) throw fail(`no free host port for ${mapping.containerPort}/${mapping.protocol}`, 'stop some containers, or publish it on a port of your choice');
    picked.push(found);
  }
  return picked;
}
// #endregion

/** The kernel's range for ports nobody asked for by number (net.ipv4.ip_local_port_range), as docker uses it. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high && low <= high) return [low, high];
  } catch {
    // no /proc: the kernel's default
  }
  return [32768, 60999];
}

/** Whether a socket could listen there now. The socket modules load only here: most runs publish nothing. */
async function canBind(mapping: PortMapping): Promise<boolean> {
  const host = mapping.hostIp || '0.0.0.0';
  if (mapping.protocol === 'udp') {
    const dgram = await import('node:dgram');
    return new Promise((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => { socket.close(); resolve(false); });
      socket.bind(mapping.hostPort, host, () => socket.close(() => resolve(true)));
    });
  }
  const net = await import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port: mapping.hostPort, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
