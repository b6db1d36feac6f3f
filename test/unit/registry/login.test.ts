// login against a registry served by this test on loopback, which takes anyone.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { login } from '../../../src/registry/login.js';
import { storePaths } from '../../../src/store/paths.js';
import { tempStore } from '../../helpers/temp-store.js';

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
