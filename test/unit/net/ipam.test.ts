import { describe, expect, it } from 'vitest';
import { leaseAddress as lease, leaseOf, releaseAddress, type BridgeState } from '../../../src/net/ipam.js';

const holder = { pid: 1, startTime: 1 };
const leaseAddress = (state: BridgeState, container: string, store: string) => lease(state, { container, store, holder, netns: `/n/${container}` });

const state = (subnet = '10.88.0.0/16'): BridgeState => ({ subnet, gateway: '10.88.0.1', ipForwardBefore: '0', leases: {} });

describe('IPAM', () => {
  it('hands out the lowest free address, never the gateway, never one already held', () => {
    const s = state();
    expect(leaseAddress(s, 'a', '/store')).toBe('10.88.0.2');
    expect(leaseAddress(s, 'b', '/store')).toBe('10.88.0.3');
    releaseAddress(s, 'a');
    expect(leaseOf(s, 'a')).toBeUndefined();
    expect(leaseAddress(s, 'c', '/other')).toBe('10.88.0.2');
    expect(s.leases).toEqual({
      '10.88.0.2': { container: 'c', store: '/other', holder, netns: '/n/c' },
      '10.88.0.3': { container: 'b', store: '/store', holder, netns: '/n/b' },
    });
  });

  it('keeps a released address out of reach while its veth is still there', () => {
    const s = state();
    leaseAddress(s, 'a', '/store');
    releaseAddress(s, 'a', 'tsrunaaaaaaaa');
    expect(s).toMatchObject({ leases: {}, draining: { '10.88.0.2': 'tsrunaaaaaaaa' } });
    expect(leaseAddress(s, 'b', '/store')).toBe('10.88.0.3');
  });

  it('skips the network and broadcast addresses, and says so when the subnet is full', () => {
    const s = { ...state('10.88.0.0/29'), gateway: '10.88.0.1' };
    const given = ['a', 'b', 'c', 'd', 'e'].map((c) => leaseAddress(s, c, '/store'));
    expect(given).toEqual(['10.88.0.2', '10.88.0.3', '10.88.0.4', '10.88.0.5', '10.88.0.6']);
    expect(() => leaseAddress(s, 'f', '/store')).toThrow(/no address left in 10\.88\.0\.0\/29/);
  });
});
