// `tsrun network connect` / `disconnect` against a pretend host: Docker's refusals, a running container given its
// interface at once, and a stopped one given only its record's change, which its next start follows.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectToNetwork, disconnectFromNetwork } from '../../../src/containers/connect.js';
import { createNetwork } from '../../../src/net/networks.js';
import { findLeases } from '../../../src/net/ipam.js';
import { network } from '../../../src/stages/network.js';
import { addContainer, getContainer } from '../../../src/store/containers.js';
import { processStartTime } from '../../../src/kernel/proc.js';
import type { ContainerRecord } from '../../../src/container.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';
import { containerOn, fakeHost } from '../../helpers/fake-network-host.js';

describe('network connect and disconnect', () => {
  let store: ReturnType<typeof tempStore>;
  let host: ReturnType<typeof fakeHost>;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  beforeEach(async () => {
    store = tempStore();
    host = fakeHost();
    runtime = { sys: host.sys, paths: store };
    await createNetwork(runtime.sys, store, host, 'lab');
    await createNetwork(runtime.sys, store, host, 'other');
  });
  afterEach(() => {
    store.remove();
    host.remove();
  });

  /** A container in the store, on `net` (eth0), "running" as this test's own process when asked. */
  const stored = async (id: string, net: string, running = false): Promise<ContainerRecord> => {
    const container = containerOn(id, net, { name: `c${id}`, networks: net === 'none' || net === 'host' ? undefined : [{ network: net, aliases: [] }] });
    if (running) container.state = { ...container.state, status: 'running', pid: process.pid, pidStartTime: processStartTime(process.pid) };
    return addContainer(runtime.sys, store, container);
  };
  const networksOn = (id: string) => getContainer(store, id).config.networks;
  const interfacesOf = (id: string) => findLeases(id, host.stateDir).map(({ lease }) => lease.interface ?? 'eth0').sort();

  it('refuses what Docker refuses, in Docker\'s words', async () => {
    const onLab = await stored('1', 'lab');
    await stored('2', 'host');
    await stored('3', 'none');
    const refused = (promise: Promise<void>) => expect(promise).rejects;
    await refused(connectToNetwork(runtime, 'lab', 'c2', [], host)).toThrow(/^container cannot be disconnected from host network or connected to host network$/);
    await refused(connectToNetwork(runtime, 'host', 'c1', [], host)).toThrow(/^container cannot be disconnected from host network or connected to host network$/);
    await refused(connectToNetwork(runtime, 'lab', 'c3', [], host)).toThrow(/^container cannot be connected to multiple networks with one of the networks in private \(none\) mode$/);
    await refused(connectToNetwork(runtime, 'bridge', 'c1', ['web'], host)).toThrow(/^network-scoped alias is supported only for containers in user defined networks$/);
    await refused(connectToNetwork(runtime, 'lab', 'c1', [], host)).toThrow(/^endpoint with name c1 already exists in network lab$/);
    await refused(connectToNetwork(runtime, 'nowhere', 'c1', [], host)).toThrow(/^network nowhere not found$/);
    await refused(connectToNetwork(runtime, 'lab', 'nobody', [], host)).toThrow(/^no such container: nobody$/);
    await refused(disconnectFromNetwork(runtime, 'other', 'c1', false, host)).toThrow(new RegExp(`^container ${onLab.id} is not connected to the network other$`));
    await refused(disconnectFromNetwork(runtime, 'host', 'c2', false, host)).toThrow(/^container cannot be disconnected from host network/);
    expect(networksOn(onLab.id)).toEqual([{ network: 'lab', aliases: [] }]);
    // Ten interfaces at most: the host's end of eth10 would need a name longer than Linux allows.
    const full = containerOn('4', 'lab', { name: 'c4', networks: Array.from({ length: 10 }, (_, n) => ({ network: `net${n}`, aliases: [] })) });
    await addContainer(runtime.sys, store, full);
    await refused(connectToNetwork(runtime, 'lab', 'c4', [], host)).toThrow(/^a container has at most 10 interfaces in tsrun \(eth0 to eth9\)$/);
  });

  it('changes only the record of a container that is not running; its next start joins what the record lists', async () => {
    const c = await stored('1', 'lab');
    await connectToNetwork(runtime, 'other', 'c1', ['api'], host);
    await connectToNetwork(runtime, 'bridge', 'c1', [], host);
    expect(host.dnsEvents).toEqual([]); // nothing joined yet
    await disconnectFromNetwork(runtime, 'lab', 'c1', false, host);
    expect(networksOn(c.id)).toEqual([{ network: 'other', aliases: ['api'] }, { network: 'bridge', aliases: [] }]);
    const plan = await network(runtime, getContainer(store, c.id), host);
    expect(plan.interfaces).toEqual(['lo 127.0.0.1/8', 'eth0 10.90.0.2/16', 'eth1 10.88.0.2/16']);
  });

  it('gives a running container its interface at once, and takes it away', async () => {
    const c = await stored('1', 'lab', true);
    await network(runtime, c, host);
    await connectToNetwork(runtime, 'other', c.id.slice(0, 12), ['api'], host);
    expect(interfacesOf(c.id)).toEqual(['eth0', 'eth1']);
    expect(networksOn(c.id)).toEqual([{ network: 'lab', aliases: [] }, { network: 'other', aliases: ['api'] }]);
    // Leaving eth0's network frees eth0: the next network joined takes it.
    await disconnectFromNetwork(runtime, 'lab', 'c1', false, host);
    expect(host.typed()).toContain('rtnetlink\n  RTM_DELLINK IFLA_IFNAME=tsrun11111111');
    expect(interfacesOf(c.id)).toEqual(['eth1']);
    await connectToNetwork(runtime, 'bridge', 'c1', [], host);
    expect(interfacesOf(c.id)).toEqual(['eth0', 'eth1']);
    expect(networksOn(c.id)!.map((endpoint) => endpoint.network)).toEqual(['other', 'bridge']);
  });

  it('with --force, forgets a network removed meanwhile', async () => {
    const c = await stored('1', 'lab');
    await connectToNetwork(runtime, 'other', 'c1', [], host);
    const { removeNetwork } = await import('../../../src/net/networks.js');
    await removeNetwork(runtime.sys, store, host, 'other');
    await expect(disconnectFromNetwork(runtime, 'other', 'c1', false, host)).rejects.toThrow('network other not found');
    await disconnectFromNetwork(runtime, 'other', 'c1', true, host);
    expect(networksOn(c.id)).toEqual([{ network: 'lab', aliases: [] }]);
  });
});
