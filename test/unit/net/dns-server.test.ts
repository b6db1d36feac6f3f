// The name server for real, on loopback and a free port, without root: Node's own resolver (c-ares) asks it,
// and a pretend upstream on loopback answers the names that are not containers.
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { endWhenIdle, serveDns } from '../../../src/net/dns-server.js';
import { readQuestion, RCODE, writeAnswer } from '../../../src/net/dns-message.js';
import { writeBridgeState, type BridgeState } from '../../../src/net/ipam.js';
import { freePort } from '../../helpers/registry.js';

const ALPHA = 'a'.repeat(64);

describe('the name server, on loopback', () => {
  let dir: string;
  let state: BridgeState;
  let upstream: dgram.Socket;
  let server: { close: () => void };
  let resolver: dns.promises.Resolver;
  let port: number;
  const rename = (id: string, name: string) => {
    fs.mkdirSync(path.join(dir, 'store', 'containers', id), { recursive: true });
    fs.writeFileSync(path.join(dir, 'store', 'containers', id, 'config.json'), JSON.stringify({ name }));
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-dns-'));
    // The network is 127.0.0.0/8 here, so that the test's queries, from 127.0.0.1, come from inside it.
    state = { subnet: '127.0.0.0/8', gateway: '127.0.0.1', ipForwardBefore: '1', leases: {
      '127.0.0.2': { container: ALPHA, store: path.join(dir, 'store'), netns: '', holder: { pid: 1, startTime: null }, name: 'alpha' },
    } };
    writeBridgeState(dir, 'tsrun-test', state);
    rename(ALPHA, 'alpha');
    // The upstream knows every name, at 192.0.2.7.
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (message, from) => upstream.send(writeAnswer(readQuestion(message)!, RCODE.noError, ['192.0.2.7']), from.port, from.address));
    await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
    port = await freePort();
    server = await serveDns({ stateDir: dir, bridge: 'tsrun-test', upstreams: [{ address: '127.0.0.1', port: upstream.address().port }], address: '127.0.0.1', port });
    resolver = new dns.promises.Resolver({ timeout: 3_000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
  });

  afterEach(() => {
    server.close();
    upstream.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a container\'s name and short id, and forwards other names to the upstream', async () => {
    expect(await resolver.resolve4('alpha')).toEqual(['127.0.0.2']);
    expect(await resolver.resolve4(ALPHA.slice(0, 12))).toEqual(['127.0.0.2']);
    expect(await resolver.resolve4('example.org')).toEqual(['192.0.2.7']);
  });

  it('reads the leases at each query: a container started later, a renamed one, one gone', async () => {
    await expect(resolver.resolve4('beta')).resolves.toEqual(['192.0.2.7']); // not a container yet: the upstream's
    const beta = 'b'.repeat(64);
    state.leases['127.0.0.3'] = { ...state.leases['127.0.0.2']!, container: beta, name: 'beta' };
    writeBridgeState(dir, 'tsrun-test', state);
    rename(beta, 'beta');
    expect(await resolver.resolve4('beta')).toEqual(['127.0.0.3']);
    rename(ALPHA, 'gamma');
    expect(await resolver.resolve4('gamma')).toEqual(['127.0.0.2']);
    expect(await resolver.resolve4('alpha')).toEqual(['192.0.2.7']);
    delete state.leases['127.0.0.3'];
    writeBridgeState(dir, 'tsrun-test', state);
    expect(await resolver.resolve4('beta')).toEqual(['192.0.2.7']);
  });

  it('answers over TCP too, each message after its two-byte length', async () => {
    const question = Buffer.from('abcd0100000100000000000005616c7068610000010001', 'hex'); // alpha, A, IN
    const framed = Buffer.concat([Buffer.from([0, question.length]), question]);
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end(framed));
      let received = Buffer.alloc(0);
      socket.setTimeout(3_000, () => socket.destroy(new Error('no answer within 3 s')));
      socket.on('data', (chunk) => { received = Buffer.concat([received, chunk]); }).on('end', () => resolve(received)).on('error', reject);
    });
    expect(answer.readUInt16BE(0)).toBe(answer.length - 2);
    expect(answer.subarray(2)).toEqual(writeAnswer(readQuestion(question)!, RCODE.noError, ['127.0.0.2']));
  });

  it('refuses a query from outside the network', async () => {
    writeBridgeState(dir, 'tsrun-test', { ...state, subnet: '10.89.0.0/16' });
    await expect(resolver.resolve4('alpha')).rejects.toMatchObject({ code: 'EREFUSED' });
  });
});

describe('a name server whose network has gone idle', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-dns-idle-'));
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const withLeases = (count: number) => writeBridgeState(dir, 'tsrun-idle', {
    subnet: '10.89.0.0/16', gateway: '10.89.0.1', ipForwardBefore: '1',
    leases: Object.fromEntries(Array.from({ length: count }, (_, n) => [`10.89.0.${n + 2}`, { container: ALPHA, store: dir, netns: '', holder: { pid: 1, startTime: null } }])),
  });

  it('ends once the network has had no container for the grace period, and the lock holder agrees', async () => {
    withLeases(1);
    const asked: number[] = [];
    const answers = [false, true]; // a container joined just before the lock the first time
    let ended = false;
    endWhenIdle(dir, 'tsrun-idle', 2_000, async () => { asked.push(Date.now()); return answers.shift()!; }, () => { ended = true; });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(asked).toEqual([]); // a container is on it
    withLeases(0);
    const idleFrom = Date.now();
    await vi.advanceTimersByTimeAsync(1_900);
    expect(asked).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_500);
    expect(asked).toHaveLength(1);
    expect(asked[0]! - idleFrom).toBeGreaterThanOrEqual(2_000);
    expect(ended).toBe(false);
    await vi.advanceTimersByTimeAsync(2_500); // refused: the grace period starts again
    expect([asked.length, ended]).toEqual([2, true]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(asked).toHaveLength(2); // and then it watches no more
  });

  it('stops watching when cancelled (SIGTERM)', async () => {
    withLeases(0);
    let asked = 0;
    const cancel = endWhenIdle(dir, 'tsrun-idle', 2_000, async () => { asked++; return true; }, () => {});
    cancel();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toBe(0);
  });
});
