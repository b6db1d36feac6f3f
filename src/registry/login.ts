// `tsrun login`: check a user name and password with the registry (GET /v2/,
// authenticating as it asks), and only if it accepts them, keep them in
// tsrun's config.json, readable by root alone (mode 0600), as `docker login` does.
import { fail } from '../errors.js';
import { makeStoreRoot, type StorePaths } from '../store/paths.js';
import { writeJsonAtomic } from '../store/atomic.js';
import { parseReference } from '../image/reference.js';
import { readRegistryConfig } from './config.js';
import { configFile, readJsonObject } from '../store/config.js';
import { endpointFor } from './endpoint.js';
import { RegistryClient } from './client.js';
import type { Credentials } from './auth.js';

/** "registry.lab:5000", "https://registry.lab:5000/" or nothing (Docker Hub) -> the domain references use. */
export function registryDomain(server: string | undefined): string {
  if (server === undefined || server === '') return 'docker.io';
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  // Not repeated in the message: what comes before "@" may be a password.
  if (host.includes('@')) throw fail('a registry address carries no user name or password', 'give them to tsrun login: -u USER --password-stdin REGISTRY');
  return parseReference(`${host}/probe`).domain; // the same rules as a reference's registry part
}

// #region login
export async function login(paths: StorePaths, domain: string, credentials: Credentials): Promise<void> {
  await checkCredentials(paths, domain, credentials);
  const file = configFile(paths);
  const config = readJsonObject(file);
  const auths = typeof config.auths === 'object' && config.auths !== null ? config.auths as Record<string, unknown> : {};
  auths[domain] = { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') };
  makeStoreRoot(paths);
  writeJsonAtomic(file, { ...config, auths }, 0o600);
}
// #endregion

/** Whether the registry takes these credentials: it answers GET /v2/ (authenticating as it asks); else an error
 *  that says why. The daemon's POST /auth (`docker login`) asks this alone: the docker CLI keeps what it logs in with. */
export async function checkCredentials(paths: StorePaths, domain: string, credentials: Credentials): Promise<void> {
  const client = new RegistryClient(endpointFor(domain, readRegistryConfig(paths)), '', credentials);
  try {
    await client.ping();
  } finally {
    client.close();
  }
}
