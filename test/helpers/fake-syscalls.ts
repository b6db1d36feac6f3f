// A Syscalls double that records every call and performs none, so stage logic
// is tested without root. Calls that must answer something answer harmlessly.
import fs from 'node:fs';
import type { Syscalls } from '../../src/kernel/syscalls.js';

export interface RecordedCall { name: keyof Syscalls; args: unknown[] }

export function fakeSyscalls(overrides: Partial<Syscalls> = {}): Syscalls & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const record = <K extends keyof Syscalls>(name: K, answer: (...args: any[]) => any) =>
    (...args: unknown[]) => { calls.push({ name, args }); return answer(...args); };
  const sys: Syscalls = {
    mount: record('mount', () => undefined),
    umount2: record('umount2', () => undefined),
    mknod: record('mknod', () => undefined),
    // Opens for real, through the directory's /proc/self/fd link, without the resolve rules: tests read their own files.
    openat2: record('openat2', (dirfd: number, file: string) => fs.openSync(`/proc/self/fd/${dirfd}/${file}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)),
    lsetxattr: record('lsetxattr', () => undefined),
    lgetxattr: record('lgetxattr', () => null),
    llistxattr: record('llistxattr', () => []),
    flock: record('flock', () => true),
    spawn: record('spawn', () => { throw new Error('fakeSyscalls: spawn is not faked'); }),
    encodeSpawn: record('encodeSpawn', () => Buffer.alloc(0)),
    waitpid: record('waitpid', () => Promise.resolve({ code: 0, signal: null })),
    recvfd: record('recvfd', () => -1),
    ioctl_TIOCSWINSZ: record('ioctl_TIOCSWINSZ', () => undefined),
    tcgetattr: record('tcgetattr', () => Buffer.alloc(60)),
    tcsetattr: record('tcsetattr', () => undefined),
    cfmakeraw: record('cfmakeraw', (settings: Buffer) => Buffer.from(settings)),
    // One instruction, BPF_RET | BPF_K SECCOMP_RET_ALLOW: the shape of a program, not a real filter.
    seccomp_export_bpf: record('seccomp_export_bpf', () => Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f])),
    // A real fd, so the caller can close it as it would a program's.
    bpf_prog_load: record('bpf_prog_load', () => fs.openSync('/dev/null', 'r')),
    bpf_prog_attach: record('bpf_prog_attach', () => undefined),
    ...overrides,
  };
  return Object.assign(sys, { calls });
}
