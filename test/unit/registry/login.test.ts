import { describe, expect, it } from 'vitest';
import { registryDomain } from '../../../src/registry/login.js';

describe('registryDomain', () => {
  it('takes the host of what `tsrun login` is given, Docker Hub when nothing', () => {
    expect(registryDomain(undefined)).toBe('docker.io');
    expect(registryDomain('https://registry.example:5000/v2/')).toBe('registry.example:5000');
    expect(registryDomain('localhost:5000')).toBe('localhost:5000');
  });

  it('refuses a user and password in the address, and does not repeat them', () => {
    for (const server of ['https://ada:hunter2@registry.example', 'ada:hunter2@registry.example:5000']) {
      expect(() => registryDomain(server)).toThrow(/^a registry address carries no user name or password$/);
    }
  });
});
