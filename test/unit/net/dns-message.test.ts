import { describe, expect, it } from 'vitest';
import { RCODE, readQuestion, writeAnswer } from '../../../src/net/dns-message.js';
import { containersToServe, namesFor, namesOnNetwork, replyTo, upstreamsFrom } from '../../../src/net/dns-server.js';
import type { BridgeState, Lease } from '../../../src/net/ipam.js';

/** A query as a resolver sends it: id 0x1234, recursion desired, one question (NAME, TYPE, class IN). */
function query(name: string, type = 1): Buffer {
  const labels = name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)]));
  const typeAndClass = Buffer.from([0, type, 0, 1]);
  return Buffer.concat([Buffer.from('123401000001000000000000', 'hex'), ...labels, Buffer.from([0]), typeAndClass]);
}

const lease = (container: string, name: string): Lease => ({ container, name, store: '/nowhere', netns: '', holder: { pid: 1, startTime: null } });

describe('DNS messages', () => {
  it('reads the question of a query, its name in lower case', () => {
    expect(readQuestion(query('Web.Lab'))).toMatchObject({ id: 0x1234, name: 'web.lab', type: 1, class: 1 });
    expect(readQuestion(query('web', 28))).toMatchObject({ name: 'web', type: 28 });
  });

  it('finds no question in an answer, a message cut short, or a query of two questions', () => {
    const answer = Buffer.from(query('web'));
    answer.writeUInt16BE(0x8180, 2);
    expect(readQuestion(answer)).toBeUndefined();
    expect(readQuestion(query('web').subarray(0, 17))).toBeUndefined();
    const two = Buffer.from(query('web'));
    two.writeUInt16BE(2, 4);
    expect(readQuestion(two)).toBeUndefined();
    expect(readQuestion(Buffer.from('1234', 'hex'))).toBeUndefined();
  });

  it('writes an answer: the header, the question copied, and an A record pointing at the question\'s name', () => {
    const answer = writeAnswer(readQuestion(query('web'))!, RCODE.noError, ['10.89.0.3']);
    expect(answer.toString('hex')).toBe([
      '1234', '8580', '0001', '0001', '0000', '0000', // id; QR AA RD RA; 1 question, 1 answer
      '03776562000001', '0001', // web, A, IN
      'c00c', '0001', '0001', '00000000', '0004', '0a590003', // -> offset 12, A, IN, TTL 0, 4 bytes: 10.89.0.3
    ].join(''));
  });
});

describe('the network\'s name server', () => {
  const state: BridgeState = {
    subnet: '10.89.0.0/16', gateway: '10.89.0.1', ipForwardBefore: '0',
    leases: { '10.89.0.2': lease('a'.repeat(64), 'alpha'), '10.89.0.3': lease('b'.repeat(64), 'Beta') },
  };
  const names = namesOnNetwork(state, (l) => l.name);

  it('knows each container by its name, in any case, and by its short id', () => {
    expect(Object.fromEntries(names)).toEqual({ alpha: ['10.89.0.2'], ['a'.repeat(12)]: ['10.89.0.2'], beta: ['10.89.0.3'], ['b'.repeat(12)]: ['10.89.0.3'] });
  });

  it('knows containers by their aliases too: a shared alias is answered with every address that has it', () => {
    const aliased: BridgeState = { ...state, leases: {
      '10.89.0.2': { ...lease('a'.repeat(64), 'alpha'), aliases: ['db', 'Primary', 'alpha'] },
      '10.89.0.3': { ...lease('b'.repeat(64), 'beta'), aliases: ['db'] },
    } };
    const byAlias = namesOnNetwork(aliased, (l) => l.name);
    expect(byAlias.get('db')).toEqual(['10.89.0.2', '10.89.0.3']);
    expect(byAlias.get('primary')).toEqual(['10.89.0.2']);
    expect(byAlias.get('alpha')).toEqual(['10.89.0.2']); // its own name as an alias: once
    expect(replyTo(query('db'), byAlias)).toEqual(writeAnswer(readQuestion(query('db'))!, RCODE.noError, ['10.89.0.2', '10.89.0.3']));
  });

  it('tells a container the names of every user network it is on, and of no other; none on the default bridge', () => {
    const [alpha, beta, gamma] = ['a', 'b', 'c'].map((digit) => digit.repeat(64));
    const other: BridgeState = { subnet: '10.90.0.0/16', gateway: '10.90.0.1', ipForwardBefore: '0', leases: {
      '10.90.0.2': { ...lease(alpha!, 'alpha'), interface: 'eth1' }, '10.90.0.3': lease(gamma!, 'gamma'),
    } };
    const unnamed = { container: 'd'.repeat(64), store: '/nowhere', netns: '', holder: { pid: 1, startTime: null } };
    const defaultBridge: BridgeState = { subnet: '10.88.0.0/16', gateway: '10.88.0.1', ipForwardBefore: '0', leases: {
      '10.88.0.2': { ...unnamed, container: alpha! }, '10.88.0.3': unnamed,
    } };
    const forAlpha = namesFor('10.89.0.2', state, [other, defaultBridge], (l) => l.name);
    expect(forAlpha.get('gamma')).toEqual(['10.90.0.3']);
    expect(forAlpha.get('alpha')).toEqual(['10.89.0.2', '10.90.0.2']);
    expect(forAlpha.get('d'.repeat(12))).toBeUndefined();
    const forBeta = namesFor('10.89.0.3', state, [other, defaultBridge], (l) => l.name);
    expect(forBeta.get('gamma')).toBeUndefined();
    expect(forBeta.get('alpha')).toEqual(['10.89.0.2']);
    expect(beta).toBe('b'.repeat(64));
  });

  it('answers A for a container, no record (not NXDOMAIN) for its AAAA, and forwards every other name', () => {
    expect(replyTo(query('BETA'), names)).toEqual(writeAnswer(readQuestion(query('BETA'))!, RCODE.noError, ['10.89.0.3']));
    const aaaa = replyTo(query('beta', 28), names) as Buffer;
    expect([aaaa.readUInt16BE(2) & 0xf, aaaa.readUInt16BE(6)]).toEqual([RCODE.noError, 0]);
    expect(replyTo(query('example.org'), names)).toBe('forward');
    const garbage = replyTo(Buffer.from('12340000', 'hex'), names) as Buffer;
    expect(garbage.readUInt16BE(2) & 0xf).toBe(RCODE.notImp);
  });

  it('forwards to "dns-upstream" when set, else to the host\'s nameservers, loopback ones included, three at most', () => {
    expect(upstreamsFrom(['127.0.0.1:5353', '10.0.0.2'], 'nameserver 192.0.2.1\n')).toEqual([{ address: '127.0.0.1', port: 5353 }, { address: '10.0.0.2', port: 53 }]);
    expect(upstreamsFrom(undefined, 'search lan\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n'))
      .toEqual(['127.0.0.53', '192.0.2.1', '192.0.2.2'].map((address) => ({ address, port: 53 })));
    expect(upstreamsFrom(undefined, '')).toEqual(['8.8.8.8', '8.8.4.4'].map((address) => ({ address, port: 53 })));
  });
});

describe('where the server answers at 127.0.0.11', () => {
  const on = (netns: string, extra: Partial<Lease> = {}): Lease => ({ ...lease(netns.slice(-1).repeat(64), netns.slice(-1)), netns, ...extra });
  const network = (leases: Record<string, Lease>): BridgeState => ({ subnet: '10.89.0.0/16', gateway: '10.89.0.1', ipForwardBefore: '1', leases });
  const inodes: Record<string, number> = { '/ns/a': 11, '/ns/b': 12, '/ns/c': 13 };

  it('inside each container whose first user network is its own, keyed by the namespace it has now', () => {
    const states = [
      // a: on lab only; b: on lab (eth0) and other (eth1); c: on the default bridge (eth0, no name) and other (eth1).
      { bridge: 'lab', state: network({ '10.89.0.2': on('/ns/a'), '10.89.0.3': on('/ns/b') }) },
      { bridge: 'other', state: network({ '10.90.0.2': on('/ns/b', { interface: 'eth1' }), '10.90.0.3': on('/ns/c', { interface: 'eth1' }) }) },
      { bridge: 'tsrun0', state: network({ '10.88.0.2': on('/ns/c', { name: undefined }) }) },
    ];
    const inode = (file: string) => inodes[file];
    expect(containersToServe('lab', states, inode)).toEqual(new Map([['/ns/a:11', '10.89.0.2'], ['/ns/b:12', '10.89.0.3']]));
    expect(containersToServe('other', states, inode)).toEqual(new Map([['/ns/c:13', '10.90.0.3']]));
    expect(containersToServe('tsrun0', states, inode)).toEqual(new Map());
    // Released: its namespace file is gone, and so is its listener.
    expect(containersToServe('lab', states, (file) => (file === '/ns/a' ? undefined : inode(file)))).toEqual(new Map([['/ns/b:12', '10.89.0.3']]));
  });
});
