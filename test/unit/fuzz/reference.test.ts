// Image references come from the command line, from docker-archives' RepoTags and from OCI
// layouts' annotations: parseReference must refuse cleanly or give a reference that holds up.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { familiarString, parseReference, parseRepository } from '../../../src/image/reference.js';
import { endpointFor } from '../../../src/registry/endpoint.js';
import { fromPieces, fuzzOptions, outcome } from './fuzz.js';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const referenceText = fromPieces([
  'busybox', 'library', 'team', 'app', 'a', 'Z', '0', '9', '/', '/', ':', ':', '@', '.', '-', '_', '__',
  'docker.io', 'index.docker.io', 'localhost', 'registry.example.com', '127.0.0.1', '[', ']', '[::1]', '::',
  '5000', '65535', '65536', '99999', '0', 'latest', 'v1.2', DIGEST, 'sha256:', 'sha512:', 'ab'.repeat(32),
  'user:secret@', 'https://',
]);

describe('fuzz: image references', () => {
  it('parseReference refuses cleanly, or gives a reference that reads back the same and can be pulled from', () => {
    fc.assert(fc.property(referenceText, (text) => {
      const parsed = outcome(() => parseReference(text));
      if (!parsed.ok) return;
      const reference = parsed.value;
      // Round trips: the canonical form, and the familiar form docker prints, parse to the same reference.
      expect(parseReference(reference.canonical)).toEqual(reference);
      expect(parseReference(familiarString(reference))).toEqual(reference);
      expect(reference.name).toBe(`${reference.domain}/${reference.path}`);
      expect(reference.tag !== undefined || reference.digest !== undefined).toBe(true);
      // The domain is a host a pull can connect to.
      expect(() => endpointFor(reference.domain, { insecureRegistries: [] })).not.toThrow();
    }), fuzzOptions(2000));
  });

  it('parseRepository refuses cleanly, or gives a reference with the default tag', () => {
    fc.assert(fc.property(referenceText, (text) => {
      const parsed = outcome(() => parseRepository(text));
      if (parsed.ok) expect(parsed.value.tag).toBe('latest');
    }), fuzzOptions(1000));
  });
});
