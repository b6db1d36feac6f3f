import { describe, expect, it } from 'vitest';
import { exposedPorts, formatMapping, parsePublish, pickHostPorts } from '../../../src/net/ports.js';
import type { PortMapping } from '../../../src/container.js';
import { iptablesRules } from '../../../src/net/iptables.js';

describe('parsePublish', () => {
  it('reads docker\'s forms of -p', () => {
    expect(parsePublish('80')).toEqual({ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' });
    expect(parsePublish('8080:80')).toEqual({ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    expect(parsePublish('127.0.0.1:8080:80/udp')).toEqual({ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'udp' });
    expect(parsePublish('127.0.0.1::80')).toEqual({ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' });
  });

  it('refuses what it cannot publish, saying why', () => {
    expect(() => parsePublish('80/sctp')).toThrow('the protocol must be tcp or udp');
    expect(() => parsePublish('8080:99999')).toThrow('"99999" is not a port number');
    expect(() => parsePublish('8000-8010:80')).toThrow('tsrun does not publish port ranges');
    expect(() => parsePublish('[::1]:8080:80')).toThrow('IPv4 only');
    expect(() => parsePublish('300.1.1.1:8080:80')).toThrow('"300.1.1.1" is not an IPv4 address');
    expect(() => parsePublish('a:b:c:d')).toThrow('invalid publish "a:b:c:d"');
  });

  it('quotes what it refuses as JSON, so that a line break in it keeps the message on one line', () => {
    expect(() => parsePublish('80\n')).toThrow('invalid publish "80\\n": "80\\n" is not a port number (1-65535)');
  });

  it('turns an image\'s ExposedPorts into ports to publish anywhere, and formats them as docker ps does', () => {
    expect(exposedPorts({ '80/tcp': {}, '53/udp': {} }).map((port) => `${port.containerPort}/${port.protocol} ${port.hostPort}`)).toEqual(['80/tcp 0', '53/udp 0']);
    expect(exposedPorts(undefined)).toEqual([]);
    expect(formatMapping({ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' })).toBe('0.0.0.0:8080->80/tcp');
  });
});

describe('pickHostPorts', () => {
  const tcp = (hostPort: number, hostIp = ''): PortMapping => ({ hostIp, hostPort, containerPort: 80, protocol: 'tcp' });

  it('gives each port nobody asked for by number a free one, unlike those taken or busy', async () => {
    const busy = new Set<number>();
    const picked = await pickHostPorts([tcp(0), tcp(0)], [], async (mapping) => {
      if (busy.has(mapping.hostPort)) return false;
      busy.add(mapping.hostPort); // what is picked is busy from now on
      return true;
    });
    expect(picked[0]!.hostPort).not.toBe(picked[1]!.hostPort);
    expect(picked.every((port) => port.hostPort >= 1024)).toBe(true);
  });

  it('treats "all addresses" as clashing with any one address, and different addresses as separate', async () => {
    const free = async () => true;
    await expect(pickHostPorts([tcp(8080, '127.0.0.1')], [tcp(8080)], free)).rejects.toThrow('port is already allocated');
    await expect(pickHostPorts([tcp(8080, '127.0.0.1')], [tcp(8080, '127.0.0.2')], free)).resolves.toHaveLength(1);
    await expect(pickHostPorts([{ ...tcp(8080), protocol: 'udp' }], [tcp(8080)], free)).resolves.toHaveLength(1);
    await expect(pickHostPorts([tcp(8080), tcp(8080)], [], free)).rejects.toThrow('port is already allocated');
  });
});

describe('iptablesRules', () => {
  it('says in iptables-restore form what the nft table says: DNAT twice (once for 127.0.0.1), masquerade per bridge, networks apart, containers closed', () => {
    const rules = iptablesRules([
      { bridge: 'tsrun0', subnet: '10.88.0.0/16', published: [
        { mapping: { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }, address: '10.88.0.2' },
        { mapping: { hostIp: '127.0.0.1', hostPort: 8081, containerPort: 80, protocol: 'tcp' }, address: '10.88.0.3' },
      ] },
      { bridge: 'tsrun-ab', subnet: '10.89.0.0/16', published: [] },
    ]);
    expect(rules.split('\n')).toEqual([
      '*raw',
      ':TSRUN-PREROUTING - [0:0]', '-F TSRUN-PREROUTING',
      '-A TSRUN-PREROUTING ! -i lo -d 127.0.0.0/8 -j DROP',
      'COMMIT',
      '*nat',
      ':TSRUN-PREROUTING - [0:0]', '-F TSRUN-PREROUTING',
      ':TSRUN-OUTPUT - [0:0]', '-F TSRUN-OUTPUT',
      ':TSRUN-POSTROUTING - [0:0]', '-F TSRUN-POSTROUTING',
      '-A TSRUN-PREROUTING -m addrtype --dst-type LOCAL -p tcp --dport 8080 -j DNAT --to-destination 10.88.0.2:80',
      '-A TSRUN-OUTPUT -m addrtype --dst-type LOCAL -p tcp --dport 8080 -j DNAT --to-destination 10.88.0.2:80',
      '-A TSRUN-OUTPUT -d 127.0.0.1/32 -p tcp --dport 8081 -j DNAT --to-destination 10.88.0.3:80',
      '-A TSRUN-POSTROUTING -s 10.88.0.0/16 ! -o tsrun0 -j MASQUERADE',
      '-A TSRUN-POSTROUTING -s 127.0.0.0/8 -o tsrun0 -j MASQUERADE',
      '-A TSRUN-POSTROUTING -s 10.89.0.0/16 ! -o tsrun-ab -j MASQUERADE',
      '-A TSRUN-POSTROUTING -s 127.0.0.0/8 -o tsrun-ab -j MASQUERADE',
      'COMMIT',
      '*filter',
      ':TSRUN-FORWARD - [0:0]', '-F TSRUN-FORWARD',
      '-A TSRUN-FORWARD -i tsrun0 -o tsrun-ab -j DROP',
      '-A TSRUN-FORWARD -i tsrun-ab -o tsrun0 -j DROP',
      ...['tsrun0', 'tsrun-ab'].flatMap((bridge) => [
        `-A TSRUN-FORWARD -o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
        `-A TSRUN-FORWARD -o ${bridge} -m conntrack --ctstate DNAT -j ACCEPT`,
        `-A TSRUN-FORWARD -i ${bridge} -o ${bridge} -j ACCEPT`,
        `-A TSRUN-FORWARD -o ${bridge} -j DROP`,
      ]),
      'COMMIT',
      '',
    ]);
  });
});
