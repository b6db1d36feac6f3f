import { describe, expect, it } from 'vitest';
import { hostsFile, resolvConf } from '../../../src/net/etc-files.js';

describe('/etc/hosts and /etc/resolv.conf', () => {
  it('names the container after its address on each network, and after 127.0.1.1 without one', () => {
    expect(hostsFile('bridge', 'abc123', ['web'], ['10.88.0.2'], '')).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.88.0.2\tabc123 web\n');
    // On several networks (after `network connect`), a line for each of its addresses, eth0's first.
    expect(hostsFile('lab', 'abc123', ['web'], ['10.89.0.2', '10.90.0.5'], '')).toMatch(/\n10\.89\.0\.2\tabc123 web\n10\.90\.0\.5\tabc123 web\n$/);
    expect(hostsFile('none', 'box', ['box'], [], '')).toMatch(/\n127\.0\.1\.1\tbox\n$/);
    expect(hostsFile('host', 'box', ['web'], [], '10.0.0.1 myhost\n')).toBe('10.0.0.1 myhost\n');
  });

  it('keeps the host\'s resolvers, drops loopback ones, and falls back to Docker\'s public ones', () => {
    expect(resolvConf('bridge', 'search lan\nnameserver 10.255.255.53\n')).toBe('search lan\nnameserver 10.255.255.53\n');
    expect(resolvConf('bridge', 'nameserver 127.0.0.53\noptions edns0\n')).toBe('options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    // On the host's own network the stub resolver is reachable: the file stays as it is.
    expect(resolvConf('host', 'nameserver 127.0.0.53\n')).toBe('nameserver 127.0.0.53\n');
  });

  it('on a user network, points at the network\'s name server alone, with the host\'s search list and Docker\'s ndots:0', () => {
    expect(resolvConf('lab', 'search lan\nnameserver 10.255.255.53\nnameserver 127.0.0.53\n', '10.89.0.1'))
      .toBe('search lan\nnameserver 10.89.0.1\noptions ndots:0\n');
  });
});
