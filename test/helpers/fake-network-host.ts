// A pretend host for the network modules: records every command and every batch
// of rtnetlink messages instead of running or sending them, and answers the few
// questions they ask (links, routes, MTU, ip_forward) from a small model that
// the messages it records keep up to date.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommandRunner } from '../../src/net/command.js';
import type { RtnetlinkBatch } from '../../src/kernel/syscalls.js';
import { describeMessage } from '../../src/net/netlink.js';
import { fakeSyscalls } from './fake-syscalls.js';
import type { DnsProcesses } from '../../src/net/dns.js';
import { containersToServe } from '../../src/net/dns-server.js';
import { listBridgeStates } from '../../src/net/ipam.js';
import type { ContainerRecord, NetworkEndpoint } from '../../src/container.js';
import type { PortMapping } from '../../src/container.js';

/** A command and its stdin; or a batch of rtnetlink messages, as argv ['rtnetlink'] (['rtnetlink', 'in', FILE] inside
 *  a namespace) with the messages written out one a line as input; or a new namespace, ['unshare_CLONE_NEWNET', FILE]:
 *  so that one list holds everything in order. */
export interface Ran { argv: string[]; input?: string }

/** An error as native/src/netlink.cc throws it. */
export function netlinkError(code: string, message: string, name: string): Error {
  return Object.assign(new Error(`${message} ${name}: ${code}`), { code, syscall: message, path: name });
}

export function fakeHost(options: { routes?: Array<{ dst: string; dev: string }>; ipForward?: string } = {}) {
  const ran: Ran[] = [];
  // The host's links by name, with their index and MTU: loopback, the uplink eth0, and what the messages make.
  const links = new Map([['lo', { index: 1, mtu: 65536 }], ['eth0', { index: 2, mtu: 1400 }]]);
  const routes = options.routes ?? [{ dst: 'default', dev: 'eth0' }, { dst: '192.0.2.0/24', dev: 'eth0' }];
  for (const route of routes) if (!links.has(route.dev)) links.set(route.dev, { index: links.size + 1, mtu: 1500 });
  const run: CommandRunner = async (argv, input) => {
    ran.push(input === undefined ? { argv } : { argv, input });
    const command = argv.join(' ');
    if (command === 'sysctl -n net.ipv4.ip_forward') return `${options.ipForward ?? '0'}\n`;
    return '';
  };
  const sys = fakeSyscalls({
    // The namespace a container's cable leads into, listed with the commands as one would type it.
    unshare_CLONE_NEWNET: (file: string) => { ran.push({ argv: ['unshare_CLONE_NEWNET', file] }); },
    rtnetlink: (batch: RtnetlinkBatch) => {
      ran.push({ argv: batch.netns === undefined ? ['rtnetlink'] : ['rtnetlink', 'in', batch.netns], input: batch.messages.map(describeMessage).join('\n') + '\n' });
      if (batch.netns !== undefined) return; // inside a container's namespace: nothing the host's model holds
      for (const m of batch.messages) {
        if (m.message === 'RTM_NEWLINK' && m.IFLA_INFO_KIND) {
          if (links.has(m.IFLA_IFNAME)) throw netlinkError('EEXIST', m.message, m.IFLA_IFNAME);
          links.set(m.IFLA_IFNAME, { index: 100 + links.size, mtu: m.IFLA_MTU ?? 1500 });
        }
        if (m.message === 'RTM_DELLINK' && !links.delete(m.IFLA_IFNAME)) throw netlinkError('ENODEV', m.message, m.IFLA_IFNAME);
      }
    },
    rtnetlink_getlink: () => [...links].map(([ifname, link]) => ({ ifname, ...link })),
    rtnetlink_getroute: () => routes.map((route) => ({ dst: route.dst, oif: links.get(route.dev)!.index })),
  });
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-net-state-'));
  // Name servers as pids of pretend processes: started ones run until stopped, or until a test kills one.
  const dnsRunning = new Set<number>();
  const dnsEvents: string[] = [];
  const dns: DnsProcesses = {
    start: async (bridge) => {
      const pid = 1000 + dnsEvents.length;
      dnsRunning.add(pid);
      dnsEvents.push(`start ${bridge} ${pid}`);
      return { pid, startTime: 1 };
    },
    isRunning: (holder) => dnsRunning.has(holder.pid),
    // What the server would answer inside after this sync: the addresses of the containers it listens for.
    sync: async (dir, bridge) => { dnsSyncs.push(`${bridge}: ${[...containersToServe(bridge, listBridgeStates(dir)).values()].join(' ')}`); },
    stop: async (holder) => { dnsRunning.delete(holder.pid); dnsEvents.push(`stop ${holder.pid}`); },
  };
  const dnsSyncs: string[] = [];
  return {
    run, sys, ran, links, stateDir, dns, dnsEvents, dnsRunning, dnsSyncs,
    /** The commands as one would type them, stdin shown indented below its command (and the messages below rtnetlink). */
    typed: () => ran.map((r) => r.argv.join(' ') + (r.input ? '\n' + r.input.trimEnd().replace(/^/gm, '  ') : '')),
    remove: () => fs.rmSync(stateDir, { recursive: true, force: true }),
  };
}

/** A created container for the network stage: id "1" -> 64 ones, named c1 with hostname h1 unless a name is given;
 *  on the one network it names unless `networks` lists them. */
export function containerOn(id: string, network?: string, options: { name?: string; ports?: PortMapping[]; networks?: NetworkEndpoint[] } = {}): ContainerRecord {
  return {
    id: id.repeat(64 / id.length), name: options.name ?? `c${id}`, created: new Date().toISOString(),
    image: { id: 'sha256:' + 'a'.repeat(64), name: 'demo', layers: [] },
    config: {
      argv: ['sh'], env: [], workingDir: '/', user: '', hostname: options.name ?? `h${id}`,
      tty: false, interactive: false, autoRemove: false, network, ports: options.ports ?? [],
      ...(options.networks ? { networks: options.networks } : {}),
    },
    state: { status: 'created', pid: null, pidStartTime: null, exitCode: null, startedAt: null, finishedAt: null, error: '' },
  };
}
