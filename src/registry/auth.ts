// Who we are to a registry. A registry that wants credentials answers 401
// with a WWW-Authenticate header naming how to authenticate (RFC 7235):
//
//   Basic realm="Registry Realm"
//       send "Authorization: Basic base64(user:password)" with every request
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
//       ask the realm for a token (GET realm?service=…&scope=…, with Basic
//       credentials if we have any), then send "Authorization: Bearer <token>"
//
// Credentials come from tsrun's config (`auths`), else from Docker's
// ~/.docker/config.json (or $DOCKER_CONFIG/config.json), which `docker login` writes.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fail } from '../errors.js';
import type { AuthEntry, RegistryConfig } from './config.js';
import { readJsonObject } from '../store/config.js';

export interface Challenge {
  /** Lowercase: "basic", "bearer". */
  scheme: string;
  params: Record<string, string>;
}

export interface Credentials {
  username: string;
  password: string;
}

// #region www-authenticate
/** The challenges in a WWW-Authenticate header: `Scheme k="v", k2=v2, Scheme2 …`. */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  // One token at a time: a name, optionally `=` and a value (quoted, with \-escapes, or bare).
  const token = /\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,\s]*))?\s*,?/y;
  let match: RegExpExecArray | null;
  while (token.lastIndex < header.length && (match = token.exec(header)) !== null) {
    const [, name, value] = match;
    if (value === undefined) {
      challenges.push({ scheme: name!.toLowerCase(), params: {} });
    } else if (challenges.length > 0) {
      const unquoted = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
      challenges.at(-1)!.params[name!.toLowerCase()] = unquoted;
    }
  }
  return challenges;
}
// #endregion

// #region token-realm
/** The token server a Bearer challenge names, if we may ask it. Our password goes to it (Basic), so
 *  over plain http only to this machine itself, where nobody on the network can read it: a registry
 *  (or whoever answers for it) cannot send the password in clear text to a host of its choosing. */
export function tokenRealm(realm: string, withCredentials: boolean): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw fail(`the registry names a token server that is not a URL: ${JSON.stringify(realm)}`, 'tell the registry\'s administrator');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw fail(`the registry names a token server that is not http or https: ${url.href}`, 'tell the registry\'s administrator');
  }
  if (withCredentials && url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw fail(`refusing to send credentials to the token server ${url.origin} over plain http`,
      'the registry should name an https token server; only one on this machine (127.0.0.1, ::1, localhost) may use http');
  }
  return url;
}

/** 127.0.0.0/8, ::1 or localhost, as a URL spells them ("127.1" is already "127.0.0.1" there). */
function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return net.isIPv4(hostname) && hostname.startsWith('127.');
}
// #endregion

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** The credentials for `domain`: tsrun's config first, then Docker's. */
export function credentialsFor(domain: string, config: Pick<RegistryConfig, 'auths'>, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const dockerConfig = path.join(env.DOCKER_CONFIG ?? path.join(env.HOME ?? os.homedir(), '.docker'), 'config.json');
  for (const auths of [config.auths, readJsonObject(dockerConfig).auths]) {
    if (typeof auths !== 'object' || auths === null) continue;
    for (const [key, entry] of Object.entries(auths as Record<string, AuthEntry>)) {
      if (registryOfAuthKey(key) !== domain) continue;
      const credentials = decodeEntry(entry);
      if (credentials) return credentials;
    }
  }
  return undefined;
}

/** Docker writes keys as "host:port", or as URLs ("https://index.docker.io/v1/" for Docker Hub). */
function registryOfAuthKey(key: string): string {
  const host = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

function decodeEntry(entry: AuthEntry): Credentials | undefined {
  if (typeof entry?.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry?.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
  return undefined;
}
