import { describe, expect, it } from 'vitest';
import { containerCommandAt, markCommandTail } from '../../../src/cli/command-tail.js';
import { parsePlainExec, parsePlainPull, parsePlainRun } from '../../../src/cli/plain-run.js';

const shapes = [
  { name: 'run', valueOptions: new Set(['env', 'e', 'name', 'workdir', 'w', 'user', 'u', 'hostname', 'h', 'entrypoint', 'env-file']) },
  { name: 'exec', valueOptions: new Set(['env', 'e', 'workdir', 'w', 'user', 'u']) },
];
const mark = (args: string[]) => markCommandTail(args, shapes, new Set(['root']));

describe('markCommandTail', () => {
  it('puts -- right after the image, so the command keeps its own flags', () => {
    expect(mark(['run', '--rm', '-e', 'A=1', 'demo', 'ls', '-l'])).toEqual(['run', '--rm', '-e', 'A=1', 'demo', '--', 'ls', '-l']);
    expect(mark(['--root', '/x', 'run', '-it', '--name=web', 'demo'])).toEqual(['--root', '/x', 'run', '-it', '--name=web', 'demo', '--']);
    expect(mark(['run', '-u', 'student', 'demo', 'id', '-u'])).toEqual(['run', '-u', 'student', 'demo', '--', 'id', '-u']);
  });

  it('leaves other commands and already-marked lines alone', () => {
    expect(mark(['ps', '-a'])).toEqual(['ps', '-a']);
    expect(mark(['run', 'demo', '--', 'x'])).toEqual(['run', 'demo', '--', 'x']);
    expect(mark(['run', '--rm'])).toEqual(['run', '--rm']);
  });
});

describe('containerCommandAt', () => {
  it('finds where the container\'s command begins, after the image', () => {
    const at = (args: string[]) => containerCommandAt(args, shapes, new Set(['root']));
    expect(at(['run', '--rm', '-e', 'A=1', 'demo', 'env', '-e', 'B=2'])).toBe(5);
    expect(at(['--root', '/x', 'exec', '-e', 'A=1', 'web', 'env'])).toBe(6);
    expect(at(['run', '-it', 'demo'])).toBe(3); // none given: the image's CMD
    expect(at(['run', '--rm'])).toBe(-1);
    expect(at(['login', '-p', 'x', 'registry.example'])).toBe(-1);
  });
});

describe('parsePlainRun', () => {
  it('parses a plain run with the same options yargs would', () => {
    const argv = parsePlainRun(mark(['run', '--rm', '-it', '-e', 'A=1', '--env', 'B=2', '-w', '/tmp', '--name', 'web', 'demo', 'sh', '-c', 'echo hi']))!;
    expect(argv).toMatchObject({
      rm: true, interactive: true, tty: true, env: ['A=1', 'B=2'], workdir: '/tmp', name: 'web', image: 'demo',
      _: ['run', 'sh', '-c', 'echo hi'], 'env-file': [],
    });
  });

  it('keeps numbers in the command as strings', () => {
    expect(parsePlainRun(mark(['run', 'demo', 'sleep', '10']))!._).toEqual(['run', 'sleep', '10']);
  });

  it('names an unknown flag, as docker does', () => {
    expect(() => parsePlainRun(mark(['run', '--bogus', 'demo']))).toThrow(/unknown flag: --bogus/);
    expect(() => parsePlainRun(mark(['run', '-x', 'demo']))).toThrow(/unknown flag: -x/);
  });

  it('hands help, other commands and incomplete lines to yargs', () => {
    expect(parsePlainRun(mark(['run', '--help']))).toBeUndefined();
    expect(parsePlainRun(mark(['ps', '-a']))).toBeUndefined();
    expect(parsePlainRun(mark(['run', '--rm']))).toBeUndefined();
  });
});

describe('parsePlainPull', () => {
  it('parses a plain pull with the pull command\'s own options, and leaves anything else to yargs', () => {
    expect(parsePlainPull(['pull', '-q', '--platform', 'linux/arm64', 'busybox'])).toEqual({ root: undefined, reference: 'busybox', platform: 'linux/arm64', quiet: true });
    expect(parsePlainPull(['pull', 'busybox'])).toEqual({ root: undefined, reference: 'busybox', platform: undefined, quiet: false });
    expect(parsePlainPull(['pull', '--help'])).toBeUndefined();
    expect(parsePlainPull(['pull', '--bogus', 'busybox'])).toBeUndefined();
    expect(parsePlainPull(['pull'])).toBeUndefined();
    expect(parsePlainPull(['pull', 'a', 'b'])).toBeUndefined();
    expect(parsePlainPull(['push', 'busybox'])).toBeUndefined();
  });
});

describe('parsePlainExec', () => {
  it('parses a plain exec with its own options, the words after the container being the command\'s', () => {
    expect(parsePlainExec(mark(['exec', '-e', 'A=1', '-u', 'student', 'box', 'ls', '-l']))).toMatchObject({ container: 'box', env: ['A=1'], user: 'student', _: ['exec', 'ls', '-l'] });
    expect(parsePlainExec(mark(['exec', 'box']))).toBeUndefined(); // no command: yargs explains
    expect(parsePlainExec(mark(['exec', '--help']))).toBeUndefined();
    expect(parsePlainExec(mark(['exec', '--bogus', 'box', 'true']))).toBeUndefined();
  });
});
