// registryDomain, and login against a registry served by this test on loopback, which takes anyone.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { storePaths } from '../../../src/store/paths.js';
import { tempStore } from '../../helpers/temp-store.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { login, registryDomain } from '../../../src/registry/login.js';

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

let scratch: ReturnType<typeof tempStore>;
let server: http.Server;
beforeEach(async () => {
  scratch = tempStore();
  server = http.createServer((_request, response) => response.writeHead(200).end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  scratch.remove();
});

it('makes a fresh store closed to everyone but root, and the credentials file 0600', async () => {
  const paths = storePaths(path.join(scratch.root, 'store'), {});
  await login(paths, `127.0.0.1:${(server.address() as AddressInfo).port}`, { username: 'student', password: 'pw' });
  expect(fs.statSync(paths.root).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.join(paths.root, 'config.json')).mode & 0o777).toBe(0o600);
});
