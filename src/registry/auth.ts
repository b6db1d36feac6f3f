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
import os from 'node:os';
import path from 'node:path';
import { readJsonObject, type AuthEntry, type RegistryConfig } from './config.js';

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
