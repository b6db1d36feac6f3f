// Stage 4, network: the container gets a network namespace of its own (made
// in the namespaces stage) with only a loopback interface, brought up by the
// child. It also gets its own /etc/hostname, /etc/hosts and /etc/resolv.conf,
// written here and bind-mounted into its root.
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerRecord, NetworkPlan, Runtime } from '../container.js';
import { containerDir } from '../store/paths.js';
import { writeFileAtomic } from '../store/atomic.js';
import { inSpan } from '../trace/span.js';

// #region network
export async function network(runtime: Runtime, container: ContainerRecord): Promise<NetworkPlan> {
  return inSpan('tsrun.network', { 'container.id': container.id, 'network.interface.name': 'lo' }, () => {
    const dir = containerDir(runtime.paths, container.id);
    const files = {
      hostname: path.join(dir, 'hostname'),
      hosts: path.join(dir, 'hosts'),
      resolvConf: path.join(dir, 'resolv.conf'),
    };
    writeFileAtomic(files.hostname, `${container.config.hostname}\n`);
    writeFileAtomic(files.hosts, hostsFile(container.config.hostname));
    writeFileAtomic(files.resolvConf, resolvConf(readHostResolvConf()));
    return { mode: 'none', interfaces: ['lo'], files, steps: [{ op: 'link_up', name: 'lo' }] };
  });
}
// #endregion

function hostsFile(hostname: string): string {
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    // With only a loopback interface, the container's own name must resolve somewhere.
    `127.0.1.1\t${hostname}`,
    '',
  ].join('\n');
}

function readHostResolvConf(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

/** The host's resolver settings, minus nameservers on the host's loopback: inside the
 *  container, 127.0.0.53 is the container's own loopback, where nothing listens. */
function resolvConf(host: string): string {
  const lines = host.split('\n').filter((line) => !/^\s*nameserver\s+(127\.|::1\b)/.test(line));
  return lines.join('\n').trimEnd() + '\n';
}
