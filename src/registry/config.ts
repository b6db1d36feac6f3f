// tsrun's own settings for registries, in <root>/config.json, shaped like the
// parts of Docker's daemon.json and ~/.docker/config.json it borrows:
//
//   {
//     "insecure-registries": ["registry.lab:5000"],   plain HTTP instead of HTTPS
//     "max-concurrent-downloads": 3,                   layers fetched at once
//     "auths": { "registry.lab:5000": { "auth": "<base64 of user:password>" } }
//   }
//
// Every key is optional, and so is the file.
import fs from 'node:fs';
import path from 'node:path';
import { fail } from '../errors.js';
import type { StorePaths } from '../store/paths.js';

export interface AuthEntry {
  /** base64("user:password"), as `docker login` stores it. */
  auth?: string;
  username?: string;
  password?: string;
}

export interface RegistryConfig {
  insecureRegistries: string[];
  maxConcurrentDownloads: number;
  auths: Record<string, AuthEntry>;
}

const DEFAULT_CONCURRENT_DOWNLOADS = 3;

export function configFile(paths: StorePaths): string {
  return path.join(paths.root, 'config.json');
}

export function readRegistryConfig(paths: StorePaths): RegistryConfig {
  const file = configFile(paths);
  const raw = readJsonObject(file);
  const insecure = raw['insecure-registries'] ?? [];
  const concurrent = raw['max-concurrent-downloads'] ?? DEFAULT_CONCURRENT_DOWNLOADS;
  const auths = raw.auths ?? {};
  if (!Array.isArray(insecure) || !insecure.every((entry) => typeof entry === 'string')) {
    throw badConfig(file, '"insecure-registries" must be a list of host[:port] strings');
  }
  if (!Number.isInteger(concurrent) || (concurrent as number) < 1) {
    throw badConfig(file, '"max-concurrent-downloads" must be a whole number of at least 1');
  }
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    throw badConfig(file, '"auths" must be an object of registry -> { "auth": … }');
  }
  return { insecureRegistries: insecure as string[], maxConcurrentDownloads: concurrent as number, auths: auths as Record<string, AuthEntry> };
}

/** A JSON file holding an object, or {} when there is no file. */
export function readJsonObject(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) return {};
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw badConfig(file, 'it is not valid JSON', error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badConfig(file, 'it must hold a JSON object');
  return value as Record<string, unknown>;
}

function badConfig(file: string, why: string, cause?: unknown): Error {
  return fail(`${file}: ${why}`, 'fix or remove the file', cause);
}
