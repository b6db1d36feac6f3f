// seccomp_export_bpf: libseccomp compiles a resolved filter to classic BPF. Nothing in tsrun loads
// the program yet, so a short Python script loads it into itself (prctl(PR_SET_SECCOMP)) and tries
// system calls: the kernel's answers, not our reading of the rules. Nothing is mounted or created:
// the calls that would change something are the ones that must be refused.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { realSyscalls } from '../../src/kernel/native.js';
import { defaultSeccompProfile, resolveSeccompProfile } from '../../src/security/seccomp.js';
import type { SeccompFilter } from '../../src/kernel/seccomp.js';

const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const host = { capabilities: DOCKER_CAPS, arch: os.machine(), kernel: os.release() };

// Loads the program from stdin into this process, then makes each call and prints what came back.
// x86-64 system call numbers; each call is harmless if it does get through.
const TRY_CALLS = String.raw`
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
program = sys.stdin.buffer.read()
class SockFprog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_char_p)]
fprog = SockFprog(len(program) // 8, program)
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0):
    sys.exit('prctl: ' + os.strerror(ctypes.get_errno()))
def call(nr, *args):
    result = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    if result < 0:
        return __import__('errno').errorcode[ctypes.get_errno()]
    if nr == 41: os.close(result)
    return 'ok'
results = {
    'getpid': call(39),
    'socket(AF_INET)': call(41, 2, 1, 0),
    'socket(AF_ALG)': call(41, 38, 5, 0),
    'socket(AF_VSOCK)': call(41, 40, 1, 0),
    'personality(query)': call(135, 0xffffffff),
    'personality(ADDR_NO_RANDOMIZE)': call(135, 0x0040000),
    'unshare(CLONE_NEWUTS)': call(272, 0x04000000),
    'umount2': call(166, ctypes.cast(ctypes.c_char_p(b'/nonexistent-tsrun'), ctypes.c_void_p).value, 0),
    'keyctl': call(250, 0, -3, 0),
    'clone3': call(435, 0, 0),
}
pid = os.fork()
if pid == 0:
    os._exit(0)
results['fork'] = 'ok' if os.waitpid(pid, 0)[1] == 0 else 'failed'
print(json.dumps(results))
`;

function tryCalls(program: Buffer): Record<string, string> {
  const python = spawnSync('python3', ['-c', TRY_CALLS], { input: program, encoding: 'utf8' });
  expect(python.stderr).toBe('');
  return JSON.parse(python.stdout);
}

describe('seccomp_export_bpf', () => {
  const filter = resolveSeccompProfile(defaultSeccompProfile(), host);

  it('compiles the default profile to a BPF program that starts by checking the architecture', () => {
    const program = realSyscalls.seccomp_export_bpf(filter);
    expect(program.length).toBeGreaterThan(0);
    expect(program.length % 8).toBe(0); // struct sock_filter: u16 code, u8 jt, u8 jf, u32 k
    // First instruction: BPF_LD | BPF_W | BPF_ABS of offsetof(struct seccomp_data, arch).
    expect([program.readUInt16LE(0), program.readUInt32LE(4)]).toEqual([0x20, 4]);
    // Every architecture in the filter costs instructions: without i386 and x32 the program is shorter.
    expect(realSyscalls.seccomp_export_bpf({ ...filter, architectures: [filter.architectures[0]!] }).length).toBeLessThan(program.length);
  });

  it.runIf(os.machine() === 'x86_64')('makes the kernel refuse what Docker refuses, and allow the ordinary', () => {
    expect(tryCalls(realSyscalls.seccomp_export_bpf(filter))).toEqual({
      'getpid': 'ok',
      'socket(AF_INET)': 'ok',
      'socket(AF_ALG)': 'EPERM', // without the filter: EAFNOSUPPORT here, or a socket
      'socket(AF_VSOCK)': 'EPERM',
      'personality(query)': 'ok',
      'personality(ADDR_NO_RANDOMIZE)': 'EPERM',
      'unshare(CLONE_NEWUTS)': 'EPERM',
      'umount2': 'EPERM', // without the filter: ENOENT
      'keyctl': 'EPERM',
      'clone3': 'ENOSYS',
      'fork': 'ok', // glibc's fork is clone without namespace flags
    });
  });

  it.runIf(os.machine() === 'x86_64')('turns two comparisons of one argument into two rules, either of which allows (as runc)', () => {
    const twoComparisons: SeccompFilter = {
      ...filter,
      rules: [...filter.rules.filter((rule) => !rule.names.includes('socket')), {
        names: ['socket'], action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value: 38, valueTwo: 0, op: 'SCMP_CMP_NE' }, { index: 0, value: 40, valueTwo: 0, op: 'SCMP_CMP_NE' }],
      }],
    };
    // 'not AF_ALG' or 'not AF_VSOCK' lets both through (to the kernel, which may not offer them: not EPERM,
    // but perhaps EAFNOSUPPORT). Why Docker's profile says it with three ranges.
    const results = tryCalls(realSyscalls.seccomp_export_bpf(twoComparisons));
    expect(results['socket(AF_ALG)']).not.toBe('EPERM');
    expect(results['socket(AF_VSOCK)']).not.toBe('EPERM');
  });

  it('skips names libseccomp does not know, and reports a rule it refuses as a Node-shaped error', () => {
    const base: SeccompFilter = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrno: 1, architectures: ['SCMP_ARCH_X86_64'], rules: [] };
    const unknown = realSyscalls.seccomp_export_bpf({ ...base, rules: [{ names: ['no_such_call'], action: 'SCMP_ACT_ALLOW', args: [] }] });
    expect(unknown).toEqual(realSyscalls.seccomp_export_bpf(base));
    const badRule = { ...base, rules: [{ names: ['mount'], action: 'SCMP_ACT_ALLOW' as const, args: [{ index: 6, value: 0, valueTwo: 0, op: 'SCMP_CMP_EQ' as const }] }] };
    expect(() => realSyscalls.seccomp_export_bpf(badRule)).toThrow(expect.objectContaining({
      code: 'EINVAL', errno: -22, syscall: 'seccomp_rule_add', path: 'mount', message: 'seccomp_rule_add mount: EINVAL (Invalid argument)',
    }));
  });
});
