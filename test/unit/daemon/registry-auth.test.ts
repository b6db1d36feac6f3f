// X-Registry-Auth as the docker CLI sends it with a pull: base64 of its login's JSON, e30= ({}) when anonymous.
import { describe, expect, it } from 'vitest';
import { registryAuth } from '../../../src/daemon/registry-auth.js';

const header = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('registryAuth', () => {
  it('reads a user name and password, or an "auth" pair, and nothing from {} or no header', () => {
    expect(registryAuth(undefined)).toBeUndefined();
    expect(registryAuth('e30=')).toBeUndefined();
    expect(registryAuth(header({ username: 'capuser', password: 'se:cret', serveraddress: '127.0.0.1:5000' }))).toEqual({ username: 'capuser', password: 'se:cret' });
    expect(registryAuth(header({ auth: Buffer.from('capuser:se:cret').toString('base64') }))).toEqual({ username: 'capuser', password: 'se:cret' });
  });

  it('refuses what is not base64 of JSON, a password without its user, and a token', () => {
    expect(() => registryAuth('not json')).toThrow('X-Registry-Auth is not base64 of a JSON object');
    expect(() => registryAuth(header({ password: 'secret' }))).toThrow('X-Registry-Auth.username and its password go together');
    expect(() => registryAuth(header({ auth: Buffer.from('no-colon').toString('base64') }))).toThrow('X-Registry-Auth.auth is not base64 of "user:password"');
    expect(() => registryAuth(header({ identitytoken: 'abc' }))).toThrow('with a token yet');
  });
});
