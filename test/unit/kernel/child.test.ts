// Who failed, said by the exit code, as Docker says it: no root needed to check the mapping itself.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { stepError } from '../../../src/kernel/child.js';
import type { ChildStep } from '../../../src/kernel/steps.js';

const steps: ChildStep[] = [
  { op: 'chdir', path: '/nope' },
  { op: 'execve', file: 'ls', search: ['/bin'], argv: ['ls'], envp: [] },
];
const { ENOENT, EACCES, ENOEXEC, EPERM } = os.constants.errno;

describe('stepError', () => {
  it('makes a command that is not found 127, and one found but not runnable 126', () => {
    expect(stepError({ step: 1, errno: ENOENT }, steps, 'ls')).toMatchObject({ exitCode: 127, message: 'exec: "ls": executable file not found in $PATH' });
    expect(stepError({ step: 1, errno: ENOENT }, steps, '/bin/ls')).toMatchObject({ exitCode: 127, message: 'exec: "/bin/ls": no such file or directory' });
    expect(stepError({ step: 1, errno: EACCES }, steps, 'ls')).toMatchObject({ exitCode: 126, message: 'exec: "ls": permission denied' });
    expect(stepError({ step: 1, errno: ENOEXEC }, steps, 'ls')).toMatchObject({ exitCode: 126, message: 'exec: "ls": exec format error' });
  });

  it('makes any other step\'s failure tsrun\'s own, 125, naming the step', () => {
    expect(stepError({ step: 0, errno: ENOENT }, steps, 'ls')).toMatchObject({ exitCode: 125, message: 'start container: step 1 of 2 (chdir /nope): ENOENT' });
    expect(stepError({ step: -1, errno: EPERM }, steps, 'ls')).toMatchObject({ exitCode: 125, message: 'start container: preparing the child: EPERM' });
  });

  it('tells how a hook failed: its exit status, its signal, its timeout, or why it could not run', () => {
    const hook: ChildStep = { op: 'run_hook', name: 'createContainer', path: '/bin/hook', argv: ['hook'], envp: [], timeout: 2, state: '{}' };
    const told = (errno: number) => stepError({ step: 0, errno }, [hook], 'ls').message;
    expect(told(-(3 << 8))).toBe('createContainer hook /bin/hook: exit status 3');
    expect(told(-9)).toBe('createContainer hook /bin/hook: killed by SIGKILL');
    expect(told(os.constants.errno.ETIMEDOUT)).toBe('createContainer hook /bin/hook: timed out after 2 s');
    expect(told(ENOENT)).toBe('createContainer hook /bin/hook: ENOENT');
    expect(stepError({ step: 0, errno: ENOENT }, [hook], 'ls').exitCode).toBe(125);
  });
});
