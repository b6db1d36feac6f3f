// IPv4 addresses as 32-bit numbers, and subnets in CIDR notation
// ("10.88.0.0/16": the first 16 bits name the network, the rest the host).
import { fail } from '../errors.js';

export interface Subnet {
  /** The network address, as a number. */
  network: number;
  /** How many leading bits are the network's. */
  prefix: number;
}

export function parseAddress(text: string): number {
  const parts = text.split('.');
  const bytes = parts.map(Number);
  if (parts.length !== 4 || bytes.some((b, i) => !/^\d{1,3}$/.test(parts[i]!) || b > 255)) {
    throw fail(`${JSON.stringify(text)} is not an IPv4 address`, 'write it as four numbers 0-255 joined by dots');
  }
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

export function formatAddress(address: number): string {
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 255).join('.');
}

/** "10.88.0.0/16"; a bare address is a /32. */
export function parseSubnet(cidr: string): Subnet {
  const [address, prefixText = '32'] = cidr.split('/');
  const prefix = Number(prefixText);
  if (!/^\d+$/.test(prefixText) || prefix > 32) throw fail(`${JSON.stringify(cidr)} is not a subnet`, 'write it as ADDRESS/PREFIX, e.g. 10.88.0.0/16');
  return { network: (parseAddress(address!) & mask(prefix)) >>> 0, prefix };
}

export function formatSubnet(subnet: Subnet): string {
  return `${formatAddress(subnet.network)}/${subnet.prefix}`;
}

/** The subnet's n-th address: 0 is the network itself, 1 the gateway by convention. */
export function nthAddress(subnet: Subnet, n: number): number {
  return (subnet.network + n) >>> 0;
}

/** How many addresses the subnet spans, network and broadcast addresses included. */
export function subnetSize(subnet: Subnet): number {
  return 2 ** (32 - subnet.prefix);
}

/** Two subnets overlap when the shorter prefix's network contains the other's. */
export function overlaps(a: Subnet, b: Subnet): boolean {
  const shorter = Math.min(a.prefix, b.prefix);
  return ((a.network ^ b.network) & mask(shorter)) === 0;
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}
