// A container's own network namespace, and the cable that connects it to the
// bridge: a veth pair, two interfaces where what goes into one comes out of
// the other. One end stays on the host as a port of the bridge; the other is
// moved into the container's namespace and renamed eth0.
//
// tsrun makes the namespace before the container's process exists, as Docker
// does, and keeps it alive as a file: `unshare --net=FILE` bind-mounts the new
// namespace on FILE (what `ip netns add` does in /run/netns). tsrun can then
// configure it from the host, and the container's process joins it with setns.
import fs from 'node:fs';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';
import { ipBatch, linkExists, type CommandRunner } from './command.js';
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
export async function createNetns(run: CommandRunner, file: string): Promise<void> {
  await inSpan('tsrun.network.netns', {}, async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, '', { mode: 0o444 }); // the mount point
    await run(['unshare', `--net=${file}`, 'true']);
  });
}
// #endregion

// #region connect
export async function connectContainer(run: CommandRunner, c: Connection): Promise<void> {
  // On the host: the pair, its far end born straight inside the container's namespace.
  await inSpan('tsrun.network.veth', { 'network.interface.name': c.hostInterface }, () => ipBatch(run, [
    `link add ${c.hostInterface} mtu ${c.mtu} type veth peer name ${c.interface} address ${macFor(c.address)} mtu ${c.mtu} netns ${c.netnsFile}`,
    `link set ${c.hostInterface} master ${c.bridge} up`,
  ]));
  // Inside the container's namespace: the address, and on eth0 loopback and the way out through the gateway.
  // A network joined later (eth1, …) adds its own subnet only, as Docker's do: one default route is enough.
  const address = [`address add ${c.address} dev ${c.interface}`, `link set ${c.interface} up`];
  await inSpan('tsrun.network.address', { 'network.local.address': c.address }, () => ipBatch(run,
    c.interface === 'eth0' ? ['link set lo up', ...address, `route add default via ${c.gateway}`] : address, c.netnsFile));
}
// #endregion

/** eth0's hardware address, made from its IP address as Docker does (02:42 + the four bytes):
 *  an address handed out again comes with the same MAC, so neighbours' ARP caches stay right. */
export function macFor(address: string): string {
  const bytes = address.split('/')[0]!.split('.').map((b) => Number(b).toString(16).padStart(2, '0'));
  return ['02', '42', ...bytes].join(':');
}

/** Deleting one end of a veth pair deletes both. */
export async function disconnectContainer(run: CommandRunner, hostInterface: string): Promise<void> {
  try {
    await run(['ip', 'link', 'delete', hostInterface]);
  } catch (error) {
    // Already gone (its namespace went first) is what we wanted. Asked only now: listing the links costs
    // a second ip(8), a few milliseconds of every container's release.
    if (await linkExists(run, hostInterface)) throw error;
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
