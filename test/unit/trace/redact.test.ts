import { describe, expect, it } from 'vitest';
import { redactArgs, withoutPassword } from '../../../src/trace/redact.js';

/** The words of a run (or another command) with no container command to keep. */
const redact = (...args: string[]) => redactArgs(args);

describe('redactArgs', () => {
  it('keeps the name of an -e/--env variable and hides its value, in every way the flag is written', () => {
    expect(redact('run', '-e', 'DB_PASSWORD=hunter2', 'demo')).toEqual(['run', '-e', 'DB_PASSWORD=<redacted>', 'demo']);
    expect(redact('run', '--env', 'DB_PASSWORD=hunter2', 'demo')).toEqual(['run', '--env', 'DB_PASSWORD=<redacted>', 'demo']);
    expect(redact('run', '--env=DB_PASSWORD=hunter2', 'demo')).toEqual(['run', '--env=DB_PASSWORD=<redacted>', 'demo']);
    expect(redact('run', '-eDB_PASSWORD=hunter2', 'demo')).toEqual(['run', '-eDB_PASSWORD=<redacted>', 'demo']);
    expect(redact('run', '-e=DB_PASSWORD=hunter2', 'demo')).toEqual(['run', '-e=DB_PASSWORD=<redacted>', 'demo']);
    expect(redact('run', '-ite', 'DB_PASSWORD=hunter2', 'demo')).toEqual(['run', '-ite', 'DB_PASSWORD=<redacted>', 'demo']);
    expect(redact('run', '-ieDB_PASSWORD=hunter2', 'demo')).toEqual(['run', '-ieDB_PASSWORD=<redacted>', 'demo']);
    expect(redact('create', '--env.DB_PASSWORD=hunter2', 'demo')).toEqual(['create', '--env.DB_PASSWORD=<redacted>', 'demo']);
    expect(redact('exec', '-e', 'DB_PASSWORD=hunter2', 'web', 'env')).toEqual(['exec', '-e', 'DB_PASSWORD=<redacted>', 'web', 'env']);
  });

  it('keeps a bare -e KEY (its value comes from tsrun\'s own environment) and an --env-file\'s name', () => {
    expect(redact('run', '-e', 'HOME', '--env-file', 'secrets.env', '--env-file=more.env', 'demo'))
      .toEqual(['run', '-e', 'HOME', '--env-file', 'secrets.env', '--env-file=more.env', 'demo']);
  });

  it('hides a value whose name is missing, and one that follows a second -e', () => {
    expect(redact('run', '-e', '=hunter2', 'demo')).toEqual(['run', '-e', '=<redacted>', 'demo']);
    expect(redact('run', '-e', '-e', 'A=hunter2', 'demo')).toEqual(['run', '-e', '-e', 'A=<redacted>', 'demo']);
    expect(redact('run', '-e', '--name=hunter2', 'demo')).toEqual(['run', '-e', '--name=<redacted>', 'demo']);
  });

  it('hides -e values whatever the command is called, a mistyped one too', () => {
    expect(redact('rnu', '-e', 'A=hunter2')).toEqual(['rnu', '-e', 'A=<redacted>']);
  });

  it('hides all of login\'s password, and keeps the user name and the registry', () => {
    expect(redact('login', '-u', 'ada', '-p', 'hunter2', 'registry.example')).toEqual(['login', '-u', 'ada', '-p', '<redacted>', 'registry.example']);
    expect(redact('login', '--password', 'hunter2')).toEqual(['login', '--password', '<redacted>']);
    expect(redact('login', '--password=hunter2')).toEqual(['login', '--password=<redacted>']);
    expect(redact('login', '-phunter2')).toEqual(['login', '-p<redacted>']);
    expect(redact('login', '-p=hunter2')).toEqual(['login', '-p=<redacted>']);
    expect(redact('--root', '/x', 'login', '-p', 'hunter2')).toEqual(['--root', '/x', 'login', '-p', '<redacted>']);
    expect(redact('login', '-u', 'ada', '--password-stdin', 'registry.example')).toEqual(['login', '-u', 'ada', '--password-stdin', 'registry.example']);
    expect(redact('logn', '-p', 'hunter2')).toEqual(['logn', '-p', '<redacted>']);
  });

  it('keeps run\'s and create\'s -p, which publishes a port', () => {
    expect(redact('run', '-p', '8080:80', '-p127.0.0.1:53:53/udp', 'demo')).toEqual(['run', '-p', '8080:80', '-p127.0.0.1:53:53/udp', 'demo']);
    expect(redact('create', '--publish', '8080:80', 'demo')).toEqual(['create', '--publish', '8080:80', 'demo']);
  });

  it('keeps other flags and their values', () => {
    const args = ['--root', '/var/lib/x', '--trace=out.json', 'run', '--rm', '-it', '--name', 'web', '-v', '/srv:/data:ro',
      '--mount', 'type=tmpfs,target=/t', '--ulimit', 'nofile=1024:2048', '-w', '/app', '-h', 'hello', 'demo'];
    expect(redactArgs(args)).toEqual(args);
  });

  it('leaves the container\'s command as typed, even where it says -e or --password', () => {
    const args = ['run', '-e', 'A=1', 'demo', 'env', '-e', 'B=2', '--password', 'x'];
    expect(redactArgs(args, 4)).toEqual(['run', '-e', 'A=<redacted>', 'demo', 'env', '-e', 'B=2', '--password', 'x']);
  });

  it('hides a password written into an address before the container\'s command', () => {
    expect(redact('login', 'https://ada:hunter2@registry.example')).toEqual(['login', 'https://ada:<redacted>@registry.example']);
    expect(redact('pull', 'ada:hunter2@registry.example/team/app')).toEqual(['pull', 'ada:<redacted>@registry.example/team/app']);
  });
});

describe('withoutPassword', () => {
  it('hides the password of user:password@, with a scheme or without', () => {
    expect(withoutPassword('https://ada:hunter2@registry.example:5000/v2/')).toBe('https://ada:<redacted>@registry.example:5000/v2/');
    expect(withoutPassword('ada:hunter2@registry.example')).toBe('ada:<redacted>@registry.example');
    expect(withoutPassword('ada:hunter2@registry.example:5000/app')).toBe('ada:<redacted>@registry.example:5000/app');
  });

  it('leaves references alone: a port, a tag, a digest, a tag and a digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    for (const reference of ['localhost:5000/app:v1', 'busybox:1.36', `busybox@${digest}`, `busybox:1.36@${digest}`,
      `localhost:5000/team/app:v1@${digest}`, 'ada@registry.example', 'https://registry.example/v2/']) {
      expect(withoutPassword(reference)).toBe(reference);
    }
  });
});
