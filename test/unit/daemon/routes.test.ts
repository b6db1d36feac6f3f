// What the daemon does before any handler: the version taken off the path, the route found, --host read,
// and an error turned into the status code the docker CLI acts on.
import { describe, expect, it } from 'vitest';
import { HIJACKED_ROUTES, ROUTES, match, unversioned } from '../../../src/daemon/routes.js';
import { parseHost } from '../../../src/daemon/server.js';
import { ApiError, statusOf } from '../../../src/daemon/http.js';
import { TsrunError, fail } from '../../../src/errors.js';

describe('the daemon\'s routes', () => {
  it('serves every API version, and paths without one', () => {
    expect(unversioned('/v1.41/containers/json')).toBe('/containers/json');
    expect(unversioned('/v1.50/containers/json')).toBe('/containers/json');
    expect(unversioned('/_ping')).toBe('/_ping');
    expect(unversioned('/v1.41')).toBe('/v1.41'); // a version and nothing after it is no path
  });

  it('finds the handler and the path\'s parts by method and path', () => {
    expect(match(ROUTES, 'POST', '/containers/abc/start')).toMatchObject({ route: { path: '/containers/{id}/start' }, params: { id: 'abc' } });
    expect(match(ROUTES, 'DELETE', '/containers/my%2Dname')).toMatchObject({ params: { id: 'my-name' } });
    expect(match(ROUTES, 'GET', '/containers/abc/start')).toBeUndefined();
    expect(match(ROUTES, 'POST', '/containers//start')).toBeUndefined();
    expect(match(ROUTES, 'GET', '/containers/%E0%A4%A/json')).toBeUndefined(); // a malformed escape names nothing
    expect(match(ROUTES, 'POST', '/containers/create')).toMatchObject({ route: { path: '/containers/create' }, params: {} });
    expect(match(ROUTES, 'POST', '/containers/abc/attach')).toBeUndefined();
    expect(match(HIJACKED_ROUTES, 'POST', '/containers/abc/attach')).toMatchObject({ params: { id: 'abc' } });
    // An exec's start is hijacked, unless it is detached (docker exec -d): then it is a plain request.
    expect(match(HIJACKED_ROUTES, 'POST', '/exec/e1/start')).toMatchObject({ route: { path: '/exec/{id}/start' }, params: { id: 'e1' } });
    expect(match(ROUTES, 'POST', '/exec/e1/start')).toMatchObject({ route: { path: '/exec/{id}/start' }, params: { id: 'e1' } });
  });

  it('takes an image\'s name with its slashes and colons, as the CLI puts it in the path', () => {
    expect(match(ROUTES, 'DELETE', '/images/127.0.0.1:5000/demo/tagged:1')).toMatchObject({ route: { path: '/images/{name*}' }, params: { name: '127.0.0.1:5000/demo/tagged:1' } });
    expect(match(ROUTES, 'GET', '/images/127.0.0.1:5000/demo/tagged:1/json')).toMatchObject({ route: { path: '/images/{name*}/json' }, params: { name: '127.0.0.1:5000/demo/tagged:1' } });
    expect(match(ROUTES, 'POST', '/images/busybox/tag')).toMatchObject({ params: { name: 'busybox' } });
    expect(match(ROUTES, 'GET', '/images/json')).toMatchObject({ route: { path: '/images/json' }, params: {} });
    expect(match(ROUTES, 'GET', '/images//json')).toBeUndefined();
    expect(match(ROUTES, 'GET', '/images/a//b/json')).toBeUndefined();
  });

  it('listens on a unix socket, one systemd passes, or on TCP on loopback only', () => {
    expect(parseHost('unix:///run/tsrun/tsrun.sock')).toEqual({ kind: 'unix', path: '/run/tsrun/tsrun.sock' });
    expect(parseHost('fd://')).toEqual({ kind: 'systemd' });
    expect(parseHost('tcp://127.0.0.1:2375')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 2375 });
    expect(parseHost('tcp://[::1]:2375')).toEqual({ kind: 'tcp', host: '::1', port: 2375 });
    expect(() => parseHost('tcp://0.0.0.0:2375')).toThrow(/loopback address only/);
    expect(() => parseHost('tcp://127.0.0.1:99999')).toThrow(/loopback address only/);
    expect(() => parseHost('unix://relative.sock')).toThrow(/must be absolute/);
    expect(() => parseHost('/run/tsrun/tsrun.sock')).toThrow(/invalid --host/);
  });

  it('answers a command that cannot start with 400, keeping its words; other failures of tsrun with 500', () => {
    expect(statusOf(new ApiError(404, 'No such container: x'))).toBe(404);
    expect(statusOf(new TsrunError('exec: "x": executable file not found in $PATH', { kind: 'not-found' }))).toBe(400);
    expect(statusOf(new TsrunError('exec: "/etc/passwd": permission denied', { kind: 'cannot-exec' }))).toBe(400);
    expect(statusOf(fail('start container: step 3 of 40 (mount): EINVAL'))).toBe(500);
    expect(statusOf(new Error('EIO'))).toBe(500);
  });
});
