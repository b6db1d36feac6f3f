// The network stage and its release, against a pretend host: the exact rtnetlink
// messages, the namespace's unshare and the nft and sysctl commands, in order, without root.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { joinNetwork, leaveNetwork, network, netnsFile, releaseNetwork } from '../../../src/stages/network.js';
import { pruneDefaultBridge, retireIdleNameServer, reviveNameServers } from '../../../src/net/bridges.js';
import { lostItsNameServer } from '../../../src/net/dns.js';
import { createNetwork, inspectNetwork, listNetworks, networkSummaries, pruneNetworks, removeNetwork } from '../../../src/net/networks.js';
import { readBridgeState, writeBridgeState } from '../../../src/net/ipam.js';
import { spawnSync } from 'node:child_process';
import type { NetworkMode } from '../../../src/container.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';
import { containerDir } from '../../../src/store/paths.js';
import { containerOn, fakeHost, netlinkError } from '../../helpers/fake-network-host.js';
import type { RtnetlinkBatch } from '../../../src/kernel/syscalls.js';
import type { PortMapping } from '../../../src/container.js';

const container = (id: string, network?: NetworkMode, ports: PortMapping[] = []) => containerOn(id, network, { ports });
const named = (id: string, name: string, networkName: string) => containerOn(id, networkName, { name });

describe('network stage', () => {
  let store: ReturnType<typeof tempStore>;
  let host: ReturnType<typeof fakeHost>;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  beforeEach(() => {
    store = tempStore();
    host = fakeHost();
    runtime = { sys: host.sys, paths: store };
  });
  afterEach(() => {
    store.remove();
    host.remove();
  });

  it('makes the bridge and NAT on first use, then a namespace and a veth pair for the container', async () => {
    const c = container('1');
    const file = netnsFile(store, c.id);
    const plan = await network(runtime, c, host);
    expect(host.typed()).toEqual([
      'rtnetlink\n  RTM_NEWLINK IFLA_IFNAME=tsrun0 IFLA_INFO_KIND=bridge IFLA_ADDRESS=02:42:0a:58:00:01 ifi_flags=IFF_UP'
        + '\n  RTM_NEWADDR ifa_index=tsrun0 ifa_prefixlen=16 IFA_LOCAL=10.88.0.1',
      'sysctl -q -w net.ipv4.conf.tsrun0.route_localnet=1',
      'sysctl -n net.ipv4.ip_forward',
      'sysctl -q -w net.ipv4.ip_forward=1',
      expect.stringMatching(/^nft -f -\n  table ip tsrun\n  delete table ip tsrun\n  table ip tsrun \{\n/),
      `unshare_CLONE_NEWNET ${file}`,
      'rtnetlink\n  RTM_NEWLINK IFLA_IFNAME=tsrun11111111 IFLA_INFO_KIND=veth IFLA_MTU=1400 IFLA_MASTER=tsrun0 ifi_flags=IFF_UP'
        + ` VETH_INFO_PEER={IFLA_IFNAME=eth0 IFLA_ADDRESS=02:42:0a:58:00:02 IFLA_MTU=1400 IFLA_NET_NS_FD=${file}}`,
      `rtnetlink in ${file}\n  RTM_NEWLINK IFLA_IFNAME=lo ifi_flags=IFF_UP\n  RTM_NEWADDR ifa_index=eth0 ifa_prefixlen=16 IFA_LOCAL=10.88.0.2`
        + '\n  RTM_NEWLINK IFLA_IFNAME=eth0 ifi_flags=IFF_UP\n  RTM_NEWROUTE RTA_GATEWAY=10.88.0.1',
    ]);
    expect(host.ran[4]!.input).toContain('ip saddr 10.88.0.0/16 oifname != "tsrun0" masquerade');
    expect(plan).toMatchObject({
      mode: 'bridge', namespaceFile: file, interfaces: ['lo 127.0.0.1/8', 'eth0 10.88.0.2/16'],
      bridge: { name: 'tsrun0', subnet: '10.88.0.0/16', gateway: '10.88.0.1', address: '10.88.0.2/16', hostInterface: 'tsrun11111111', mtu: 1400 },
      steps: [{ op: 'setns', path: file, nstype: 'CLONE_NEWNET' }],
    });
    // The messages the plan shows (--explain) are the ones sent, as data.
    expect(plan.bridge!.netlink).toEqual([
      { messages: [{
        message: 'RTM_NEWLINK', IFLA_IFNAME: 'tsrun11111111', IFLA_INFO_KIND: 'veth', IFLA_MTU: 1400, IFLA_MASTER: 'tsrun0', ifi_flags: ['IFF_UP'],
        VETH_INFO_PEER: { IFLA_IFNAME: 'eth0', IFLA_ADDRESS: '02:42:0a:58:00:02', IFLA_MTU: 1400, IFLA_NET_NS_FD: file },
      }] },
      { netns: file, messages: [
        { message: 'RTM_NEWLINK', IFLA_IFNAME: 'lo', ifi_flags: ['IFF_UP'] },
        { message: 'RTM_NEWADDR', ifa_index: 'eth0', ifa_prefixlen: 16, IFA_LOCAL: '10.88.0.2' },
        { message: 'RTM_NEWLINK', IFLA_IFNAME: 'eth0', ifi_flags: ['IFF_UP'] },
        { message: 'RTM_NEWROUTE', RTA_GATEWAY: '10.88.0.1' },
      ] },
    ]);
    expect(runtime.sys.calls.filter((call) => call.name.startsWith('rtnetlink'))).toEqual([]); // all of them through the host's model
    expect(fs.readFileSync(plan.files.hosts, 'utf8')).toMatch(/\n10\.88\.0\.2\th1 c1\n$/);
  });

  it('gives a second container the next address on the same bridge, and releases everything it got', async () => {
    await network(runtime, container('1'), host);
    host.ran.length = 0;
    const second = container('2');
    const plan = await network(runtime, second, host);
    expect(plan.bridge!.address).toBe('10.88.0.3/16');
    expect(host.typed().filter((c) => /bridge|nft|sysctl/.test(c))).toEqual([]);

    host.ran.length = 0;
    await releaseNetwork(runtime, second, host);
    // The namespace file's mount goes; the veth goes with the namespace, deleted by the kernel, not by a message.
    expect(host.typed()).toEqual([]);
    expect(runtime.sys.calls).toContainEqual({ name: 'umount2', args: [netnsFile(store, second.id), ['MNT_DETACH']] });
    expect(fs.existsSync(netnsFile(store, second.id))).toBe(false);
    expect(readBridgeState(host.stateDir, 'tsrun0')).toMatchObject({ leases: { '10.88.0.2': {} }, draining: { '10.88.0.3': 'tsrun22222222' } });

    // Releasing twice, or a container that never got an address, does nothing.
    host.ran.length = 0;
    await releaseNetwork(runtime, second, host);
    await releaseNetwork(runtime, container('3'), host);
    expect(host.ran).toEqual([]);
  });

  it('hands a released container\'s address out again only once the kernel has deleted its veth', async () => {
    const first = container('1');
    await network(runtime, first, host);
    await releaseNetwork(runtime, first, host);
    // Its veth is still on the bridge: the next container gets another address, and a MAC of its own.
    expect((await network(runtime, container('2'), host)).bridge!.address).toBe('10.88.0.3/16');
    expect(readBridgeState(host.stateDir, 'tsrun0')!.draining).toEqual({ '10.88.0.2': 'tsrun11111111' });
    host.links.delete('tsrun11111111'); // the kernel has destroyed the namespace, and the pair with it
    expect((await network(runtime, container('3'), host)).bridge!.address).toBe('10.88.0.2/16');
    expect(readBridgeState(host.stateDir, 'tsrun0')!.draining).toBeUndefined();
  });

  it('deletes the veth a container left to the kernel when it starts again first, so that its name is free', async () => {
    const c = container('1');
    await network(runtime, c, host);
    await releaseNetwork(runtime, c, host);
    host.ran.length = 0;
    const again = await network(runtime, c, host);
    expect(host.typed().slice(0, 2)).toEqual(['rtnetlink\n  RTM_DELLINK IFLA_IFNAME=tsrun11111111', `unshare_CLONE_NEWNET ${netnsFile(store, c.id)}`]);
    expect(again.bridge!.address).toBe('10.88.0.2/16');
    expect(readBridgeState(host.stateDir, 'tsrun0')!.draining).toBeUndefined();
  });

  it('deletes the veth of a disconnected network at once, and fails when it cannot', async () => {
    await createNetwork(runtime.sys, store, host, 'other');
    const c = named('1', 'one', 'bridge');
    await network(runtime, c, host);
    await joinNetwork(runtime, c, { network: 'other', aliases: [] }, host);
    const refusing = { ...host.sys, rtnetlink: (batch: RtnetlinkBatch) => {
      if (batch.messages.some((m) => m.message === 'RTM_DELLINK')) throw netlinkError('EPERM', 'RTM_DELLINK', 'tsrun11111111-1');
      host.sys.rtnetlink(batch);
    } };
    await expect(leaveNetwork({ ...runtime, sys: refusing }, c, 'other', host)).rejects.toThrow('RTM_DELLINK tsrun11111111-1: EPERM');
    host.links.delete('tsrun11111111-1'); // gone already: ENODEV is what was wanted
    await leaveNetwork(runtime, c, 'other', host);
    expect(findLeasesOf(c.id)).toEqual(['tsrun0']);
  });

  it('frees the leases of a tsrun that was killed before it could release them', async () => {
    const killed = container('1');
    await network(runtime, killed, host);
    const state = readBridgeState(host.stateDir, 'tsrun0')!;
    state.leases['10.88.0.2']!.holder = { pid: spawnSync('true').pid!, startTime: null }; // a process that has exited
    writeBridgeState(host.stateDir, 'tsrun0', state);
    host.ran.length = 0;
    const plan = await network(runtime, container('2'), host);
    expect(host.typed()).toContain('rtnetlink\n  RTM_DELLINK IFLA_IFNAME=tsrun11111111');
    expect(runtime.sys.calls).toContainEqual({ name: 'umount2', args: [netnsFile(store, killed.id), ['MNT_DETACH']] });
    expect(plan.bridge!.address).toBe('10.88.0.2/16');
  });

  it('prunes the bridge, the NAT table and ip_forward only when no container holds an address', async () => {
    const c = container('1');
    await network(runtime, c, host);
    expect(await pruneDefaultBridge(runtime.sys, host)).toBe(false);
    await releaseNetwork(runtime, c, host);
    host.ran.length = 0;
    expect(await pruneDefaultBridge(runtime.sys, host)).toBe(true);
    expect(host.typed()).toEqual([
      'rtnetlink\n  RTM_DELLINK IFLA_IFNAME=tsrun11111111', // the kernel had not deleted it yet: nothing is left behind
      'rtnetlink\n  RTM_DELLINK IFLA_IFNAME=tsrun0',
      'nft -f -\n  table ip tsrun\n  delete table ip tsrun',
      'sysctl -q -w net.ipv4.ip_forward=0',
    ]);
    expect(readBridgeState(host.stateDir, 'tsrun0')).toBeUndefined();
  });

  it('refuses a subnet the host already routes, and takes another from config.json', async () => {
    const routed = fakeHost({ routes: [{ dst: 'default', dev: 'eth0' }, { dst: '10.0.0.0/8', dev: 'eth1' }] });
    try {
      await expect(network({ ...runtime, sys: routed.sys }, container('1'), routed)).rejects.toThrow(
        'the bridge subnet 10.88.0.0/16 overlaps the host\'s route to 10.0.0.0/8 on eth1');
      expect(readBridgeState(routed.stateDir, 'tsrun0')).toBeUndefined();
      fs.writeFileSync(path.join(store.root, 'config.json'), JSON.stringify({ 'bridge-subnet': '172.31.0.0/24' }));
      const plan = await network({ ...runtime, sys: routed.sys }, container('1'), routed);
      expect(plan.bridge).toMatchObject({ subnet: '172.31.0.0/24', gateway: '172.31.0.1', address: '172.31.0.2/24' });
    } finally {
      routed.remove();
    }
  });

  it('publishes ports with DNAT rules for the host\'s addresses and its own connections, and takes them away on release', async () => {
    const busy = new Set([8080]);
    const publishing = { ...host, isPortFree: async (mapping: PortMapping) => !busy.has(mapping.hostPort) };
    const web = container('1', 'bridge', [
      { hostIp: '', hostPort: 18080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '127.0.0.1', hostPort: 0, containerPort: 53, protocol: 'udp' },
    ]);
    const plan = await network(runtime, web, publishing);
    const [picked] = plan.bridge!.ports.slice(1);
    expect(picked!.hostPort).toBeGreaterThan(1023);
    const rules = host.ran.filter((r) => r.argv[0] === 'nft').at(-1)!.input!;
    for (const chain of ['prerouting', 'output']) {
      expect(rules).toContain(`chain ${chain} {`);
    }
    expect(rules.match(/fib daddr type local tcp dport 18080 dnat to 10\.88\.0\.2:80/g)).toHaveLength(2);
    // On 127.0.0.1: for this host's own programs only, so in output and not in prerouting (moby#45610).
    expect(rules.match(new RegExp(`ip daddr 127\\.0\\.0\\.1 udp dport ${picked!.hostPort} dnat to 10\\.88\\.0\\.2:53`, 'g'))).toHaveLength(1);
    expect(rules.slice(rules.indexOf('chain output {'))).toMatch(new RegExp(`ip daddr 127\\.0\\.0\\.1 udp dport ${picked!.hostPort} dnat`));
    expect(rules).toContain('iifname != "lo" ip daddr 127.0.0.0/8 drop');
    expect(rules).toContain('oifname "tsrun0" drop');
    expect(rules).toContain('ip saddr 127.0.0.0/8 oifname "tsrun0" masquerade');

    // The same host port again is refused, as is one a host program holds; nothing is left leased.
    await expect(network(runtime, container('2', 'bridge', [{ hostIp: '', hostPort: 18080, containerPort: 80, protocol: 'tcp' }]), publishing))
      .rejects.toThrow('Bind for 0.0.0.0:18080 failed: port is already allocated');
    await expect(network(runtime, container('3', 'bridge', [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]), publishing))
      .rejects.toThrow('Bind for 0.0.0.0:8080 failed: address already in use');
    expect(Object.keys(readBridgeState(host.stateDir, 'tsrun0')!.leases)).toEqual(['10.88.0.2']);

    host.ran.length = 0;
    await releaseNetwork(runtime, web, publishing);
    const after = host.ran.filter((r) => r.argv[0] === 'nft').at(-1)!.input!;
    expect(after).not.toContain('dnat to');
  });

  it('runs no command for --network none and host', async () => {
    const none = await network(runtime, container('1', 'none'), host);
    expect(none).toMatchObject({ mode: 'none', steps: [{ op: 'link_up', name: 'lo' }] });
    expect(none.namespaceFile).toBeUndefined();
    const onHost = await network(runtime, container('2', 'host'), host);
    expect(onHost).toMatchObject({ mode: 'host', steps: [] });
    await releaseNetwork(runtime, container('1', 'none'), host);
    expect(host.ran).toEqual([]);
    expect(runtime.sys.calls).toEqual([]);
  });

  it('writes the container\'s hostname, hosts and resolv.conf beside its record, and with --network none brings up only loopback', async () => {
    const c = container('1', 'none');
    const plan = await network(runtime, c, host);
    expect(plan.steps).toEqual([{ op: 'link_up', name: 'lo' }]);
    const dir = containerDir(store, c.id);
    expect(plan.files).toEqual({ hostname: path.join(dir, 'hostname'), hosts: path.join(dir, 'hosts'), resolvConf: path.join(dir, 'resolv.conf') });
    expect(fs.readFileSync(plan.files.hostname, 'utf8')).toBe('h1\n');
    expect(fs.readFileSync(plan.files.hosts, 'utf8')).toMatch(/127\.0\.0\.1\tlocalhost/);
    // The host's own resolver on 127.0.0.x cannot be reached from another network namespace.
    expect(fs.readFileSync(plan.files.resolvConf, 'utf8')).not.toMatch(/nameserver\s+127\./);
  });

  // User networks: their own bridges and subnets, the hosts files that let their containers find each
  // other by name, the rules that keep networks apart, and removal refused while a container is on one.
  const lastRuleset = () => host.ran.filter((r) => r.argv[0] === 'nft').at(-1)!.input!;

  it('creates a network with a bridge and a free subnet of its own, and refuses a taken name or an overlapping subnet', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    expect(lab).toMatchObject({ name: 'lab', bridge: `tsrun-${lab.id.slice(0, 8)}`, subnet: '10.89.0.0/16', gateway: '10.89.0.1' });
    expect(host.typed()).toContain(`rtnetlink\n  RTM_NEWLINK IFLA_IFNAME=${lab.bridge} IFLA_INFO_KIND=bridge IFLA_ADDRESS=02:42:0a:59:00:01 ifi_flags=IFF_UP`
      + `\n  RTM_NEWADDR ifa_index=${lab.bridge} ifa_prefixlen=16 IFA_LOCAL=10.89.0.1`);
    expect((await createNetwork(runtime.sys, store, host, 'other')).subnet).toBe('10.90.0.0/16');
    await expect(createNetwork(runtime.sys, store, host, 'lab')).rejects.toThrow('network with name lab already exists');
    await expect(createNetwork(runtime.sys, store, host, 'host')).rejects.toThrow('network with name host already exists');
    await expect(createNetwork(runtime.sys, store, host, 'x', '10.89.128.0/24')).rejects.toThrow('the subnet 10.89.128.0/24 overlaps 10.89.0.0/16');
    await expect(createNetwork(runtime.sys, store, host, 'y', '10.88.5.0/24')).rejects.toThrow('overlaps 10.88.0.0/16');
    expect(listNetworks(store).map((n) => n.name)).toEqual(['lab', 'other']);
    expect(networkSummaries(store).map((n) => `${n.name} ${n.driver}`)).toEqual(['bridge bridge', 'host host', 'none null', 'lab bridge', 'other bridge']);
  });

  it('gives each container on a user network an address of its own there, and only its own name in its hosts file', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    const one = named('1', 'one', 'lab');
    const onePlan = await network(runtime, one, host);
    await network(runtime, named('2', 'two', 'lab'), host);
    expect(onePlan.bridge).toMatchObject({ name: lab.bridge, address: '10.89.0.2/16' });
    // The others are found through the network's name server, which knows them as they are now.
    expect(fs.readFileSync(onePlan.files.hosts, 'utf8')).toMatch(/\n10\.89\.0\.2\tone\n$/);
    expect(inspectNetwork(store, host, 'lab')).toMatchObject({ Name: 'lab', Containers: { [one.id]: { Name: 'one', IPv4Address: '10.89.0.2/16' } } });
  });

  it('shows the built-in networks as docker does, each with a Created the docker CLI can read as a time', () => {
    expect(inspectNetwork(store, host, 'host')).toMatchObject({ Name: 'host', Driver: 'host', IPAM: { Config: [] }, Containers: {}, Created: '0001-01-01T00:00:00Z' });
    expect(inspectNetwork(store, host, 'none')).toMatchObject({ Name: 'none', Driver: 'null' });
    expect(inspectNetwork(store, host, 'bridge')).toMatchObject({ Name: 'bridge', Driver: 'bridge', Created: '0001-01-01T00:00:00Z', IPAM: { Config: [{ Gateway: expect.stringMatching(/\.1$/) }] } });
  });

  it('starts a user network\'s name server with its first container, again when found dead; leaves it to end itself when idle', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    const [one, two, three] = ['1', '2', '3'].map((id) => named(id, `n${id}`, 'lab'));
    const plan = await network(runtime, one!, host);
    expect(fs.readFileSync(plan.files.resolvConf, 'utf8')).toMatch(/(^|\n)nameserver 127\.0\.0\.11\noptions ndots:0\n$/);
    expect(fs.readFileSync(plan.files.resolvConf, 'utf8').match(/nameserver/g)).toHaveLength(1);
    // Asked, once the lease is on disk, to listen inside the container's namespace, where 127.0.0.11 is.
    expect(host.dnsSyncs).toEqual([`${lab.bridge}: 10.89.0.2`]);
    await network(runtime, two!, host);
    expect(host.dnsEvents).toEqual([`start ${lab.bridge} 1000`]);
    expect(readBridgeState(host.stateDir, lab.bridge)!.dns).toEqual({ pid: 1000, startTime: 1 });
    host.dnsRunning.clear(); // the server died
    await network(runtime, three!, host);
    expect(host.dnsEvents).toEqual([`start ${lab.bridge} 1000`, `start ${lab.bridge} 1001`]);
    for (const container of [one!, two!, three!]) await releaseNetwork(runtime, container, host);
    expect(host.dnsEvents).toHaveLength(2); // no stop: the next run on the network finds it still there
    expect(readBridgeState(host.stateDir, lab.bridge)!.dns).toEqual({ pid: 1001, startTime: 1 });
    await network(runtime, named('5', 'n5', 'lab'), host);
    expect(host.dnsEvents).toHaveLength(2);
    await releaseNetwork(runtime, named('5', 'n5', 'lab'), host);
    // Idle, it asks to go: refused to a server the state does not name, and while a container is on the network.
    expect(await retireIdleNameServer(runtime.sys, host, lab.bridge, 1000)).toBe(true);
    expect(readBridgeState(host.stateDir, lab.bridge)!.dns).toEqual({ pid: 1001, startTime: 1 });
    await network(runtime, one!, host);
    expect(await retireIdleNameServer(runtime.sys, host, lab.bridge, 1001)).toBe(false);
    await releaseNetwork(runtime, one!, host);
    expect(await retireIdleNameServer(runtime.sys, host, lab.bridge, 1001)).toBe(true);
    expect(readBridgeState(host.stateDir, lab.bridge)!.dns).toBeUndefined();
    // The default bridge has no name server, as in Docker: the host's resolvers, no ndots.
    const plain = await network(runtime, container('4'), host);
    expect(fs.readFileSync(plain.files.resolvConf, 'utf8')).not.toContain('ndots');
    expect(host.dnsEvents).toHaveLength(2);
  });

  it('starts another name server for a network whose containers lost theirs, and none for a network without live ones', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    const empty = await createNetwork(runtime.sys, store, host, 'empty');
    await network(runtime, named('1', 'one', 'lab'), host);
    await network(runtime, named('2', 'two', 'empty'), host);
    const state = readBridgeState(host.stateDir, empty.bridge)!;
    for (const lease of Object.values(state.leases)) lease.holder = { pid: 0x7fffffff, startTime: null }; // its tsrun was killed
    writeBridgeState(host.stateDir, empty.bridge, state);
    host.dnsRunning.clear(); // both servers died
    expect([lab, empty].map(({ bridge }) => lostItsNameServer(readBridgeState(host.stateDir, bridge)!, host.dns))).toEqual([true, false]);
    await reviveNameServers(runtime.sys, host, store.root);
    expect(host.dnsEvents).toEqual([`start ${lab.bridge} 1000`, `start ${empty.bridge} 1001`, `start ${lab.bridge} 1002`]);
    expect(readBridgeState(host.stateDir, lab.bridge)!.dns).toEqual({ pid: 1002, startTime: 1 });
    expect(lostItsNameServer(readBridgeState(host.stateDir, lab.bridge)!, host.dns)).toBe(false);
  });

  it('stops the name server a killed tsrun left running when its network is removed', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    await network(runtime, named('1', 'one', 'lab'), host);
    const state = readBridgeState(host.stateDir, lab.bridge)!;
    for (const lease of Object.values(state.leases)) lease.holder = { pid: 0x7fffffff, startTime: null }; // no such process
    writeBridgeState(host.stateDir, lab.bridge, state);
    await removeNetwork(runtime.sys, store, host, 'lab');
    expect(host.dnsEvents).toEqual([`start ${lab.bridge} 1000`, 'stop 1000']);
    expect(host.dnsRunning.size).toBe(0);
  });

  it('keeps networks apart: nothing is forwarded from one of tsrun\'s bridges to another', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    await network(runtime, named('1', 'on-default', 'bridge'), host);
    expect(lastRuleset()).toContain(`iifname "tsrun0" oifname { "${lab.bridge}" } drop`);
    expect(lastRuleset()).toContain(`iifname "${lab.bridge}" oifname { "tsrun0" } drop`);
    expect(lastRuleset()).toContain('ip saddr 10.89.0.0/16 oifname != "' + lab.bridge + '" masquerade');
  });

  it('refuses to remove a network a container is on; removes it, its bridge and its rules once none is', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    const one = named('1', 'one', 'lab');
    await network(runtime, one, host);
    await expect(removeNetwork(runtime.sys, store, host, 'lab')).rejects.toThrow(`network lab id ${lab.id} has active endpoints`);
    await expect(removeNetwork(runtime.sys, store, host, 'bridge')).rejects.toThrow('bridge is a pre-defined network and cannot be removed');
    expect(await pruneNetworks(runtime.sys, store, host)).toEqual([]);
    await releaseNetwork(runtime, one, host);
    host.ran.length = 0;
    await removeNetwork(runtime.sys, store, host, lab.id.slice(0, 12));
    expect(host.typed()).toContain(`rtnetlink\n  RTM_DELLINK IFLA_IFNAME=${lab.bridge}`);
    expect(listNetworks(store)).toEqual([]);
    expect(lastRuleset()).toBe('table ip tsrun\ndelete table ip tsrun\n'); // the last bridge: no table left
  });

  // Aliases, and more networks than one: `tsrun network connect` / `disconnect` of a running container, and a
  // start that joins every network its record lists.
  const aliased = (id: string, name: string, networks: Array<[string, string[]]>) =>
    containerOn(id, networks[0]![0], { name, networks: networks.map(([net, aliases]) => ({ network: net, aliases })) });
  const findLeasesOf = (id: string) => ['tsrun0', ...listNetworks(store).map((n) => n.bridge)].filter((bridge) => leaseOn(bridge, id));
  const leaseOn = (bridge: string, id: string) => Object.values(readBridgeState(host.stateDir, bridge)!.leases).find((lease) => lease.container === id);

  it('records a container\'s aliases in its lease on a user network, for the name server to answer', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    const db = aliased('1', 'db1', [['lab', ['db', 'primary']]]);
    await network(runtime, db, host);
    expect(leaseOn(lab.bridge, db.id)).toMatchObject({ name: 'db1', aliases: ['db', 'primary'] });
    expect(leaseOn(lab.bridge, db.id)!.interface).toBeUndefined(); // eth0
  });

  it('connects a running container to another network: eth1 in its namespace, its own lease, its name served there', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    const other = await createNetwork(runtime.sys, store, host, 'other');
    const c = named('1', 'one', 'lab');
    await network(runtime, c, host);
    const file = netnsFile(store, c.id);
    host.ran.length = 0;
    const attachment = await joinNetwork(runtime, c, { network: 'other', aliases: ['api'] }, host);
    expect(attachment).toMatchObject({ name: other.bridge, interface: 'eth1', hostInterface: 'tsrun11111111-1', address: '10.90.0.2/16', gateway: '10.90.0.1' });
    // The same cable as the stage lays, without a second default route or namespace.
    expect(host.typed()).toEqual([
      `rtnetlink\n  RTM_NEWLINK IFLA_IFNAME=tsrun11111111-1 IFLA_INFO_KIND=veth IFLA_MTU=1400 IFLA_MASTER=${other.bridge} ifi_flags=IFF_UP`
        + ` VETH_INFO_PEER={IFLA_IFNAME=eth1 IFLA_ADDRESS=02:42:0a:5a:00:02 IFLA_MTU=1400 IFLA_NET_NS_FD=${file}}`,
      `rtnetlink in ${file}\n  RTM_NEWADDR ifa_index=eth1 ifa_prefixlen=16 IFA_LOCAL=10.90.0.2\n  RTM_NEWLINK IFLA_IFNAME=eth1 ifi_flags=IFF_UP`,
    ]);
    expect(leaseOn(other.bridge, c.id)).toMatchObject({ name: 'one', aliases: ['api'], interface: 'eth1', holder: leaseOn(lab.bridge, c.id)!.holder });
    expect(host.dnsEvents).toEqual([`start ${lab.bridge} 1000`, `start ${other.bridge} 1001`]);
    await expect(joinNetwork(runtime, c, { network: 'other', aliases: [] }, host)).rejects.toThrow('endpoint with name one already exists in network other');

    // Disconnected: its interface there and its address go (the network's name server ends itself a moment later).
    host.ran.length = 0;
    await leaveNetwork(runtime, c, 'other', host);
    expect(host.typed()).toEqual(['rtnetlink\n  RTM_DELLINK IFLA_IFNAME=tsrun11111111-1']);
    expect(leaseOn(other.bridge, c.id)).toBeUndefined();
    expect(leaseOn(lab.bridge, c.id)).toBeDefined();

    // Connected again, then released with the container: every network's address, each waiting for its veth.
    await joinNetwork(runtime, c, { network: 'other', aliases: [] }, host);
    host.ran.length = 0;
    await releaseNetwork(runtime, c, host);
    expect(host.typed()).toEqual([]);
    expect([leaseOn(lab.bridge, c.id), leaseOn(other.bridge, c.id)]).toEqual([undefined, undefined]);
    expect([readBridgeState(host.stateDir, lab.bridge)!.draining, readBridgeState(host.stateDir, other.bridge)!.draining])
      .toEqual([{ '10.89.0.2': 'tsrun11111111' }, { '10.90.0.2': 'tsrun11111111-1' }]);
  });

  it('points a container started on the default bridge at a user network\'s name server once connected to it, and back', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    const c = named('1', 'one', 'bridge');
    const plan = await network(runtime, c, host);
    const hostResolvers = fs.readFileSync(plan.files.resolvConf, 'utf8');
    expect(hostResolvers).not.toContain('ndots');
    await joinNetwork(runtime, c, { network: 'lab', aliases: [] }, host);
    expect(fs.readFileSync(plan.files.resolvConf, 'utf8')).toMatch(/(^|\n)nameserver 127\.0\.0\.11\noptions ndots:0\n$/);
    expect(host.dnsSyncs).toEqual([`${lab.bridge}: 10.89.0.2`]);
    await leaveNetwork(runtime, c, 'lab', host);
    expect(fs.readFileSync(plan.files.resolvConf, 'utf8')).toBe(hostResolvers);
    expect(host.dnsSyncs.at(-1)).toBe(`${lab.bridge}: `); // it lets go of the container's 127.0.0.11
  });

  it('takes away an address whose interface could not be made', async () => {
    const other = await createNetwork(runtime.sys, store, host, 'other');
    const c = named('1', 'one', 'bridge');
    await network(runtime, c, host);
    const refusing = { ...host.sys, rtnetlink: (batch: RtnetlinkBatch) => {
      if (batch.messages.some((m) => m.message === 'RTM_NEWLINK' && m.VETH_INFO_PEER?.IFLA_IFNAME === 'eth1')) {
        throw netlinkError('EEXIST', 'RTM_NEWLINK', 'tsrun11111111-1');
      }
      host.sys.rtnetlink(batch);
    } };
    await expect(joinNetwork({ ...runtime, sys: refusing }, c, { network: 'other', aliases: [] }, host)).rejects.toThrow('RTM_NEWLINK tsrun11111111-1: EEXIST');
    expect(leaseOn(other.bridge, c.id)).toBeUndefined();
    expect(leaseOn('tsrun0', c.id)).toBeDefined();
  });

  it('refuses to lay the cable of a container that stopped (and was released) while it was being connected', async () => {
    const other = await createNetwork(runtime.sys, store, host, 'other');
    const c = named('1', 'one', 'bridge');
    await network(runtime, c, host);
    // The container's release takes its new lease away between the lease and the cable, as its exit would.
    const releasing = { ...host.sys, rtnetlink_getroute: () => { // the MTU's question, asked between the two
      const state = readBridgeState(host.stateDir, other.bridge)!;
      state.leases = {};
      writeBridgeState(host.stateDir, other.bridge, state);
      return host.sys.rtnetlink_getroute();
    } };
    await expect(joinNetwork({ ...runtime, sys: releasing }, c, { network: 'other', aliases: [] }, host))
      .rejects.toThrow('container one stopped while it was being connected to other');
    expect(host.typed().filter((command) => command.includes('IFLA_IFNAME=eth1'))).toEqual([]);
  });

  it('joins at start every network the record lists, eth0 first; with none left, loopback only', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    const c = aliased('1', 'one', [['lab', []], ['bridge', []]]);
    const plan = await network(runtime, c, host);
    expect(plan.interfaces).toEqual(['lo 127.0.0.1/8', 'eth0 10.89.0.2/16', 'eth1 10.88.0.2/16']);
    expect(plan.bridge).toMatchObject({ name: lab.bridge, interface: 'eth0' });
    expect(plan.alsoOn).toMatchObject([{ name: 'tsrun0', interface: 'eth1', hostInterface: 'tsrun11111111-1' }]);
    // Names are asked of the user network's server; the default bridge has none.
    expect(fs.readFileSync(plan.files.resolvConf, 'utf8')).toContain('nameserver 127.0.0.11\n');
    expect(leaseOn('tsrun0', c.id)).toMatchObject({ interface: 'eth1' });
    expect(leaseOn('tsrun0', c.id)!.name).toBeUndefined();
    await releaseNetwork(runtime, c, host);

    host.ran.length = 0;
    const alone = containerOn('2', 'lab', { networks: [] }); // disconnected from each of its networks
    const bare = await network(runtime, alone, host);
    expect(host.typed()).toEqual([`unshare_CLONE_NEWNET ${netnsFile(store, alone.id)}`]);
    expect(bare).toMatchObject({ interfaces: ['lo 127.0.0.1/8'], steps: [{ op: 'setns' }, { op: 'link_up', name: 'lo' }] });
    expect(bare.bridge).toBeUndefined();
  });

  it('frees a dead tsrun\'s lease on a network joined later by that interface\'s own veth', async () => {
    const other = await createNetwork(runtime.sys, store, host, 'other');
    const killed = named('1', 'one', 'bridge');
    await network(runtime, killed, host);
    await joinNetwork(runtime, killed, { network: 'other', aliases: [] }, host);
    const gone = { pid: spawnSync('true').pid!, startTime: null }; // a process that has exited
    for (const bridge of ['tsrun0', other.bridge]) {
      const state = readBridgeState(host.stateDir, bridge)!;
      for (const lease of Object.values(state.leases)) lease.holder = gone;
      writeBridgeState(host.stateDir, bridge, state);
    }
    host.ran.length = 0;
    await network(runtime, named('2', 'two', 'other'), host);
    expect(host.typed()).toContain('rtnetlink\n  RTM_DELLINK IFLA_IFNAME=tsrun11111111-1');
  });
});
