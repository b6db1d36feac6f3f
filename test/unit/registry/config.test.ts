import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readRegistryConfig } from '../../../src/registry/config.js';
import { tempStore } from '../../helpers/temp-store.js';

describe('readRegistryConfig', () => {
  const store = tempStore();
  const write = (value: unknown) => fs.writeFileSync(path.join(store.root, 'config.json'), JSON.stringify(value));
  afterEach(() => fs.rmSync(path.join(store.root, 'config.json'), { force: true }));
  afterAll(() => store.remove());

  it('has defaults when there is no file', () => {
    expect(readRegistryConfig(store)).toEqual({ insecureRegistries: [], registryMirrors: [], maxConcurrentDownloads: 3, auths: {} });
  });

  it('keeps each mirror as an origin', () => {
    write({ 'registry-mirrors': ['http://127.0.0.1:5000/', 'https://mirror.lab'] });
    expect(readRegistryConfig(store).registryMirrors).toEqual(['http://127.0.0.1:5000', 'https://mirror.lab']);
  });

  it('refuses a mirror that is not an http(s) origin, naming the key', () => {
    for (const bad of [['mirror.lab'], ['ftp://mirror.lab'], ['https://mirror.lab/v2/library'], 'https://mirror.lab']) {
      write({ 'registry-mirrors': bad });
      expect(() => readRegistryConfig(store)).toThrow('"registry-mirrors" must be a list of URLs');
    }
  });
});
