import { describe, expect, it } from 'vitest';
import { daemonHost, parseDaemonAddress } from '../../../../src/cli/client/host.js';
import { TsrunError } from '../../../../src/errors.js';

describe('daemonHost', () => {
  it('takes --host first, then TSRUN_HOST, then DOCKER_HOST', () => {
    const env = { TSRUN_HOST: 'unix:///tsrun.sock', DOCKER_HOST: 'unix:///docker.sock' };
    expect(daemonHost(['--host', 'unix:///flag.sock', 'ps'], env)).toEqual({ host: 'unix:///flag.sock', args: ['ps'] });
    expect(daemonHost(['-H', 'unix:///flag.sock', 'ps', '-a'], env)).toEqual({ host: 'unix:///flag.sock', args: ['ps', '-a'] });
    expect(daemonHost(['--host=unix:///flag.sock', 'ps'], env)).toEqual({ host: 'unix:///flag.sock', args: ['ps'] });
    expect(daemonHost(['ps'], env)).toEqual({ host: 'unix:///tsrun.sock', args: ['ps'] });
    expect(daemonHost(['ps'], { DOCKER_HOST: 'unix:///docker.sock' })).toEqual({ host: 'unix:///docker.sock', args: ['ps'] });
    expect(daemonHost(['ps'], { TSRUN_HOST: '', DOCKER_HOST: 'unix:///docker.sock' })).toEqual({ host: 'unix:///docker.sock', args: ['ps'] });
  });

  it('names no daemon when nothing is set: the command runs in this process', () => {
    expect(daemonHost(['run', '--rm', 'demo'], {})).toBeUndefined();
  });

  it('leaves the daemon itself, its callbacks and the lessons in this process', () => {
    const env = { DOCKER_HOST: 'unix:///docker.sock' };
    expect(daemonHost(['daemon', '--host', 'unix:///x.sock'], env)).toBeUndefined();
    expect(daemonHost(['container-exited', 'abc'], env)).toBeUndefined();
    expect(daemonHost(['lesson', 'daemon'], env)).toBeUndefined();
    // A --host after the command is that command's own (only `daemon` has one).
    expect(daemonHost(['ps', '--host', 'unix:///x.sock'], {})).toBeUndefined();
  });
});

describe('parseDaemonAddress', () => {
  it('reads unix sockets and TCP ports as DOCKER_HOST spells them', () => {
    expect(parseDaemonAddress('unix:///run/tsrun/tsrun.sock')).toEqual({ kind: 'unix', path: '/run/tsrun/tsrun.sock', text: 'unix:///run/tsrun/tsrun.sock' });
    expect(parseDaemonAddress('tcp://127.0.0.1:2375')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 2375, text: 'tcp://127.0.0.1:2375' });
    expect(parseDaemonAddress('tcp://[::1]:2375')).toMatchObject({ kind: 'tcp', host: '::1', port: 2375 });
  });

  it('refuses anything else, saying how to write it and how to do without a daemon', () => {
    for (const text of ['', 'unix://relative.sock', '/run/tsrun/tsrun.sock', 'tcp://127.0.0.1', 'tcp://127.0.0.1:99999', 'ssh://host', 'fd://']) {
      const error = (() => { try { parseDaemonAddress(text); } catch (e) { return e; } })();
      expect(error, text).toBeInstanceOf(TsrunError);
      expect((error as TsrunError).exitCode).toBe(125);
      expect((error as TsrunError).hint).toMatch(/unix:\/\/\/run\/tsrun\/tsrun\.sock.*unset TSRUN_HOST and DOCKER_HOST/);
    }
  });
});
