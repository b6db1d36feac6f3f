// User networks' name server for real, as root: a container finds a peer started after it, by name, and sees
// the peer stop, restart and be renamed; a server found dead is started again; a name that is no container is
// asked of a resolver this test runs on loopback (the store's "dns-upstream"); a container on another network is
// refused; and once the last container and the network are gone, so are the server's process and its record.
// Traffic goes only to the containers, the gateway of the network made here, and loopback.
import dgram from 'node:dgram';
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_NETWORK_DIR, readBridgeState } from '../../src/net/ipam.js';
import { RCODE, readQuestion, writeAnswer } from '../../src/net/dns-message.js';
import { storeWithDemoImage, TSRUN } from '../helpers/cli.js';

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
  /** busybox nslookup in alpha: the address it found, or "not found". */
  const lookUp = async (name: string) => {
    const { stdout } = await run(['exec', 'alpha', 'sh', '-c', `nslookup -type=a ${name} 2>&1 | sed -n 's/^Address: //p' | grep . || echo not found`]);
    return stdout.trim();
  };
  const addressOf = async (container: string) => (await run(['exec', container, 'sh', '-c', "ip -4 -o address show eth0 | awk '{print $4}'"])).stdout.split('/')[0]!;

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
    const bridge = network.Options['com.docker.network.bridge.name'] as string;
    const gateway = network.IPAM.Config[0].Gateway as string;

    expect(await run(['run', '-d', '--name', 'alpha', '--network', 'names', 'tsrun-demo', 'sleep', '300'])).toMatchObject({ status: 0, stderr: '' });
    expect(dnsProcesses(bridge)).toHaveLength(1);
    expect((await run(['exec', 'alpha', 'cat', '/etc/resolv.conf'])).stdout).toMatch(new RegExp(`(^|\\n)nameserver ${gateway}\\noptions ndots:0\\n$`));
    // beta starts after alpha: no hosts file alpha has can know it.
    expect(await run(['run', '-d', '--name', 'beta', '--network', 'names', 'tsrun-demo', 'sleep', '300'])).toMatchObject({ status: 0, stderr: '' });
    const beta = await addressOf('beta');
    expect(await lookUp('beta')).toBe(beta);
    expect((await run(['exec', 'alpha', 'sh', '-c', 'ping -c 1 -W 2 beta >/dev/null && echo reached'])).stdout).toBe('reached\n');
    expect(dnsProcesses(bridge)).toHaveLength(1); // one server for the network, whatever the number of containers

    expect(await run(['rename', 'beta', 'gamma'])).toMatchObject({ status: 0 });
    expect(await lookUp('gamma')).toBe(beta);
    expect(await run(['stop', '-t', '1', 'gamma'])).toMatchObject({ status: 0 });
    expect(await lookUp('gamma')).toBe('not found');
    expect(asked).toContain('gamma'); // no container by that name now: the upstream was asked, and said so
    // The server dies (killed, as by the OOM killer): the next container to join finds it dead and starts another.
    const [killed] = dnsProcesses(bridge);
    process.kill(Number(killed), 'SIGKILL');
    expect(await run(['start', 'gamma'])).toMatchObject({ status: 0 });
    expect(dnsProcesses(bridge)).toEqual([String(readBridgeState(HOST_NETWORK_DIR, bridge)!.dns!.pid)]);
    expect(dnsProcesses(bridge)).not.toContain(killed);
    expect(await lookUp('gamma')).toBe(await addressOf('gamma'));

    expect(await lookUp(OUTSIDE)).toBe(OUTSIDE_ADDRESS);
    // From the default bridge, the gateway is reachable, but the network's names are not given out.
    const fromDefault = await run(['run', '--rm', 'tsrun-demo', 'sh', '-c', `nslookup -type=a gamma ${gateway} 2>&1 | grep -o REFUSED || echo answered`]);
    expect(fromDefault.stdout).toBe('REFUSED\n');

    expect(await run(['rm', '-f', 'alpha', 'gamma'])).toMatchObject({ status: 0 });
    expect(dnsProcesses(bridge)).toEqual([]);
    expect(readBridgeState(HOST_NETWORK_DIR, bridge)?.dns).toBeUndefined();
    expect(await run(['network', 'rm', 'names'])).toEqual({ status: 0, stdout: 'names\n', stderr: '' });
    expect(readBridgeState(HOST_NETWORK_DIR, bridge)).toBeUndefined();
  }
});
