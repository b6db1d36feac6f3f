// The network stage for real, as root: containers on the default bridge reach
// each other and a server on the gateway address; --network none reaches
// nothing; concurrent runs get distinct addresses; and when the containers
// are gone, tsrun's links, rules, namespaces and leases are gone too.
// Traffic goes only to addresses of the containers and the bridge made here.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realSyscalls } from '../../src/kernel/native.js';
import type { RtnetlinkMessage } from '../../src/kernel/syscalls.js';
import { runCommand } from '../../src/net/command.js';
import { applyNat, pruneDefaultBridge, withNetworkLock, type NetworkHost } from '../../src/net/bridges.js';
import { removeIptables } from '../../src/net/iptables.js';
import { HOST_NETWORK_DIR, readBridgeState } from '../../src/net/ipam.js';
import { vethName } from '../../src/net/veth.js';
import { linksGone, storeWithDemoImage, tsrun, TSRUN } from '../helpers/cli.js';
import { freePort } from '../helpers/registry.js';
import { demoLayout, editLayout } from '../helpers/images.js';

const asRoot = process.getuid?.() === 0;
const HOST: NetworkHost = { run: runCommand, stateDir: HOST_NETWORK_DIR };
const OWN_ADDRESS = "ip -4 -o address show eth0 | awk '{print $4}'";

/** A `tsrun run -i` in the background: resolves `ready` with its first output line; closing stdin ends it. */
function startContainer(root: string, args: string[]) {
  const child = spawn(process.execPath, [TSRUN, 'run', '--rm', '-i', ...args], { env: { ...process.env, TSRUN_ROOT: root } });
  let output = '';
  let errors = '';
  child.stderr.on('data', (chunk) => { errors += chunk; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output within 20 s; stderr: ${errors}`)), 20_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('\n')) { clearTimeout(timer); resolve(output.split('\n')[0]!); }
    });
    child.on('exit', () => { clearTimeout(timer); reject(new Error(`exited before any output; stderr: ${errors}`)); });
  });
  ready.catch(() => {});
  return { child, ready, exited, output: () => output, stop: () => { child.stdin.end(); return exited; } };
}

/** GET a URL on loopback (the test's only traffic besides its containers), with a bounded wait. */
function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, { timeout: 5_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => resolve(body));
    }).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error(`no answer from ${url} within 5 s`)); });
  });
}

/** tsrun's traces on the host: links named tsrun*, its nft table, namespace files. */
function tsrunOnHost(root: string) {
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0]).filter((name): name is string => !!name && name.startsWith('tsrun')).sort();
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).split('\n').filter((t) => t.includes('tsrun'));
  const netnsDir = path.join(root, 'run', 'netns');
  return { links, tables, netns: fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : [] };
}

describe.skipIf(!asRoot)('networks (as root)', () => {
  let root: string;
  const run = (args: string[]) => tsrun(root, args);

  beforeAll(async () => {
    root = await storeWithDemoImage('net');
    // The demo image saying EXPOSE 80, for -P.
    const layout = path.join(root, 'exposed-image');
    await demoLayout(layout, 'exposed');
    editLayout(layout, ({ config }) => { config.config = { ...config.config, ExposedPorts: { '80/tcp': {} } }; });
    expect(tsrun(root, ['load', '-i', layout])).toMatchObject({ status: 0, stderr: '' });
  });

  afterAll(async () => {
    run(['rm', '-f', ...run(['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
    // Everything tsrun put on the host goes once no container holds an address
    // (other test files may still run containers on the same bridge).
    const ipForwardBefore = readBridgeState(HOST.stateDir, 'tsrun0')?.ipForwardBefore;
    const pruned = await pruneDefaultBridge(realSyscalls, HOST);
    await withNetworkLock(realSyscalls, HOST, async () => {
      const state = readBridgeState(HOST.stateDir, 'tsrun0');
      const leases = Object.values(state?.leases ?? {});
      const left = tsrunOnHost(root);
      expect(leases.filter((lease) => lease.store === root)).toEqual([]);
      expect(left.netns).toEqual([]);
      // What is left is exactly what the remaining leases explain, and the veths the kernel is deleting still.
      const draining = Object.values(state?.draining ?? {});
      expect(left.links.filter((link) => !draining.includes(link))).toEqual(pruned ? [] : ['tsrun0', ...leases.map((l) => vethName(l.container))].sort());
      expect(left.tables).toEqual(pruned ? [] : ['table ip tsrun']);
      if (pruned && ipForwardBefore) expect(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(ipForwardBefore);
    });
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('connects two containers on the bridge to each other and to a server on the gateway address', async () => {
    const first = startContainer(root, ['tsrun-demo', 'sh', '-c', `${OWN_ADDRESS}; read peer; ping -c 1 -W 2 $peer >/dev/null && echo pinged $peer`]);
    let server: http.Server | undefined;
    let third: ReturnType<typeof startContainer> | undefined;
    try {
      const firstAddress = await first.ready;
      expect(firstAddress).toMatch(/^10\.88\.\d+\.\d+\/16$/);
      // The bridge exists now: listen on its address, where only containers (and this host) can reach.
      server = http.createServer((_request, response) => response.end('hello from the gateway\n'));
      await new Promise<void>((resolve) => server!.listen(0, '10.88.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      const peer = firstAddress.split('/')[0]!;
      // Not spawnSync: this process's event loop must stay free to answer the container's request.
      const second = await promisify(execFile)(process.execPath, [TSRUN, 'run', '--rm', 'tsrun-demo', 'sh', '-c',
        `${OWN_ADDRESS}; ping -c 1 -W 2 ${peer} >/dev/null && echo pinged; wget -q -O - http://10.88.0.1:${port}/; ip route`],
      { env: { ...process.env, TSRUN_ROOT: root }, timeout: 30_000 });
      expect(second.stderr).toBe('');
      const [secondAddress, ...rest] = second.stdout.split('\n');
      expect(secondAddress).toMatch(/^10\.88\.\d+\.\d+\/16$/);
      expect(secondAddress).not.toBe(firstAddress);
      expect(rest.join('\n')).toMatch(/^pinged\nhello from the gateway\ndefault via 10\.88\.0\.1 dev eth0/);

      // And back: the second has exited, so the first pings a third one that stays.
      // (It may get the second one's address again: with a MAC made from it, the first's ARP cache stays right.)
      third = startContainer(root, ['tsrun-demo', 'sh', '-c', `${OWN_ADDRESS}; read x || true`]);
      const thirdAddress = (await third.ready).split('/')[0]!;
      first.child.stdin.write(`${thirdAddress}\n`);
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain(`pinged ${thirdAddress}\n`);
      expect(await third.stop()).toBe(0);
    } finally {
      await Promise.all([first.stop(), third?.stop()]);
      await new Promise((resolve) => server ? server.close(resolve) : resolve(undefined));
    }
    expect(tsrunOnHost(root).netns).toEqual([]);
  });

  it('lays the cable by rtnetlink: eth0 with its address, the uplink\'s MTU and the default route, its host end on tsrun0; nothing left after', async () => {
    const uplink = (JSON.parse(execFileSync('ip', ['-json', 'route', 'show', 'default'], { encoding: 'utf8' })) as Array<{ dev: string }>)[0]?.dev;
    const mtu = uplink ? fs.readFileSync(`/sys/class/net/${uplink}/mtu`, 'utf8').trim() : '1500';
    // eth0's iflink is the index of its peer, the host's end.
    const container = startContainer(root, ['tsrun-demo', 'sh', '-c',
      `echo $(${OWN_ADDRESS}) $(cat /sys/class/net/eth0/mtu /sys/class/net/eth0/iflink /sys/class/net/lo/flags) $(ip route | grep ^default); read x || true`]);
    let hostIndex: number | undefined;
    try {
      const [address, insideMtu, iflink, loFlags, ...route] = (await container.ready).split(' ');
      hostIndex = Number(iflink);
      expect(address).toMatch(/^10\.88\.\d+\.\d+\/16$/);
      expect(insideMtu).toBe(mtu);
      expect(Number(loFlags) & 1).toBe(1); // IFF_UP
      expect(route.join(' ')).toBe('default via 10.88.0.1 dev eth0');
      const hostEnd = (JSON.parse(execFileSync('ip', ['-json', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifindex: number; ifname: string; master?: string; mtu: number; operstate: string }>)
        .find((link) => link.ifindex === hostIndex);
      expect(hostEnd).toMatchObject({ master: 'tsrun0', mtu: Number(mtu), operstate: 'UP' });
      expect(hostEnd!.ifname).toMatch(/^tsrun[0-9a-f]{8}$/);
    } finally {
      expect(await container.stop()).toBe(0);
    }
    // The pair goes with the namespace, which the kernel deletes once its mount has gone.
    const hostEnd = () => (JSON.parse(execFileSync('ip', ['-json', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifindex: number; ifname: string }>)
      .filter((link) => link.ifindex === hostIndex).map((link) => link.ifname);
    expect(await linksGone(hostEnd)).toEqual([]);
    expect(tsrunOnHost(root).netns).toEqual([]);
    expect(Object.values(readBridgeState(HOST.stateDir, 'tsrun0')?.leases ?? {}).filter((lease) => lease.store === root)).toEqual([]);
  });

  it('makes a network namespace on a file from a thread of its own: a new one, kept by the mount; Node\'s stays the host\'s', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-netns-'));
    const netns = path.join(dir, 'net');
    fs.writeFileSync(netns, '');
    try {
      realSyscalls.unshare_CLONE_NEWNET(netns);
      const inode = fs.statSync(netns).ino; // an nsfs file now: its inode is the namespace's
      expect(`net:[${inode}]`).not.toBe(fs.readlinkSync('/proc/self/ns/net'));
      expect(fs.readlinkSync('/proc/thread-self/ns/net')).toBe(fs.readlinkSync('/proc/self/ns/net'));
      expect(execFileSync('nsenter', [`--net=${netns}`, 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' })).toBe(`net:[${inode}]\n`);
      expect(() => realSyscalls.unshare_CLONE_NEWNET(path.join(dir, 'missing')))
        .toThrow(expect.objectContaining({ code: 'ENOENT', errno: -2, syscall: 'mount', path: path.join(dir, 'missing') }));
    } finally {
      realSyscalls.umount2(netns, ['MNT_DETACH']);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
  });

  it('refuses an rtnetlink message with an error shaped as Node\'s, the kernel\'s words included, inside a namespace made here', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-netlink-'));
    const netns = path.join(dir, 'net');
    fs.writeFileSync(netns, '');
    realSyscalls.unshare_CLONE_NEWNET(netns);
    try {
      const send = (...messages: RtnetlinkMessage[]) => realSyscalls.rtnetlink({ netns, messages });
      send(
        { message: 'RTM_NEWLINK', IFLA_IFNAME: 'probe0', IFLA_INFO_KIND: 'veth', ifi_flags: ['IFF_UP'], VETH_INFO_PEER: { IFLA_IFNAME: 'probe1' } },
        { message: 'RTM_NEWADDR', ifa_index: 'probe0', ifa_prefixlen: 24, IFA_LOCAL: '10.123.0.1' },
      );
      expect(execFileSync('nsenter', [`--net=${netns}`, 'ip', '-4', '-o', 'address', 'show', 'probe0'], { encoding: 'utf8' })).toContain('10.123.0.1/24');
      expect(() => send({ message: 'RTM_NEWLINK', IFLA_IFNAME: 'probe0', IFLA_INFO_KIND: 'veth', VETH_INFO_PEER: { IFLA_IFNAME: 'probe2' } }))
        .toThrow(expect.objectContaining({ code: 'EEXIST', errno: -17, syscall: 'RTM_NEWLINK', path: 'probe0' }));
      expect(() => send({ message: 'RTM_NEWROUTE', RTA_GATEWAY: '10.124.0.1' })) // on no subnet of its links
        .toThrow(expect.objectContaining({ code: 'ENETUNREACH', syscall: 'RTM_NEWROUTE', message: expect.stringMatching(/: Nexthop has invalid gateway$/) }));
      expect(() => send({ message: 'RTM_DELLINK', IFLA_IFNAME: 'nosuch0' })).toThrow(expect.objectContaining({ code: 'ENODEV', path: 'nosuch0' }));
      expect(() => realSyscalls.rtnetlink({ netns: path.join(dir, 'missing'), messages: [] })).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'open' }));
    } finally {
      execFileSync('umount', [netns]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives --network none only a loopback interface, with no way out', () => {
    const result = run(['run', '--rm', '--network', 'none', 'tsrun-demo', 'sh', '-c',
      'ls /sys/class/net; ping -c 1 -W 1 10.88.0.1 >/dev/null 2>&1 || echo unreachable']);
    expect(result).toEqual({ status: 0, stdout: 'lo\nunreachable\n', stderr: '' });
  });

  it('leaves the container in the host\'s network namespace with --network host', () => {
    const result = run(['run', '--rm', '--network', 'host', 'tsrun-demo', 'readlink', '/proc/self/ns/net']);
    expect(result.stdout).toBe(`${fs.readlinkSync('/proc/self/ns/net')}\n`);
  });

  it('hands 10 concurrent runs 10 distinct addresses, and takes them all back', async () => {
    // Named: generated names are picked before the store's lock, and two concurrent runs can pick the same one.
    const runs = Array.from({ length: 10 }, (_, i) => startContainer(root, ['--name', `concurrent-${i}`, 'tsrun-demo', 'sh', '-c', `${OWN_ADDRESS}; read x || true`]));
    try {
      const addresses = await Promise.all(runs.map((r) => r.ready));
      expect(new Set(addresses).size).toBe(10);
      const leased = Object.entries(readBridgeState(HOST.stateDir, 'tsrun0')!.leases).filter(([, lease]) => lease.store === root);
      expect(leased.map(([address]) => `${address}/16`).sort()).toEqual([...addresses].sort());
    } finally {
      await Promise.all(runs.map((r) => r.stop()));
    }
    const leases = Object.values(readBridgeState(HOST.stateDir, 'tsrun0')?.leases ?? {});
    expect(leases.filter((lease) => lease.store === root)).toEqual([]);
    expect(tsrunOnHost(root).netns).toEqual([]);
  });

  it('lets nothing from another host reach a container but its published ports (Docker 28\'s rule)', async () => {
    // Another host of the LAN: a network namespace of the test's own (a sleeping process holds it), cabled to
    // this host and routed through it to the containers' subnet, as a neighbour would route through a host
    // with ip_forward on. The test's traffic goes only to its own namespace, this host and its container.
    const lan = spawn('unshare', ['--net', 'sleep', '60']);
    const cable = `lanh${process.pid % 10000}`;
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    const inLan = (...args: string[]) => execFileSync('nsenter', ['-t', String(lan.pid), '-n', ...args], { stdio: 'pipe' });
    const fromLan = (url: string) => spawnSync('nsenter', ['-t', String(lan.pid), '-n', process.execPath, '-e', `
      require('http').get(${JSON.stringify(url)}, { timeout: 2000 }, (r) => r.pipe(process.stdout))
        .on('timeout', () => process.exit(2)).on('error', () => process.exit(3));`], { encoding: 'utf8', timeout: 10_000 });
    const hostPort = await freePort();
    // One server published on hostPort, one on port 81 that no -p names.
    const httpd = 'mkdir -p /www && echo served > /www/index.html && httpd -p 80 -h /www && httpd -p 81 -h /www && echo ready && read x';
    const web = startContainer(root, ['--name', 'lan-facing', '-p', `${hostPort}:80`, 'tsrun-demo', 'sh', '-c', httpd]);
    try {
      await web.ready;
      ip('link', 'add', cable, 'type', 'veth', 'peer', 'name', 'lanc', 'netns', String(lan.pid));
      ip('address', 'add', '192.168.251.1/24', 'dev', cable);
      ip('link', 'set', cable, 'up');
      inLan('ip', 'address', 'add', '192.168.251.2/24', 'dev', 'lanc');
      inLan('ip', 'link', 'set', 'lanc', 'up');
      inLan('ip', 'route', 'add', '10.88.0.0/16', 'via', '192.168.251.1');
      const address = run(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'lan-facing']).stdout.trim();
      expect(fromLan(`http://192.168.251.1:${hostPort}/`)).toMatchObject({ status: 0, stdout: 'served\n' }); // published, on the host's address
      expect(fromLan(`http://${address}:81/`)).toMatchObject({ status: 2, stdout: '' }); // straight to the container: dropped
    } finally {
      lan.kill(); // the namespace goes with its last process, and both ends of the cable with it
      await new Promise((resolve) => lan.once('exit', resolve));
      await web.stop();
    }
  });

  it('publishes a port: -p answers on the host\'s 127.0.0.1, -P the image\'s EXPOSEd port; a taken port is refused', async () => {
    const hostPort = await freePort();
    // httpd without -f listens, then goes to the background: "ready" comes once it answers; closing stdin ends the container.
    const httpd = 'mkdir -p /www && echo served-by-$HOSTNAME > /www/index.html && httpd -p 80 -h /www && echo ready && read x';
    const web = startContainer(root, ['--name', 'published', '-h', 'web', '-p', `${hostPort}:80`, 'tsrun-demo', 'sh', '-c', httpd]);
    let exposed: ReturnType<typeof startContainer> | undefined;
    try {
      await web.ready;
      expect(await httpGet(`http://127.0.0.1:${hostPort}/`)).toBe('served-by-web\n');
      expect(run(['ps']).stdout).toContain(`0.0.0.0:${hostPort}->80/tcp`);
      const clash = run(['run', '--rm', '-p', `${hostPort}:80`, 'tsrun-demo', 'true']);
      expect(clash).toMatchObject({ status: 125, stderr: `tsrun: Bind for 0.0.0.0:${hostPort} failed: port is already allocated — another container publishes it; choose another host port\n` });

      // -P: the image says EXPOSE 80, and the host port is one tsrun picks.
      exposed = startContainer(root, ['--name', 'exposed', '-h', 'exposed', '--pull', 'never', '-P', 'tsrun-demo:exposed', 'sh', '-c', httpd]);
      await exposed.ready;
      const ports = JSON.parse(run(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'exposed']).stdout) as Record<string, Array<{ HostPort: string }>>;
      expect(Object.keys(ports)).toEqual(['80/tcp']);
      expect(await httpGet(`http://127.0.0.1:${ports['80/tcp']![0]!.HostPort}/`)).toBe('served-by-exposed\n');
    } finally {
      await Promise.all([web.stop(), exposed?.stop()]);
    }
    expect(execFileSync('nft', ['list', 'table', 'ip', 'tsrun'], { encoding: 'utf8' })).not.toContain(`dport ${hostPort} `);

    // A program of the host's holding the port: refused too, and nothing is left behind.
    const holder = http.createServer();
    await new Promise<void>((resolve) => holder.listen(hostPort, '127.0.0.1', resolve));
    try {
      const busy = await promisify(execFile)(process.execPath, [TSRUN, 'run', '--rm', '-p', `${hostPort}:80`, 'tsrun-demo', 'true'], { env: { ...process.env, TSRUN_ROOT: root } })
        .catch((error: { code: number; stderr: string }) => error);
      expect(busy).toMatchObject({ code: 125, stderr: expect.stringContaining(`Bind for 0.0.0.0:${hostPort} failed: address already in use`) });
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    expect(tsrunOnHost(root).netns).toEqual([]);
  });

  it('lets containers on a user network find each other by name, keeps other networks out, and removes the network', async () => {
    const created = run(['network', 'create', 'lab-net']);
    expect(created).toMatchObject({ status: 0, stderr: '' });
    const alpha = startContainer(root, ['--name', 'alpha', '--network', 'lab-net', 'tsrun-demo', 'sh', '-c', `${OWN_ADDRESS}; read x || true`]);
    try {
      const alphaAddress = (await alpha.ready).split('/')[0]!;
      const subnet = JSON.parse(run(['network', 'inspect', 'lab-net']).stdout)[0].IPAM.Config[0].Subnet as string;
      expect(alphaAddress.split('.').slice(0, 2)).toEqual(subnet.split('.').slice(0, 2));
      const byName = run(['run', '--rm', '--network', 'lab-net', 'tsrun-demo', 'sh', '-c', 'ping -c 1 -W 2 alpha >/dev/null && echo found alpha']);
      expect(byName).toEqual({ status: 0, stdout: 'found alpha\n', stderr: '' });
      // From the default bridge, the address is there but the way is shut.
      const fromDefault = run(['run', '--rm', 'tsrun-demo', 'sh', '-c', `ping -c 1 -W 1 ${alphaAddress} >/dev/null 2>&1 && echo reached || echo kept out`]);
      expect(fromDefault.stdout).toBe('kept out\n');
      expect(run(['network', 'rm', 'lab-net'])).toMatchObject({ status: 125, stderr: expect.stringContaining('has active endpoints') });
    } finally {
      await alpha.stop();
    }
    expect(run(['network', 'rm', 'lab-net'])).toEqual({ status: 0, stdout: 'lab-net\n', stderr: '' });
    expect(run(['network', 'ls']).stdout).not.toContain('lab-net');
    expect(tsrunOnHost(root).links.filter((link) => link.startsWith('tsrun-'))).toEqual([]);
  });

  it('does the same with iptables where config.json says "firewall-backend": "iptables", and takes its chains away', async () => {
    const tablesBefore = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
    const ipRoot = await storeWithDemoImage('net-iptables');
    fs.writeFileSync(path.join(ipRoot, 'config.json'), JSON.stringify({ 'firewall-backend': 'iptables' }));
    const host: NetworkHost = { ...HOST, firewall: 'iptables' };
    const hostPort = await freePort();
    const web = startContainer(ipRoot, ['-p', `${hostPort}:80`, 'tsrun-demo', 'sh', '-c', 'mkdir /www && echo via-iptables > /www/index.html && httpd -p 80 -h /www && echo ready && read x']);
    try {
      await web.ready;
      expect(execFileSync('iptables', ['-t', 'nat', '-S', 'TSRUN-OUTPUT'], { encoding: 'utf8' })).toContain(`--dport ${hostPort} -j DNAT`);
      expect(await httpGet(`http://127.0.0.1:${hostPort}/`)).toBe('via-iptables\n');
    } finally {
      await web.stop();
      // Back to nftables for the rest of this file: rewrite tsrun's rules with nft, then drop the TSRUN chains,
      // and the tables iptables-nft made to hold them if the host had none before.
      await withNetworkLock(realSyscalls, HOST, () => applyNat(HOST));
      await removeIptables(host.run);
      for (const table of ['ip nat', 'ip filter']) {
        if (!tablesBefore.includes(`table ${table}\n`)) execFileSync('nft', ['delete', 'table', ...table.split(' ')], { stdio: 'ignore' });
      }
      fs.rmSync(ipRoot, { recursive: true, force: true });
    }
    expect(execFileSync('iptables-save', { encoding: 'utf8' })).not.toContain('TSRUN');
  });

  it('refuses an unknown network before creating anything', () => {
    const result = run(['run', '--rm', '--network', 'nowhere', 'tsrun-demo', 'true']);
    expect(result).toEqual({ status: 125, stdout: '', stderr: 'tsrun: network nowhere not found — use --network bridge, none, host, or a network from `tsrun network ls`\n' });
  });
});
