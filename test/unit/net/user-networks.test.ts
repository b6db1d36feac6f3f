// User networks against a pretend host: their own bridges and subnets, the hosts
// files that let their containers find each other by name, the rules that keep
// networks apart, and removal refused while a container is on one.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { network, releaseNetwork } from '../../../src/stages/network.js';
import { createNetwork, inspectNetwork, listNetworks, networkSummaries, pruneNetworks, removeNetwork } from '../../../src/net/networks.js';
import type { ContainerRecord } from '../../../src/container.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';
import { fakeHost } from './fake-host.js';

function container(id: string, name: string, networkName: string): ContainerRecord {
  return {
    id: id.repeat(64), name, created: new Date().toISOString(),
    image: { id: 'sha256:' + 'a'.repeat(64), name: 'demo', layers: [] },
    config: { argv: ['sh'], env: [], workingDir: '/', user: '', hostname: name, tty: false, interactive: false, autoRemove: false, network: networkName },
    state: { status: 'created', pid: null, pidStartTime: null, exitCode: null, startedAt: null, finishedAt: null, error: '' },
  };
}

describe('user networks', () => {
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
  const lastRuleset = () => host.ran.filter((r) => r.argv[0] === 'nft').at(-1)!.input!;

  it('creates a network with a bridge and a free subnet of its own, and refuses a taken name or an overlapping subnet', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    expect(lab).toMatchObject({ name: 'lab', bridge: `tsrun-${lab.id.slice(0, 8)}`, subnet: '10.89.0.0/16', gateway: '10.89.0.1' });
    expect(host.typed()).toContain(`ip -batch -\n  link add ${lab.bridge} type bridge\n  address add 10.89.0.1/16 dev ${lab.bridge}\n  link set ${lab.bridge} up`);
    expect((await createNetwork(runtime.sys, store, host, 'other')).subnet).toBe('10.90.0.0/16');
    await expect(createNetwork(runtime.sys, store, host, 'lab')).rejects.toThrow('network with name lab already exists');
    await expect(createNetwork(runtime.sys, store, host, 'host')).rejects.toThrow('network with name host already exists');
    await expect(createNetwork(runtime.sys, store, host, 'x', '10.89.128.0/24')).rejects.toThrow('the subnet 10.89.128.0/24 overlaps 10.89.0.0/16');
    await expect(createNetwork(runtime.sys, store, host, 'y', '10.88.5.0/24')).rejects.toThrow('overlaps 10.88.0.0/16');
    expect(listNetworks(store).map((n) => n.name)).toEqual(['lab', 'other']);
    expect(networkSummaries(store).map((n) => `${n.name} ${n.driver}`)).toEqual(['bridge bridge', 'host host', 'none null', 'lab bridge', 'other bridge']);
  });

  it('lists each container in the others\' hosts files on a user network, and takes it out when it goes', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    const one = container('1', 'one', 'lab');
    const two = container('2', 'two', 'lab');
    const onePlan = await network(runtime, one, host);
    const twoPlan = await network(runtime, two, host);
    expect(onePlan.bridge).toMatchObject({ name: lab.bridge, address: '10.89.0.2/16' });
    expect(fs.readFileSync(onePlan.files.hosts, 'utf8')).toMatch(/\n10\.89\.0\.2\tone\n# Other containers on this network \(tsrun keeps this list current\)\n10\.89\.0\.3\ttwo\n$/);
    expect(fs.readFileSync(twoPlan.files.hosts, 'utf8')).toMatch(/\n10\.89\.0\.3\ttwo\n# Other containers on this network \(tsrun keeps this list current\)\n10\.89\.0\.2\tone\n$/);
    const hostsInode = fs.statSync(onePlan.files.hosts).ino;
    expect(inspectNetwork(store, host, 'lab')).toMatchObject({ Name: 'lab', Containers: { [one.id]: { Name: 'one', IPv4Address: '10.89.0.2/16' } } });

    await releaseNetwork(runtime, two, host);
    expect(fs.readFileSync(onePlan.files.hosts, 'utf8')).toMatch(/\n10\.89\.0\.2\tone\n$/);
    expect(fs.statSync(onePlan.files.hosts).ino).toBe(hostsInode); // rewritten in place: the bind mount still shows it
  });

  it('keeps networks apart: nothing is forwarded from one of tsrun\'s bridges to another', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    await network(runtime, container('1', 'on-default', 'bridge'), host);
    expect(lastRuleset()).toContain(`iifname "tsrun0" oifname { "${lab.bridge}" } drop`);
    expect(lastRuleset()).toContain(`iifname "${lab.bridge}" oifname { "tsrun0" } drop`);
    expect(lastRuleset()).toContain('ip saddr 10.89.0.0/16 oifname != "' + lab.bridge + '" masquerade');
  });

  it('refuses to remove a network a container is on; removes it, its bridge and its rules once none is', async () => {
    const lab = await createNetwork(runtime.sys, store, host, 'lab');
    const one = container('1', 'one', 'lab');
    await network(runtime, one, host);
    await expect(removeNetwork(runtime.sys, store, host, 'lab')).rejects.toThrow(`network lab id ${lab.id} has active endpoints`);
    await expect(removeNetwork(runtime.sys, store, host, 'bridge')).rejects.toThrow('bridge is a pre-defined network and cannot be removed');
    expect(await pruneNetworks(runtime.sys, store, host)).toEqual([]);
    await releaseNetwork(runtime, one, host);
    host.ran.length = 0;
    await removeNetwork(runtime.sys, store, host, lab.id.slice(0, 12));
    expect(host.typed()).toContain(`ip link delete ${lab.bridge}`);
    expect(listNetworks(store)).toEqual([]);
    expect(lastRuleset()).toBe('table ip tsrun\ndelete table ip tsrun\n'); // the last bridge: no table left
  });
});
