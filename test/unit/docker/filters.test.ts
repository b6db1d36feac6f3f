// Docker's ?filters= and its reference filter, as `docker images NAME` and `docker image prune` send them.
import { describe, expect, it } from 'vitest';
import { parseFilters, referenceMatches } from '../../../src/docker/filters.js';
import { parseReference } from '../../../src/image/reference.js';

describe('filters', () => {
  it('reads {"KEY": {"VALUE": true}}, and refuses any other shape', () => {
    expect(parseFilters(null)).toEqual({});
    expect(parseFilters('{}')).toEqual({});
    expect(parseFilters('{"dangling":{"true":true},"label":{"a=1":true,"b":true}}')).toEqual({ dangling: ['true'], label: ['a=1', 'b'] });
    for (const bad of ['[]', '{"dangling":true}', '{"dangling":["true"]}', '{"dangling"', 'null']) expect(() => parseFilters(bad)).toThrow('invalid filters');
  });

  it('matches a reference pattern as docker does: the familiar name with its tag, else the name alone; * stops at a /', () => {
    const busybox = parseReference('busybox:musl');
    expect(referenceMatches('busybox', busybox)).toBe(true);
    expect(referenceMatches('busybox:musl', busybox)).toBe(true);
    expect(referenceMatches('busybox:latest', busybox)).toBe(false);
    expect(referenceMatches('docker.io/library/busybox', busybox)).toBe(false); // docker matches the familiar name only
    expect(referenceMatches('busy*', busybox)).toBe(true);
    expect(referenceMatches('busybox:m?sl', busybox)).toBe(true);
    const demo = parseReference('127.0.0.1:5000/demo/layers:1');
    expect(referenceMatches('127.0.0.1:5000/demo/*', demo)).toBe(true);
    expect(referenceMatches('127.0.0.1:5000/*', demo)).toBe(false);
    expect(referenceMatches('*/demo/layers:[0-9]', demo)).toBe(true);
    expect(referenceMatches('127.0.0.1:5000/demo/layers:[^1]', demo)).toBe(false);
    expect(referenceMatches('127.0.0.1:5000/demo/layer.', demo)).toBe(false); // a dot is a dot
  });
});
