// The network stage and its release, against a pretend host: the exact ip, nft,
// sysctl and unshare commands, in order, without root.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { network, netnsFile, releaseNetwork } from '../../../src/stages/network.js';
import { pruneDefaultBridge } from '../../../src/net/default-bridge.js';
import { readBridgeState, writeBridgeState } from '../../../src/net/ipam.js';
import { spawnSync } from 'node:child_process';
import type { ContainerRecord, NetworkMode } from '../../../src/container.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';
import { fakeHost } from './fake-host.js';
import type { PortMapping } from '../../../src/net/ports.js';

function container(id: string, network?: NetworkMode, ports: PortMapping[] = []): ContainerRecord {
  return {
    id: id.repeat(64 / id.length), name: `c${id}`, created: new Date().toISOString(),
    image: { id: 'sha256:' + 'a'.repeat(64), name: 'demo', layers: [] },
    config: { argv: ['sh'], env: [], workingDir: '/', user: '', hostname: `h${id}`, tty: false, interactive: false, autoRemove: false, network, ports },
    state: { status: 'created', pid: null, pidStartTime: null, exitCode: null, startedAt: null, finishedAt: null, error: '' },
  };
}

describe('network stage', () => {
  let store: ReturnType<typeof tempStore>;
  let host: ReturnType<typeof fakeHost>;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  beforeEach(() => {
    store = tempStore();
    host = fakeHost();
    runtime = { sys: fakeSyscalls(), paths: store };
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
      'ip -json route show default',
      'ip -json link show dev eth0',
      'ip -json link show',
      'ip -json route show',
      'ip -batch -\n  link add tsrun0 type bridge\n  address add 10.88.0.1/16 dev tsrun0\n  link set tsrun0 up',
      'sysctl -q -w net.ipv4.conf.tsrun0.route_localnet=1',
      'sysctl -n net.ipv4.ip_forward',
      'sysctl -q -w net.ipv4.ip_forward=1',
      expect.stringMatching(/^nft -f -\n  table ip tsrun\n  delete table ip tsrun\n  table ip tsrun \{\n/),
      `unshare --net=${file} true`,
      `ip -batch -\n  link add tsrun11111111 mtu 1400 type veth peer name eth0 address 02:42:0a:58:00:02 mtu 1400 netns ${file}\n  link set tsrun11111111 master tsrun0 up`,
      `nsenter --net=${file} ip -batch -\n  link set lo up\n  address add 10.88.0.2/16 dev eth0\n  link set eth0 up\n  route add default via 10.88.0.1`,
    ]);
    expect(host.ran[8]!.input).toContain('ip saddr 10.88.0.0/16 oifname != "tsrun0" masquerade');
    expect(plan).toMatchObject({
      mode: 'bridge', namespaceFile: file, interfaces: ['lo 127.0.0.1/8', 'eth0 10.88.0.2/16'],
      bridge: { name: 'tsrun0', subnet: '10.88.0.0/16', gateway: '10.88.0.1', address: '10.88.0.2/16', hostInterface: 'tsrun11111111', mtu: 1400 },
      steps: [{ op: 'setns', path: file, nstype: 'CLONE_NEWNET' }],
    });
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
    expect(host.typed()).toEqual(['ip -json link show', 'ip link delete tsrun22222222']);
    expect(runtime.sys.calls).toContainEqual({ name: 'umount2', args: [netnsFile(store, second.id), ['MNT_DETACH']] });
    expect(fs.existsSync(netnsFile(store, second.id))).toBe(false);
    expect(Object.keys(readBridgeState(host.stateDir, 'tsrun0')!.leases)).toEqual(['10.88.0.2']);

    // Releasing twice, or a container that never got an address, does nothing.
    host.ran.length = 0;
    await releaseNetwork(runtime, second, host);
    await releaseNetwork(runtime, container('3'), host);
    expect(host.ran).toEqual([]);
  });

  it('frees the leases of a tsrun that was killed before it could release them', async () => {
    const killed = container('1');
    await network(runtime, killed, host);
    const state = readBridgeState(host.stateDir, 'tsrun0')!;
    state.leases['10.88.0.2']!.holder = { pid: spawnSync('true').pid!, startTime: null }; // a process that has exited
    writeBridgeState(host.stateDir, 'tsrun0', state);
    host.ran.length = 0;
    const plan = await network(runtime, container('2'), host);
    expect(host.typed()).toContain('ip link delete tsrun11111111');
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
      'ip -json link show',
      'ip link delete tsrun0',
      'nft -f -\n  table ip tsrun\n  delete table ip tsrun',
      'sysctl -q -w net.ipv4.ip_forward=0',
    ]);
    expect(readBridgeState(host.stateDir, 'tsrun0')).toBeUndefined();
  });

  it('refuses a subnet the host already routes, and takes another from config.json', async () => {
    const routed = fakeHost({ routes: [{ dst: 'default', dev: 'eth0' }, { dst: '10.0.0.0/8', dev: 'eth1' }] });
    try {
      await expect(network(runtime, container('1'), routed)).rejects.toThrow(
        'the bridge subnet 10.88.0.0/16 overlaps the host\'s route to 10.0.0.0/8 on eth1');
      expect(readBridgeState(routed.stateDir, 'tsrun0')).toBeUndefined();
      fs.writeFileSync(path.join(store.root, 'config.json'), JSON.stringify({ 'bridge-subnet': '172.31.0.0/24' }));
      const plan = await network(runtime, container('1'), routed);
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
    expect(rules.match(new RegExp(`ip daddr 127\\.0\\.0\\.1 udp dport ${picked!.hostPort} dnat to 10\\.88\\.0\\.2:53`, 'g'))).toHaveLength(2);
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
    expect(after).not.toContain('dnat');
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
});
