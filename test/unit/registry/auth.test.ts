import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { basicAuthorization, credentialsFor, parseWwwAuthenticate, tokenRealm } from '../../../src/registry/auth.js';

describe('parseWwwAuthenticate', () => {
  it('reads a Bearer challenge as Docker Hub sends it', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
  });

  it('reads Basic, bare values, spaces, escapes and several challenges in one header', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    expect(parseWwwAuthenticate('Basic realm="a \\"quoted\\" realm", charset=UTF-8, Bearer realm = "https://t/token" , error="invalid_token"')).toEqual([
      { scheme: 'basic', params: { realm: 'a "quoted" realm', charset: 'UTF-8' } },
      { scheme: 'bearer', params: { realm: 'https://t/token', error: 'invalid_token' } },
    ]);
  });

  it('finds nothing in an empty or parameter-only header', () => {
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate('realm="x"')).toEqual([]);
  });
});

describe('credentialsFor', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const dockerConfig = (auths: object) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-docker-config-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths }));
    return { DOCKER_CONFIG: dir };
  };
  const auth = (text: string) => Buffer.from(text).toString('base64');

  it('takes tsrun\'s own auths first, then Docker\'s config', () => {
    const env = dockerConfig({ 'registry.lab:5000': { auth: auth('docker:pw') } });
    expect(credentialsFor('registry.lab:5000', { auths: { 'registry.lab:5000': { auth: auth('tsrun:pw:with:colons') } } }, env))
      .toEqual({ username: 'tsrun', password: 'pw:with:colons' });
    expect(credentialsFor('registry.lab:5000', { auths: {} }, env)).toEqual({ username: 'docker', password: 'pw' });
    expect(credentialsFor('other.lab', { auths: {} }, env)).toBeUndefined();
  });

  it('understands Docker Hub\'s URL key and username/password entries', () => {
    const env = dockerConfig({ 'https://index.docker.io/v1/': { username: 'hub', password: 'secret' } });
    expect(credentialsFor('docker.io', { auths: {} }, env)).toEqual({ username: 'hub', password: 'secret' });
  });

  it('builds a Basic header', () => {
    expect(basicAuthorization({ username: 'a', password: 'b' })).toBe(`Basic ${auth('a:b')}`);
  });
});

describe('tokenRealm', () => {
  it('takes any https token server, with or without credentials', () => {
    expect(tokenRealm('https://auth.docker.io/token', true).href).toBe('https://auth.docker.io/token');
    expect(tokenRealm('https://10.0.0.1:5001/auth', true).host).toBe('10.0.0.1:5001');
  });

  it('sends credentials over plain http only to this machine: 127.0.0.0/8, ::1, localhost', () => {
    for (const realm of ['http://127.0.0.1:5001/token', 'http://127.8.9.10/token', 'http://127.1/token', 'http://[::1]:5001/token', 'http://localhost:5001/token', 'http://LOCALHOST/token']) {
      expect(tokenRealm(realm, true).protocol).toBe('http:');
    }
  });

  it('refuses plain http to any other host when there are credentials to send, naming it', () => {
    for (const realm of ['http://registry.lab/token', 'http://10.0.0.1:5001/token', 'http://127.0.0.1.example.com/token', 'http://localhost.example.com/token', 'http://[::ffff:7f00:1]/token', 'http://[::2]/token']) {
      expect(() => tokenRealm(realm, true)).toThrow(`refusing to send credentials to the token server ${new URL(realm).origin} over plain http`);
    }
  });

  it('lets an anonymous client ask any http token server: it has no secret to give away', () => {
    expect(tokenRealm('http://registry.lab/token', false).host).toBe('registry.lab');
  });

  it('refuses what is not an http or https URL', () => {
    expect(() => tokenRealm('/token', true)).toThrow('the registry names a token server that is not a URL: "/token"');
    expect(() => tokenRealm('file:///etc/passwd', false)).toThrow('not http or https: file:///etc/passwd');
  });
});
