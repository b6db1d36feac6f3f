// tsrun's own settings for registries, in <root>/config.json, shaped like the
// parts of Docker's daemon.json and ~/.docker/config.json it borrows:
//
//   {
//     "insecure-registries": ["registry.lab:5000"],   plain HTTP instead of HTTPS
//     "registry-mirrors": ["http://mirror.lab:5000"],  asked first for docker.io images
//     "max-concurrent-downloads": 3,                   layers fetched at once
//     "auths": { "registry.lab:5000": { "auth": "<base64 of user:password>" } }
//   }
//
// Every key is optional, and so is the file.
import type { StorePaths } from '../store/paths.js';
import { badConfig, configFile, readJsonObject } from '../store/config.js';

export interface AuthEntry {
  /** base64("user:password"), as `docker login` stores it. */
  auth?: string;
  username?: string;
  password?: string;
}

export interface RegistryConfig {
  insecureRegistries: string[];
  /** Origins ("https://mirror.lab", "http://127.0.0.1:5000") tried in order before Docker Hub itself. */
  registryMirrors: string[];
  maxConcurrentDownloads: number;
  auths: Record<string, AuthEntry>;
}

const DEFAULT_CONCURRENT_DOWNLOADS = 3;

export function readRegistryConfig(paths: StorePaths): RegistryConfig {
  const file = configFile(paths);
  const raw = readJsonObject(file);
  const insecure = raw['insecure-registries'] ?? [];
  const mirrors = raw['registry-mirrors'] ?? [];
  const concurrent = raw['max-concurrent-downloads'] ?? DEFAULT_CONCURRENT_DOWNLOADS;
  const auths = raw.auths ?? {};
  if (!Array.isArray(insecure) || !insecure.every((entry) => typeof entry === 'string')) {
    throw badConfig(file, '"insecure-registries" must be a list of host[:port] strings');
  }
  if (!Array.isArray(mirrors) || !mirrors.every(isHttpUrl)) {
    throw badConfig(file, '"registry-mirrors" must be a list of URLs such as "https://mirror.example.com" or "http://127.0.0.1:5000"');
  }
  if (!Number.isInteger(concurrent) || (concurrent as number) < 1) {
    throw badConfig(file, '"max-concurrent-downloads" must be a whole number of at least 1');
  }
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    throw badConfig(file, '"auths" must be an object of registry -> { "auth": … }');
  }
  return { insecureRegistries: insecure as string[], registryMirrors: (mirrors as string[]).map((url) => new URL(url).origin), maxConcurrentDownloads: concurrent as number, auths: auths as Record<string, AuthEntry> };
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && (url.pathname === '/' || url.pathname === '');
  } catch {
    return false;
  }
}
