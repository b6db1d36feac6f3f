// Stage 4, network: the container's place on a network, decided and built
// before its process exists.
//
//   bridge (the default): tsrun makes a network namespace, kept as a file,
//     and wires it to the host's bridge tsrun0 with a veth pair: eth0 inside,
//     an address of its own, a default route through the bridge's address.
//     The container's process joins that namespace (setns) when it starts.
//   none: a new, empty network namespace; the child brings up loopback.
//   host: no network namespace of its own; the host's interfaces.
//
// In every mode the container gets its own /etc/hostname, /etc/hosts and
// /etc/resolv.conf, written here and bind-mounted into its root.
import fs from 'node:fs';
import path from 'node:path';
import type { BridgeAttachment, ContainerRecord, NetworkMode, NetworkPlan, Runtime } from '../container.js';
import type { StorePaths } from '../store/paths.js';
import { containerDir } from '../store/paths.js';
import { writeFileAtomic } from '../store/atomic.js';
import { runCommand } from '../net/command.js';
import { BRIDGE, uplinkMtu } from '../net/bridge.js';
import { applyNat, configuredSubnet, defaultBridge, reclaimStaleLeases, withNetworkLock, type NetworkHost } from '../net/default-bridge.js';
import { processStartTime } from '../kernel/proc.js';
import { HOST_NETWORK_DIR, leaseAddress, leaseOf, publishedPorts, readBridgeState, releaseAddress, writeBridgeState } from '../net/ipam.js';
import { formatMapping, pickHostPorts } from '../net/ports.js';
import { connectContainer, createNetns, disconnectContainer, removeNetns, vethName } from '../net/veth.js';
import { hostsFile, resolvConf } from '../net/etc-files.js';
import { parseSubnet } from '../net/address.js';
import { inSpan } from '../trace/span.js';

const HOST: NetworkHost = { run: runCommand, stateDir: HOST_NETWORK_DIR };

/** Where a container's network namespace is kept while it runs. */
export const netnsFile = (paths: StorePaths, id: string) => path.join(paths.runRoot, 'netns', id);

// #region network
export async function network(runtime: Runtime, container: ContainerRecord, host = HOST): Promise<NetworkPlan> {
  const mode: NetworkMode = container.config.network ?? 'bridge';
  return inSpan('tsrun.network', { 'container.id': container.id, 'tsrun.network.mode': mode }, async (span) => {
    if (mode === 'host') {
      span.setAttribute('network.interface.name', 'host');
      return { mode, interfaces: ['(the host\'s)'], files: writeEtcFiles(runtime, container, mode), steps: [] };
    }
    if (mode === 'none') {
      span.setAttribute('network.interface.name', 'lo');
      return { mode, interfaces: ['lo 127.0.0.1/8'], files: writeEtcFiles(runtime, container, mode), steps: [{ op: 'link_up', name: 'lo' }] };
    }
    const file = netnsFile(runtime.paths, container.id);
    const bridge = await attach(runtime, container, host, file);
    span.setAttributes({
      'network.interface.name': 'eth0',
      'network.local.address': bridge.address.split('/')[0],
      'tsrun.network.bridge': bridge.name,
      'tsrun.network.veth': bridge.hostInterface,
      'tsrun.network.ports': bridge.ports.map(formatMapping),
    });
    return {
      mode,
      interfaces: ['lo 127.0.0.1/8', `eth0 ${bridge.address}`],
      namespaceFile: file,
      bridge,
      files: writeEtcFiles(runtime, container, mode, bridge.address.split('/')[0]),
      steps: [{ op: 'setns', path: file, nstype: 'CLONE_NEWNET' }],
    };
  });
}
// #endregion

// #region attach
/** Under the network lock: the bridge (first use), an address, the namespace, the veth pair. */
async function attach(runtime: Runtime, container: ContainerRecord, host: NetworkHost, file: string): Promise<BridgeAttachment> {
  const subnet = configuredSubnet(runtime.paths);
  const mtu = await uplinkMtu(host.run);
  return withNetworkLock(runtime.sys, host, async () => {
    const state = await inSpan('tsrun.network.bridge', { 'network.interface.name': BRIDGE }, () => defaultBridge(host, subnet));
    await reclaimStaleLeases(runtime.sys, host, state); // left by a tsrun killed before it could release them
    const ports = await pickHostPorts(container.config.ports ?? [], publishedPorts(state).map((published) => published.mapping), host.isPortFree);
    const address = leaseAddress(state, {
      container: container.id, store: runtime.paths.root, netns: file,
      holder: { pid: process.pid, startTime: processStartTime(process.pid) },
      ports,
    });
    writeBridgeState(host.stateDir, BRIDGE, state); // leased before anything else, so releasing always finds it
    const attachment: BridgeAttachment = {
      name: BRIDGE, subnet, gateway: state.gateway,
      address: `${address}/${parseSubnet(subnet).prefix}`,
      hostInterface: vethName(container.id),
      mtu,
      ports,
    };
    await inSpan('tsrun.network.netns', {}, () => createNetns(host.run, file));
    await connectContainer(host.run, { netnsFile: file, bridge: BRIDGE, ...attachment });
    if (ports.length > 0) await applyNat(host, state); // the DNAT rules, once the container's address answers
    return attachment;
  });
}
// #endregion

// #region release
/** When the container has stopped (or failed to start): the veth pair, the address and the
 *  namespace file go. The bridge stays for the next container. */
export async function releaseNetwork(runtime: Runtime, container: ContainerRecord, host = HOST): Promise<void> {
  if ((container.config.network ?? 'bridge') !== 'bridge') return;
  await withNetworkLock(runtime.sys, host, async () => {
    const state = readBridgeState(host.stateDir, BRIDGE);
    const address = state && leaseOf(state, container.id);
    if (!state || !address) return;
    const hadPorts = (state.leases[address]!.ports ?? []).length > 0;
    await disconnectContainer(host.run, vethName(container.id));
    releaseAddress(state, container.id);
    if (hadPorts) await applyNat(host, state);
    writeBridgeState(host.stateDir, BRIDGE, state);
  });
  removeNetns(runtime.sys, netnsFile(runtime.paths, container.id));
}
// #endregion

function writeEtcFiles(runtime: Runtime, container: ContainerRecord, mode: NetworkMode, address?: string): NetworkPlan['files'] {
  const dir = containerDir(runtime.paths, container.id);
  const files = { hostname: path.join(dir, 'hostname'), hosts: path.join(dir, 'hosts'), resolvConf: path.join(dir, 'resolv.conf') };
  const { hostname } = container.config;
  writeFileAtomic(files.hostname, `${hostname}\n`);
  writeFileAtomic(files.hosts, hostsFile(mode, hostname, [container.name], address, readHostFile('/etc/hosts')));
  writeFileAtomic(files.resolvConf, resolvConf(mode, readHostFile('/etc/resolv.conf')));
  return files;
}

function readHostFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
