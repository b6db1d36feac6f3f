import { describe, expect, it } from 'vitest';
import { formatAddress, nthAddress, overlaps, parseAddress, parseSubnet, subnetSize } from '../../../src/net/address.js';

describe('IPv4 addresses and subnets', () => {
  it('turns dotted quads into numbers and back', () => {
    expect(parseAddress('10.88.0.1')).toBe(0x0a580001);
    expect(formatAddress(0xffffffff)).toBe('255.255.255.255');
    expect(() => parseAddress('10.88.0.256')).toThrow(/not an IPv4 address/);
    expect(() => parseAddress('10.88.0')).toThrow(/not an IPv4 address/);
  });

  it('reads CIDR subnets, dropping host bits, a bare address being a /32', () => {
    expect(parseSubnet('10.88.7.9/16')).toEqual({ network: parseAddress('10.88.0.0'), prefix: 16 });
    expect(parseSubnet('192.0.2.7')).toEqual({ network: parseAddress('192.0.2.7'), prefix: 32 });
    expect(() => parseSubnet('10.0.0.0/33')).toThrow(/not a subnet/);
    expect(subnetSize(parseSubnet('10.88.0.0/16'))).toBe(65536);
    expect(formatAddress(nthAddress(parseSubnet('10.88.0.0/16'), 258))).toBe('10.88.1.2');
  });

  it('knows when two subnets share addresses', () => {
    const bridge = parseSubnet('10.88.0.0/16');
    expect(overlaps(bridge, parseSubnet('10.0.0.0/8'))).toBe(true);
    expect(overlaps(bridge, parseSubnet('10.88.200.0/24'))).toBe(true);
    expect(overlaps(bridge, parseSubnet('10.89.0.0/16'))).toBe(false);
    expect(overlaps(bridge, parseSubnet('192.0.2.0/24'))).toBe(false);
    expect(overlaps(bridge, parseSubnet('0.0.0.0/0'))).toBe(true);
  });
});
