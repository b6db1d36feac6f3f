// The store's config.json: one JSON object whose keys belong to whoever reads
// them (the registry client's, the network's "firewall-backend"). Missing is
// the same as empty; anything but an object is an error that names the file.
import fs from 'node:fs';
import path from 'node:path';
import { fail } from '../errors.js';
import type { StorePaths } from './paths.js';

export function configFile(paths: StorePaths): string {
  return path.join(paths.root, 'config.json');
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

export function badConfig(file: string, why: string, cause?: unknown): Error {
  return fail(`${file}: ${why}`, 'fix or remove the file', cause);
}
