// The three files in /etc that describe a container's place on the network,
// written by tsrun and bind-mounted over the image's own.
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerRecord, NetworkMode, NetworkPlan } from '../container.js';

/** Docker's choice when the host's resolvers cannot be reached from a container. */
export const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

// #region hosts
/** `addresses`: the container's own, one per network it is on (eth0 first), as Docker writes a line per endpoint. */
export function hostsFile(mode: NetworkMode, hostname: string, names: string[], addresses: string[], hostHosts: string): string {
  // With the host's network, the host's own hosts file is the right one.
  if (mode === 'host') return hostHosts;
  const own = [...new Set([hostname, ...names])].join(' ');
  // Without an address of its own (--network none), the container's names must resolve somewhere.
  const mine = addresses.length > 0 ? addresses : ['127.0.1.1'];
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    ...mine.map((address) => `${address}\t${own}`),
    '',
  ].join('\n');
}
// #endregion

// #region resolv-conf
/** The host's resolver settings. In a network namespace of its own, a nameserver on the host's
 *  loopback (systemd-resolved's 127.0.0.53) is the container's own loopback, where nothing
 *  listens: such lines go, and if no nameserver is left, Docker's public fallback takes over. */
export function resolvConf(mode: NetworkMode, hostResolvConf: string, nameserver?: string): string {
  if (mode === 'host') return hostResolvConf;
  if (nameserver !== undefined) {
    // A user network's own name server (dns.ts) knows the containers and asks the host's resolvers the rest.
    // ndots:0, as Docker writes: "web" is asked as it is, not first with the host's search domains appended.
    const kept = hostResolvConf.split('\n').filter((line) => line.trim() !== '' && !/^\s*nameserver\s/.test(line));
    return [...kept, `nameserver ${nameserver}`, 'options ndots:0', ''].join('\n');
  }
  const lines = hostResolvConf.trimEnd().split('\n').filter((line) => !/^\s*nameserver\s+(127\.|::1\b)/.test(line));
  if (!lines.some((line) => /^\s*nameserver\s/.test(line))) {
    lines.push(...FALLBACK_NAMESERVERS.map((server) => `nameserver ${server}`));
  }
  return lines.join('\n').trim() + '\n';
}
// #endregion

/** Written before the container starts and again at each start: nothing reads them half-written and
 *  nothing needs them after a crash, so they are plain writes, without a rename or an fsync. */
export function writeEtcFiles(dir: string, container: Pick<ContainerRecord, 'name' | 'config'>, mode: NetworkMode, addresses: string[] = [], nameserver?: string): NetworkPlan['files'] {
  const files = { hostname: path.join(dir, 'hostname'), hosts: path.join(dir, 'hosts'), resolvConf: path.join(dir, 'resolv.conf') };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(files.hostname, `${container.config.hostname}\n`);
  writeAddressFiles(dir, container, mode, addresses, nameserver);
  return files;
}

/** The container's hosts and resolv.conf, as at its start or after `tsrun network connect` / `disconnect` changed
 *  its addresses and which name server it asks: written over the same files, which the container has bind-mounted,
 *  so it sees the change at once. */
export function writeAddressFiles(dir: string, container: Pick<ContainerRecord, 'name' | 'config'>, mode: NetworkMode, addresses: string[], nameserver?: string): void {
  fs.writeFileSync(path.join(dir, 'hosts'), hostsFile(mode, container.config.hostname, [container.name], addresses, readHostFile('/etc/hosts')));
  fs.writeFileSync(path.join(dir, 'resolv.conf'), resolvConf(mode, readHostFile('/etc/resolv.conf'), nameserver));
}

function readHostFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
