import { describe, expect, it } from 'vitest';
import { familiarString, parseReference, parseRepository } from '../../../src/image/reference.js';
import { TsrunError } from '../../../src/errors.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseReference', () => {
  it.each([
    // input, domain, path, tag, digest, familiar
    ['busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox'],
    ['busybox:1.36', 'docker.io', 'library/busybox', '1.36', undefined, 'busybox'],
    ['library/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox'],
    ['docker.io/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox'],
    ['docker.io/library/busybox:musl', 'docker.io', 'library/busybox', 'musl', undefined, 'busybox'],
    ['index.docker.io/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox'],
    ['example/app:v2', 'docker.io', 'example/app', 'v2', undefined, 'example/app'],
    ['docker.io/library/team/app', 'docker.io', 'library/team/app', 'latest', undefined, 'library/team/app'],
    ['localhost/x', 'localhost', 'x', 'latest', undefined, 'localhost/x'],
    ['localhost:5000/ns/repo:tag', 'localhost:5000', 'ns/repo', 'tag', undefined, 'localhost:5000/ns/repo'],
    ['registry.example.com:443/a/b/c:V1_x.y-z', 'registry.example.com:443', 'a/b/c', 'V1_x.y-z', undefined, 'registry.example.com:443/a/b/c'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000', 'app', 'latest', undefined, '127.0.0.1:5000/app'],
    ['[::1]:5000/app:1', '[::1]:5000', 'app', '1', undefined, '[::1]:5000/app'],
    ['Registry/app', 'Registry', 'app', 'latest', undefined, 'Registry/app'],
    ['a__b/c--d.e_f', 'docker.io', 'a__b/c--d.e_f', 'latest', undefined, 'a__b/c--d.e_f'],
    [`busybox@${DIGEST}`, 'docker.io', 'library/busybox', undefined, DIGEST, 'busybox'],
    [`quay.io/x/y:t@${DIGEST}`, 'quay.io', 'x/y', 't', DIGEST, 'quay.io/x/y'],
  ])('%s', (input, domain, path, tag, digest, familiar) => {
    const reference = parseReference(input);
    expect(reference).toMatchObject({ domain, path, name: `${domain}/${path}`, familiar });
    expect(reference.tag).toBe(tag);
    expect(reference.digest).toBe(digest);
  });

  it('builds the canonical form from name, tag and digest', () => {
    expect(parseReference('busybox').canonical).toBe('docker.io/library/busybox:latest');
    expect(parseReference(`busybox@${DIGEST}`).canonical).toBe(`docker.io/library/busybox@${DIGEST}`);
    expect(parseReference(`busybox:1@${DIGEST}`).canonical).toBe(`docker.io/library/busybox:1@${DIGEST}`);
    expect(parseReference('localhost:5000/app').canonical).toBe('localhost:5000/app:latest');
  });

  it('prints the familiar form docker shows', () => {
    expect(familiarString(parseReference('docker.io/library/busybox:latest'))).toBe('busybox:latest');
    expect(familiarString(parseReference('docker.io/example/x:t'))).toBe('example/x:t');
    expect(familiarString(parseReference(`busybox@${DIGEST}`))).toBe(`busybox@${DIGEST}`);
    expect(familiarString(parseReference('localhost/x'))).toBe('localhost/x:latest');
  });

  it('round-trips: the canonical form parses to itself', () => {
    for (const input of ['busybox', 'example/app:v2', 'localhost:5000/ns/repo:tag', `quay.io/x/y@${DIGEST}`]) {
      const canonical = parseReference(input).canonical;
      expect(parseReference(canonical).canonical).toBe(canonical);
    }
  });

  it.each([
    ['', /empty/],
    ['Busybox', /must be lowercase/],
    ['docker.io/Busybox', /must be lowercase/],
    ['example/App:v1', /must be lowercase/],
    ['busybox:', /not a valid tag/],
    ['busybox:-x', /not a valid tag/],
    [`busybox:${'a'.repeat(129)}`, /not a valid tag/],
    ['busybox:a/b', /not a valid registry/], // "busybox:a" reads as host:port
    [':latest', /not a valid repository name/],
    ['a//b', /not a valid repository name/],
    ['a/', /not a valid repository name/],
    ['-a', /not a valid repository name/],
    ['a___b', /not a valid repository name/],
    ['a..b', /not a valid repository name/],
    ['a/b c', /not a valid repository name/],
    ['exa_mple.com/app', /not a valid registry/],
    ['busybox@sha256:abc', /not a digest/],
    [`busybox@sha512:${'a'.repeat(128)}`, /only sha256 digests/],
    [`a@${DIGEST}@${DIGEST}`, /more than one "@"/],
    ['ab'.repeat(32), /image id, not a repository name/],
    [`${'a'.repeat(250)}/bbbbb`, /longer than 255/],
  ])('rejects %j', (input, why) => {
    let error: unknown;
    try {
      parseReference(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TsrunError);
    expect((error as TsrunError).message).toContain(`invalid reference "${input}"`);
    expect((error as TsrunError).message).toMatch(why);
    expect((error as TsrunError).exitCode).toBe(125);
  });

  it('quotes what it refuses as JSON: a line break typed into a reference keeps the message on one line', () => {
    expect(() => parseReference('busy\nbox')).toThrow('invalid reference "busy\\nbox": "library/busy\\nbox" is not a valid repository name');
    expect(() => parseRepository('app:\n')).toThrow('"app:\\n" is not a bare repository name');
  });

  it('refuses a port or an IPv6 address no connection could be made to', () => {
    expect(() => parseReference('localhost:65536/app')).toThrow('"localhost:65536" is not a valid registry host[:port]');
    expect(() => parseReference('[:::]/app')).toThrow('"[:::]" is not a valid registry host[:port]');
    expect(() => parseReference('v1.2/busybox')).toThrow('"v1.2" is not a valid registry host[:port]'); // a host ending in a number is an IPv4 address
    expect(parseReference('localhost:65535/app').domain).toBe('localhost:65535');
  });

  it('refuses a user and password before the registry, and does not repeat the password (a trace records errors)', () => {
    for (const input of ['ada:hunter2@registry.example/app', 'https://ada:hunter2@registry.example/app:v1']) {
      expect(() => parseReference(input)).toThrow(/^invalid reference "[^"]*ada:<redacted>@registry\.example\/app[^"]*": a reference carries no password/);
    }
  });
});

describe('parseRepository', () => {
  it('takes a repository name without tag or digest', () => {
    expect(parseRepository('myrepo').name).toBe('docker.io/library/myrepo');
    expect(parseRepository('localhost:5000/team/app').name).toBe('localhost:5000/team/app');
  });

  it.each(['myrepo:v1', 'myrepo:latest', `myrepo@${DIGEST}`])('refuses %s', (input) => {
    expect(() => parseRepository(input)).toThrow(/not a bare repository name/);
  });
});
