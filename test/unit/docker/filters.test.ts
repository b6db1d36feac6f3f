// Docker's ?filters= and its reference filter, as `docker images NAME` and `docker image prune` send them.
import { describe, expect, it } from 'vitest';
import { labelsMatch, parseFilters, patternMatches, referenceMatches, timestampValue } from '../../../src/docker/filters.js';
import { parseReference } from '../../../src/image/reference.js';

describe('filters', () => {
  it('reads {"KEY": {"VALUE": true}}, and refuses any other shape', () => {
    expect(parseFilters(null)).toEqual({});
    expect(parseFilters('{}')).toEqual({});
    expect(parseFilters('{"dangling":{"true":true},"label":{"a=1":true,"b":true}}')).toEqual({ dangling: ['true'], label: ['a=1', 'b'] });
    // The older shape, a list of values, as docker-compose 1 sends it.
    expect(parseFilters('{"label":["com.docker.compose.project=web","a"]}')).toEqual({ label: ['com.docker.compose.project=web', 'a'] });
    for (const bad of ['[]', '{"dangling":true}', '{"dangling":[true]}', '{"dangling"', 'null']) expect(() => parseFilters(bad)).toThrow('invalid filters');
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

  it('matches a name or id pattern anywhere in it, as a regular expression, and an invalid one only as itself', () => {
    expect(patternMatches(['web'], 'webserver')).toBe(true);
    expect(patternMatches(['^web$'], 'webserver')).toBe(false);
    expect(patternMatches(['db', '^/web'], '/webserver')).toBe(true);
    expect(patternMatches(['a('], 'a(')).toBe(true);
    expect(patternMatches(['a('], 'ab')).toBe(false);
    expect(patternMatches([], 'web')).toBe(false);
  });

  it('matches labels as docker does: every label=KEY present, every label=KEY=VALUE with that value', () => {
    const labels = { team: 'cap', tier: 'a=b', empty: '' };
    expect(labelsMatch(['team'], labels)).toBe(true);
    expect(labelsMatch(['team=cap', 'tier=a=b'], labels)).toBe(true);
    expect(labelsMatch(['team=cap', 'tier=a'], labels)).toBe(false);
    expect(labelsMatch(['empty='], labels)).toBe(true);
    expect(labelsMatch(['toString'], labels)).toBe(false);
    expect(labelsMatch([], {})).toBe(true);
  });
});

describe('timestampValue: an until filter\'s value, as dockerd reads it', () => {
  const now = Date.parse('2026-12-06T12:00:00Z');

  it('reads a Go duration as that long before now, seconds since 1970, and a date and time', () => {
    expect(timestampValue('24h', now)).toBe(now - 24 * 3600e3);
    expect(timestampValue('1h30m', now)).toBe(now - 90 * 60e3);
    expect(timestampValue('1.5s', now)).toBe(now - 1500);
    expect(timestampValue('1700000000', now)).toBe(1_700_000_000_000);
    expect(timestampValue('1700000000.25', now)).toBe(1_700_000_000_250);
    expect(timestampValue('2026-11-23T12:00:00Z', now)).toBe(Date.parse('2026-11-23T12:00:00Z'));
  });

  it('refuses what is none of those', () => {
    expect(() => timestampValue('yesterday', now)).toThrow(/invalid timestamp "yesterday"/);
    expect(() => timestampValue('10d', now)).toThrow(/invalid timestamp/);
  });
});
