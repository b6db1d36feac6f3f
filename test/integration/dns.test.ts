// User networks' name server for real, as root: a container finds a peer started after it, by name, and sees
// the peer stop, restart and be renamed; a server found dead is started again; a name that is no container is
// asked of a resolver this test runs on loopback (the store's "dns-upstream"); a container on another network is
// refused; and once the last container and the network are gone, so are the server's process and its record.
// Aliases (--network-alias) are answered, a shared one with every address; `network connect` gives a running
// container an interface and a name on another network, which its restart keeps, and `disconnect` (or its
// removal) takes them away.
// Traffic goes only to the containers, the gateway of the network made here, and loopback.
import dgram from 'node:dgram';
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_NETWORK_DIR, readBridgeState } from '../../src/net/ipam.js';
import { RCODE, readQuestion, writeAnswer } from '../../src/net/dns-message.js';
import { eventually, linksGone, storeWithDemoImage, TSRUN } from '../helpers/cli.js';

const asRoot = process.getuid?.() === 0;
const OUTSIDE = 'outside.test';
const OUTSIDE_ADDRESS = '192.0.2.7'; // TEST-NET-1: answered, never reached

/** Processes whose command line runs tsrun's name server for this bridge. */
function dnsProcesses(bridge: string): string[] {
  return fs.readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).flatMap((pid) => {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return cmdline.includes('dns-server') && cmdline.includes(bridge) ? [pid] : [];
    } catch {
      return []; // exited while we looked
    }
  });
}

describe.skipIf(!asRoot)('the name server of a user network (as root)', () => {
  let root: string;
  let upstream: dgram.Socket;
  const asked: string[] = [];
  // Not spawnSync: this process's event loop must stay free for the upstream resolver to answer.
  const run = async (args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [TSRUN, ...args], { env: { ...process.env, TSRUN_ROOT: root }, timeout: 60_000 });
      return { status: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { status: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };
  /** busybox nslookup in a container: the addresses it found (sorted, one a line), or "not found". */
  const lookUpFrom = async (container: string, name: string) => {
    const { stdout } = await run(['exec', container, 'sh', '-c', `nslookup -type=a ${name} 2>&1 | sed -n 's/^Address: //p' | sort | grep . || echo not found`]);
    return stdout.trim();
  };
  const lookUp = (name: string) => lookUpFrom('alpha', name);
  const addressOf = async (container: string, inside = 'eth0') =>
    (await run(['exec', container, 'sh', '-c', `ip -4 -o address show ${inside} | awk '{print $4}'`])).stdout.split('/')[0]!;
  const pings = async (from: string, to: string) => (await run(['exec', from, 'sh', '-c', `ping -c 1 -W 2 ${to} >/dev/null && echo reached`])).stdout === 'reached\n';

  beforeAll(async () => {
    root = await storeWithDemoImage('dns');
    // The upstream: knows outside.test, and that no other name exists.
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (message, from) => {
      const question = readQuestion(message)!;
      asked.push(question.name);
      const known = question.name === OUTSIDE;
      upstream.send(writeAnswer(question, known ? RCODE.noError : RCODE.nxDomain, known && question.type === 1 ? [OUTSIDE_ADDRESS] : []), from.port, from.address);
    });
    await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
    fs.writeFileSync(`${root}/config.json`, JSON.stringify({ 'dns-upstream': [`127.0.0.1:${upstream.address().port}`] }));
  });

  afterAll(() => {
    upstream.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('answers peers started later, stopped, restarted and renamed; restarts a dead server; forwards other names; leaves nothing behind', async () => {
    try {
      await namesServed();
    } finally {
      // Before the host check: whatever failed, no container, server or bridge of this test survives it.
      await run(['rm', '-f', 'alpha', 'beta', 'gamma']);
      await run(['network', 'rm', 'names']);
    }
  });

  async function namesServed() {
    expect(await run(['network', 'create', 'names'])).toMatchObject({ status: 0, stderr: '' });
    const network = JSON.parse((await run(['network', 'inspect', 'names'])).stdout)[0];
    const bridge = `tsrun-${(network.Id as string).slice(0, 8)}`; // the Linux bridge of a user network
    const gateway = network.IPAM.Config[0].Gateway as string;

    expect(await run(['run', '-d', '--name', 'alpha', '--network', 'names', 'tsrun-demo', 'sleep', '300'])).toMatchObject({ status: 0, stderr: '' });
    expect(dnsProcesses(bridge)).toHaveLength(1);
    expect((await run(['exec', 'alpha', 'cat', '/etc/resolv.conf'])).stdout).toMatch(/(^|\n)nameserver 127\.0\.0\.11\noptions ndots:0\n$/);
    // beta starts after alpha: no hosts file alpha has can know it.
    expect(await run(['run', '-d', '--name', 'beta', '--network', 'names', 'tsrun-demo', 'sleep', '300'])).toMatchObject({ status: 0, stderr: '' });
    const beta = await addressOf('beta');
    expect(await lookUp('beta')).toBe(beta);
    // At 127.0.0.11, Docker's address, from the first instant: a container whose command asks at once is answered.
    const atOnce = await run(['run', '--rm', '--network', 'names', 'tsrun-demo', 'sh', '-c', 'nslookup -type=a beta 127.0.0.11 | sed -n "s/^Address: //p"']);
    expect(atOnce).toMatchObject({ status: 0, stdout: `${beta}\n` });
    expect(await pings('alpha', 'beta')).toBe(true);
    expect(dnsProcesses(bridge)).toHaveLength(1); // one server for the network, whatever the number of containers

    expect(await run(['rename', 'beta', 'gamma'])).toMatchObject({ status: 0 });
    expect(await lookUp('gamma')).toBe(beta);
    expect(await run(['stop', '-t', '1', 'gamma'])).toMatchObject({ status: 0 });
    expect(await lookUp('gamma')).toBe('not found');
    expect(asked).toContain('gamma'); // no container by that name now: the upstream was asked, and said so
    // The server dies (killed, as by the OOM killer): the next command that looks at containers finds it dead
    // while alpha is on the network, and starts another; so does the next container to join.
    const [killed] = dnsProcesses(bridge);
    process.kill(Number(killed), 'SIGKILL');
    await eventually(() => !dnsProcesses(bridge).includes(killed!));
    expect(await run(['ps'])).toMatchObject({ status: 0, stderr: '' });
    const revived = dnsProcesses(bridge);
    expect(revived).toEqual([String(readBridgeState(HOST_NETWORK_DIR, bridge)!.dns!.pid)]);
    expect(await lookUpFrom('alpha', 'alpha')).toBe(await addressOf('alpha'));
    process.kill(Number(revived[0]), 'SIGKILL');
    await eventually(() => dnsProcesses(bridge).length === 0);
    expect(await run(['start', 'gamma'])).toMatchObject({ status: 0 });
    expect(dnsProcesses(bridge)).toEqual([String(readBridgeState(HOST_NETWORK_DIR, bridge)!.dns!.pid)]);
    expect(await lookUp('gamma')).toBe(await addressOf('gamma'));

    expect(await lookUp(OUTSIDE)).toBe(OUTSIDE_ADDRESS);
    // From the default bridge, the gateway is reachable, but the network's names are not given out.
    const fromDefault = await run(['run', '--rm', 'tsrun-demo', 'sh', '-c', `nslookup -type=a gamma ${gateway} 2>&1 | grep -o REFUSED || echo answered`]);
    expect(fromDefault.stdout).toBe('REFUSED\n');

    expect(await run(['rm', '-f', 'alpha', 'gamma'])).toMatchObject({ status: 0 });
    // With no container left, the server stays a moment, for a run right after (the network stage's unit test shows
    // it reused; a run started here might take longer than the 2 s on a busy machine)…
    expect(dnsProcesses(bridge)).toHaveLength(1);
    // …then ends itself, and the network's state forgets it.
    await eventually(() => dnsProcesses(bridge).length === 0);
    expect(readBridgeState(HOST_NETWORK_DIR, bridge)?.dns).toBeUndefined();
    expect(await run(['network', 'rm', 'names'])).toEqual({ status: 0, stdout: 'names\n', stderr: '' });
    expect(readBridgeState(HOST_NETWORK_DIR, bridge)).toBeUndefined();
  }

  it('answers aliases, a shared one with every address; connects and disconnects a running container; leaves nothing behind', async () => {
    try {
      await aliasesAndConnect();
    } finally {
      await run(['rm', '-f', 'web1', 'web2', 'client', 'loner', 'plain']);
      await run(['network', 'rm', 'aliased', 'elsewhere']);
    }
  });

  async function aliasesAndConnect() {
    for (const name of ['aliased', 'elsewhere']) expect(await run(['network', 'create', name])).toMatchObject({ status: 0, stderr: '' });
    const bridgeOf = async (name: string) => `tsrun-${(JSON.parse((await run(['network', 'inspect', name])).stdout)[0].Id as string).slice(0, 8)}`;
    const [aliased, elsewhere] = [await bridgeOf('aliased'), await bridgeOf('elsewhere')];
    const detached = (name: string, flags: string[]) => run(['run', '-d', '--name', name, ...flags, 'tsrun-demo', 'sleep', '300']);

    // An alias of one container, and one two containers share: answered with both addresses.
    expect(await detached('web1', ['--network', 'aliased', '--network-alias', 'web', '--network-alias', 'primary'])).toMatchObject({ status: 0, stderr: '' });
    expect(await detached('web2', ['--network', 'aliased', '--net-alias', 'web'])).toMatchObject({ status: 0, stderr: '' });
    expect(await detached('client', ['--network', 'aliased'])).toMatchObject({ status: 0, stderr: '' });
    const [web1, web2] = [await addressOf('web1'), await addressOf('web2')];
    expect(await lookUpFrom('client', 'primary')).toBe(web1);
    expect(await lookUpFrom('client', 'web')).toBe([web1, web2].sort().join('\n'));
    expect(await pings('client', 'primary')).toBe(true);
    const web1Networks = JSON.parse((await run(['inspect', 'web1'])).stdout)[0].NetworkSettings.Networks;
    expect(web1Networks).toEqual({ aliased: expect.objectContaining({ Aliases: ['web', 'primary'], IPAddress: web1, DNSNames: ['web1', expect.any(String), 'web', 'primary'] }) });

    // Docker refuses an alias on the default bridge, which has no name server, before anything is made.
    const before = (await run(['ps', '-a', '-q'])).stdout;
    expect(await run(['run', '--rm', '--network-alias', 'nope', 'tsrun-demo', 'true'])).toEqual({
      status: 125, stdout: '',
      stderr: 'tsrun: network-scoped alias is supported only for containers in user defined networks — create a network with `tsrun network create` and run the container on it\n',
    });
    expect((await run(['ps', '-a', '-q'])).stdout).toBe(before);

    // A container on another network is unknown here, until it is connected: then it has eth1 on this network,
    // and its name and its alias there are answered and reached.
    expect(await detached('loner', ['--network', 'elsewhere'])).toMatchObject({ status: 0, stderr: '' });
    const id = (await run(['inspect', '--format', '{{.Id}}', 'loner'])).stdout.trim();
    expect(await lookUpFrom('client', 'loner')).toBe('not found');
    expect(await pings('client', await addressOf('loner'))).toBe(false); // networks are kept apart
    expect(await run(['network', 'connect', '--alias', 'lonely', 'aliased', 'loner'])).toEqual({ status: 0, stdout: '', stderr: '' });
    const connected = await addressOf('loner', 'eth1');
    expect(connected).toMatch(/^10\./);
    expect(await lookUpFrom('client', 'loner')).toBe(connected);
    expect(await lookUpFrom('client', 'lonely')).toBe(connected);
    expect(await pings('client', 'loner')).toBe(true);
    // Its /etc/hosts names it after both its addresses, as Docker's does after a connect.
    const ownAddresses = async () => (await run(['exec', 'loner', 'cat', '/etc/hosts'])).stdout.split('\n')
      .filter((line) => line.split('\t')[1]?.split(' ').includes('loner')).map((line) => line.split('\t')[0]);
    expect(await ownAddresses()).toEqual([await addressOf('loner'), connected]);
    expect(Object.keys(JSON.parse((await run(['inspect', 'loner'])).stdout)[0].NetworkSettings.Networks)).toEqual(['elsewhere', 'aliased']);
    // It asks its first network's server, which answers for every network it is on.
    expect(await lookUpFrom('loner', 'client')).toBe(await addressOf('client'));
    // A container of the default bridge, connected, asks the network's server from then on.
    expect(await detached('plain', [])).toMatchObject({ status: 0, stderr: '' });
    expect(await lookUpFrom('plain', 'web')).toBe('not found');
    expect(await run(['network', 'connect', 'aliased', 'plain'])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await run(['exec', 'plain', 'cat', '/etc/resolv.conf'])).stdout).toContain('nameserver 127.0.0.11\n');
    expect(await lookUpFrom('plain', 'web')).toBe([web1, web2].sort().join('\n'));
    expect(await run(['rm', '-f', 'plain'])).toMatchObject({ status: 0 });
    expect(fs.existsSync(`/sys/class/net/tsrun${id.slice(0, 8)}-1`)).toBe(true);
    const again = await run(['network', 'connect', 'aliased', 'loner']);
    expect(again).toMatchObject({ status: 1, stdout: '', stderr: expect.stringMatching(/^tsrun: endpoint with name loner already exists in network aliased/) });

    // Disconnected: no eth1, no name, no lease, no veth; its own network's interface stays.
    expect(await run(['network', 'disconnect', 'aliased', 'loner'])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await run(['exec', 'loner', 'ip', 'link', 'show', 'eth1'])).status).not.toBe(0);
    expect(await addressOf('loner')).toMatch(/^10\./);
    expect(await lookUpFrom('client', 'loner')).toBe('not found');
    expect(await ownAddresses()).toEqual([await addressOf('loner')]);
    expect(fs.existsSync(`/sys/class/net/tsrun${id.slice(0, 8)}-1`)).toBe(false);
    const holds = (bridge: string) => Object.values(readBridgeState(HOST_NETWORK_DIR, bridge)?.leases ?? {}).some((lease) => lease.container === id);
    expect([holds(aliased), holds(elsewhere)]).toEqual([false, true]);
    expect((await run(['network', 'disconnect', 'aliased', 'loner'])).stderr).toMatch(new RegExp(`^tsrun: container ${id} is not connected to the network aliased`));

    // Connected again, it is on both networks after a restart too (its record lists them); then removed, both
    // leases and both veths go with it.
    expect(await run(['network', 'connect', 'aliased', 'loner'])).toMatchObject({ status: 0 });
    expect(await run(['restart', '-t', '1', 'loner'])).toMatchObject({ status: 0 });
    expect(await lookUpFrom('client', 'loner')).toBe(await addressOf('loner', 'eth1'));
    expect(holds(aliased)).toBe(true);
    expect(await run(['rm', '-f', 'loner'])).toMatchObject({ status: 0 });
    expect([holds(aliased), holds(elsewhere)]).toEqual([false, false]);
    expect(await linksGone(() => fs.readdirSync('/sys/class/net').filter((link) => link.startsWith(`tsrun${id.slice(0, 8)}`)))).toEqual([]);
    expect(fs.readdirSync('/sys/class/net')).toContain(elsewhere); // the bridge stays until its network goes

    expect(await run(['rm', '-f', 'web1', 'web2', 'client'])).toMatchObject({ status: 0 });
    expect(await run(['network', 'rm', 'aliased', 'elsewhere'])).toEqual({ status: 0, stdout: 'aliased\nelsewhere\n', stderr: '' });
    expect([readBridgeState(HOST_NETWORK_DIR, aliased), readBridgeState(HOST_NETWORK_DIR, elsewhere)]).toEqual([undefined, undefined]);
    expect(fs.readdirSync('/sys/class/net').filter((link) => link === aliased || link === elsewhere)).toEqual([]);
  }
});
