// A pretend host for the network modules: records every command instead of
// running it, and answers the few questions they ask (links, routes, MTU,
// ip_forward) from a small model that the commands it records keep up to date.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommandRunner } from '../../src/net/command.js';
import type { DnsProcesses } from '../../src/net/dns.js';
import type { ContainerRecord, NetworkEndpoint } from '../../src/container.js';
import type { PortMapping } from '../../src/container.js';

export interface Ran { argv: string[]; input?: string }

export function fakeHost(options: { routes?: Array<{ dst: string; dev: string }>; ipForward?: string } = {}) {
  const ran: Ran[] = [];
  const links = new Set(['lo', 'eth0']);
  const routes = options.routes ?? [{ dst: 'default', dev: 'eth0' }, { dst: '192.0.2.0/24', dev: 'eth0' }];
  const run: CommandRunner = async (argv, input) => {
    ran.push(input === undefined ? { argv } : { argv, input });
    const command = argv.join(' ');
    if (command === 'ip -json link show') return JSON.stringify([...links].map((ifname) => ({ ifname })));
    if (command === 'ip -json route show') return JSON.stringify(routes);
    if (command === 'ip -json route show default') return JSON.stringify(routes.filter((r) => r.dst === 'default'));
    if (command.startsWith('ip -json link show dev ')) return JSON.stringify([{ ifname: argv.at(-1), mtu: 1400 }]);
    if (command === 'sysctl -n net.ipv4.ip_forward') return `${options.ipForward ?? '0'}\n`;
    if (command === 'ip -batch -') for (const line of input!.split('\n')) {
      const added = /^link add (\S+) /.exec(line);
      if (added) links.add(added[1]!);
    }
    if (argv[0] === 'ip' && argv[1] === 'link' && argv[2] === 'delete' && !links.delete(argv[3]!)) {
      throw new Error(`${command}: Cannot find device "${argv[3]}"`); // as ip(8) says it
    }
    return '';
  };
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
    stop: async (holder) => { dnsRunning.delete(holder.pid); dnsEvents.push(`stop ${holder.pid}`); },
  };
  return {
    run, ran, links, stateDir, dns, dnsEvents, dnsRunning,
    /** The commands as one would type them, stdin shown indented below its command. */
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
