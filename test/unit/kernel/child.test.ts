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
});
