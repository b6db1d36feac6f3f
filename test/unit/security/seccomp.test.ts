import { describe, expect, it } from 'vitest';
import { TsrunError, formatError } from '../../../src/errors.js';
import {
  defaultSeccompProfile, parseSeccompProfile, refusedSyscalls, resolveSeccompProfile,
  type SeccompContext,
} from '../../../src/security/seccomp.js';
import type { SeccompFilter } from '../../../src/kernel/seccomp.js';

/** Docker's default capabilities (moby's oci/caps/defaults.go): what `docker run` gives a container. */
const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const HOST: SeccompContext = { capabilities: DOCKER_CAPS, arch: 'x86_64', kernel: '6.18.0-1-amd64' };

/** Well-known system calls a container should not make, and a few it should be told about. */
const DANGEROUS = [
  'keyctl', 'add_key', 'request_key', 'bpf', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module',
  'delete_module', 'mount', 'umount2', 'fsopen', 'move_mount', 'open_tree', 'unshare', 'setns', 'clone', 'clone3',
  'reboot', 'swapon', 'swapoff', 'acct', 'ptrace', 'process_vm_readv', 'kcmp', 'pidfd_getfd', 'open_by_handle_at',
  'name_to_handle_at', 'pivot_root', 'chroot', 'iopl', 'ioperm', 'clock_settime', 'settimeofday', 'perf_event_open',
  'userfaultfd', 'io_uring_setup', 'syslog', 'sethostname', 'quotactl', 'lookup_dcookie', 'fanotify_init', 'vhangup',
  'set_mempolicy', 'personality', 'socket', 'uselib', 'nfsservctl',
];
const ORDINARY = [
  'read', 'write', 'openat', 'close', 'execve', 'fork', 'vfork', 'wait4', 'mkdir', 'rename', 'unlink', 'mmap', 'brk',
  'futex', 'rt_sigaction', 'connect', 'bind', 'sendmsg', 'getrandom', 'arch_prctl', 'capset', 'prctl', 'seccomp',
];

/** A refusal in one short line: 'mount EPERM', 'clone3 ENOSYS', 'clone conditional'. */
function refusals(filter: SeccompFilter, names: string[]): string[] {
  const errnoNames: Record<number, string> = { 1: 'EPERM', 38: 'ENOSYS' };
  return refusedSyscalls(filter, names).map((fate) =>
    fate.action === 'conditional' ? `${fate.name} conditional`
      : `${fate.name} ${fate.action === 'SCMP_ACT_ERRNO' ? errnoNames[fate.errno!] ?? fate.errno : fate.action}`);
}

/** The message of what `fn` throws, which must be a TsrunError (exit 125) of one line. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TsrunError);
    expect((error as TsrunError).exitCode).toBe(125);
    expect(formatError(error)).not.toContain('\n');
    return (error as TsrunError).message;
  }
  throw new Error('did not throw');
}

describe('parseSeccompProfile', () => {
  it('reads Docker\'s format: archMap, names, args, errnoRet, includes and excludes', () => {
    const profile = parseSeccompProfile(JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      defaultErrno: 'ENOSYS', // podman's own field: Docker ignores it, and so does tsrun
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }, { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null }],
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', comment: 'the basics' },
        { name: 'socket', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
        { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
        { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] }, excludes: {} },
      ],
    }), './p.json');
    expect(profile).toEqual({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }, { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: [] }],
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [], comment: 'the basics' },
        { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, valueTwo: 0, op: 'SCMP_CMP_NE' }] },
        { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [], excludes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', args: [], includes: { minKernel: '4.8' } },
        { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', args: [], includes: { arches: ['amd64', 'x32'] }, excludes: {} },
      ],
    });
  });

  it('says in one line what is wrong and where', () => {
    const profile = (rules: unknown[], rest: object = {}) =>
      JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', archMap: [], ...rest, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, ...rules] });
    const cases: Array<[string, string]> = [
      ['{"defaultAction": "SCMP_ACT_ERRNO",', 'seccomp profile ./p.json: not valid JSON ('],
      // V8 quotes the text around the mistake, a line break too: told on one line.
      ['x\ny', 'seccomp profile ./p.json: not valid JSON (Unexpected token \'x\', "x y" is not valid JSON)'],
      [profile([{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['a\nb'] } }]),
        'seccomp profile ./p.json: syscalls[1].includes.arches[0] "a\\nb" is not an architecture tsrun knows'],
      [profile([{ names: ['read'], action: 'SCMP_ACT_FOO' }]), 'seccomp profile ./p.json: syscalls[1].action "SCMP_ACT_FOO" is not an action tsrun knows'],
      [profile([{ names: ['read'] }]), 'seccomp profile ./p.json: syscalls[1].action undefined is not an action tsrun knows'],
      [profile([], { defaultAction: 'SCMP_ACT_NOTIFY' }), 'seccomp profile ./p.json: defaultAction "SCMP_ACT_NOTIFY" is not an action tsrun knows'],
      [profile([{ action: 'SCMP_ACT_ALLOW' }]), 'seccomp profile ./p.json: syscalls[1] has neither "name" nor "names"'],
      [profile([{ names: [], action: 'SCMP_ACT_ALLOW' }]), 'seccomp profile ./p.json: syscalls[1] has neither "name" nor "names"'],
      [profile([{ name: 'read', names: ['read'], action: 'SCMP_ACT_ALLOW' }]), 'seccomp profile ./p.json: syscalls[1] has both "name" and "names"'],
      [profile([{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NOT' }] }]),
        'seccomp profile ./p.json: syscalls[1].args[0].op "SCMP_CMP_NOT" is not a comparison tsrun knows'],
      [profile([{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 40, op: 'SCMP_CMP_NE' }] }]),
        'seccomp profile ./p.json: syscalls[1].args[0].index 6 is larger than 5'],
      [profile([{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: -1, op: 'SCMP_CMP_NE' }] }]),
        'seccomp profile ./p.json: syscalls[1].args[0].value must be a whole number, 0 or more'],
      // JSON.parse would read this as 18446744073709552000: refused rather than mangled.
      [profile([]).replace('"read"]', '"socket"], "args": [{"index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_MASKED_EQ"}]'),
        'seccomp profile ./p.json: syscalls[0].args[0].value is larger than 2^53 - 1, which tsrun cannot carry exactly'],
      [profile([{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 5000 }]), 'seccomp profile ./p.json: syscalls[1].errnoRet 5000 is larger than 4095'],
      [profile([], { archMap: [{ architecture: 'SCMP_ARCH_Z80', subArchitectures: [] }] }),
        'seccomp profile ./p.json: archMap[0].architecture "SCMP_ARCH_Z80" is not an architecture tsrun knows'],
      [profile([], { archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['x86'] }] }),
        'seccomp profile ./p.json: archMap[0].subArchitectures[0] "x86" is not an architecture tsrun knows'],
      [profile([{ names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['x86_64'] } }]),
        'seccomp profile ./p.json: syscalls[1].includes.arches[0] "x86_64" is not an architecture tsrun knows'],
      [profile([{ names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4' } }]),
        'seccomp profile ./p.json: syscalls[1].includes.minKernel "4" is not a kernel version like "4.8"'],
      [profile([{ names: ['ptrace'], action: 'SCMP_ACT_ALLOW', excludes: { caps: 'CAP_SYS_PTRACE' } }]),
        'seccomp profile ./p.json: syscalls[1].excludes.caps must be an array'],
      [profile([], { architectures: ['SCMP_ARCH_X86_64'], archMap: [] }), 'seccomp profile ./p.json: has both "architectures" and "archMap"'],
      [profile([], { flags: ['SECCOMP_FILTER_FLAG_LOG'] }), 'seccomp profile ./p.json: "flags" is not supported by tsrun'],
      ['[]', 'seccomp profile ./p.json: the profile must be an object'],
    ];
    for (const [text, message] of cases) expect(failure(() => parseSeccompProfile(text, './p.json'))).toContain(message);
  });

  it('reads tsrun\'s default profile', () => {
    const profile = defaultSeccompProfile();
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(profile.defaultErrnoRet).toBe(1);
    expect(profile.syscalls.every((rule) => rule.comment)).toBe(true); // every rule says why
  });
});

describe('resolveSeccompProfile', () => {
  const conditional = parseSeccompProfile(JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['both'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] } },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN', 'CAP_BPF'] } },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
      { names: ['cacheflush'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
      { names: ['not_on_arm'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['arm64'] } },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
      { names: ['old_only'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '5.10' } },
    ],
  }), 'test');
  const names = (context: Partial<SeccompContext>) =>
    resolveSeccompProfile(conditional, { ...HOST, capabilities: [], ...context }).rules.flatMap((rule) => rule.names);

  it('keeps a rule only if the container has all of its includes.caps and none of its excludes.caps', () => {
    expect(names({})).toEqual(['read', 'clone3', 'arch_prctl', 'not_on_arm', 'ptrace']);
    expect(names({ capabilities: ['CAP_SYS_ADMIN'] })).toEqual(['read', 'mount', 'arch_prctl', 'not_on_arm', 'ptrace']);
    expect(names({ capabilities: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] })).toContain('both');
    expect(names({ capabilities: ['CAP_BPF'] })).not.toContain('clone3');
  });

  it('matches includes.arches and excludes.arches against Docker\'s name for the host (x86_64 is amd64)', () => {
    expect(names({ arch: 'aarch64' })).toEqual(['read', 'clone3', 'cacheflush', 'ptrace']);
  });

  it('compares minKernel with the kernel\'s first two numbers only, as Docker does', () => {
    expect(names({ kernel: '4.7.10' }).filter((n) => n === 'ptrace' || n === 'old_only')).toEqual(['old_only']);
    expect(names({ kernel: '4.8-rc5' }).filter((n) => n === 'ptrace' || n === 'old_only')).toEqual(['ptrace', 'old_only']);
    expect(names({ kernel: '5.10.0-28-amd64' }).filter((n) => n === 'ptrace' || n === 'old_only')).toEqual(['ptrace']);
    expect(failure(() => names({ kernel: 'unknown' }))).toBe('seccomp: cannot read the kernel version from release "unknown"');
  });

  it('filters the native architecture and its sub-architectures, the native one first', () => {
    expect(resolveSeccompProfile(conditional, HOST).architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    // Not in the archMap: the native architecture alone, as libseccomp would filter anyway.
    expect(resolveSeccompProfile(conditional, { ...HOST, arch: 'aarch64' }).architectures).toEqual(['SCMP_ARCH_AARCH64']);
    const old = parseSeccompProfile('{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64"], "syscalls": []}', 'old');
    expect(resolveSeccompProfile(old, HOST).architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    expect(failure(() => resolveSeccompProfile(old, { ...HOST, arch: 'z80' }))).toBe('seccomp: tsrun does not know machine z80\'s seccomp architecture');
  });

  it('gives an errno to ERRNO and TRACE actions only, EPERM unless the profile says', () => {
    const profile = parseSeccompProfile(JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['a'], action: 'SCMP_ACT_ERRNO' }, { names: ['b'], action: 'SCMP_ACT_TRACE', errnoRet: 7 },
        { names: ['c'], action: 'SCMP_ACT_ALLOW', errnoRet: 7 }, { names: ['d'], action: 'SCMP_ACT_KILL' },
      ],
    }), 'test');
    expect(resolveSeccompProfile(profile, HOST)).toEqual({
      defaultAction: 'SCMP_ACT_ERRNO', defaultErrno: 1, architectures: ['SCMP_ARCH_X86_64'],
      rules: [
        { names: ['a'], action: 'SCMP_ACT_ERRNO', errno: 1, args: [] }, { names: ['b'], action: 'SCMP_ACT_TRACE', errno: 7, args: [] },
        { names: ['c'], action: 'SCMP_ACT_ALLOW', args: [] }, { names: ['d'], action: 'SCMP_ACT_KILL', args: [] },
      ],
    });
  });
});

describe('the default profile', () => {
  const filter = resolveSeccompProfile(defaultSeccompProfile(), HOST);

  it('with Docker\'s default capabilities on x86_64, refuses these with EPERM, and clone3 with ENOSYS', () => {
    expect(filter).toMatchObject({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrno: 1, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] });
    expect(refusals(filter, DANGEROUS)).toEqual([
      'keyctl EPERM', 'add_key EPERM', 'request_key EPERM', 'bpf EPERM', 'kexec_load EPERM', 'kexec_file_load EPERM',
      'init_module EPERM', 'finit_module EPERM', 'delete_module EPERM', 'mount EPERM', 'umount2 EPERM', 'fsopen EPERM',
      'move_mount EPERM', 'open_tree EPERM', 'unshare EPERM', 'setns EPERM',
      'clone conditional', // allowed unless a CLONE_NEW* flag is set
      'clone3 ENOSYS', // so that glibc falls back to clone
      'reboot EPERM', 'swapon EPERM', 'swapoff EPERM', 'acct EPERM',
      // ptrace and process_vm_readv are allowed on kernels from 4.8; kcmp and pidfd_getfd need CAP_SYS_PTRACE
      'kcmp EPERM', 'pidfd_getfd EPERM', 'open_by_handle_at EPERM',
      // name_to_handle_at is allowed; chroot too, with CAP_SYS_CHROOT, one of Docker's defaults
      'pivot_root EPERM', 'iopl EPERM', 'ioperm EPERM', 'clock_settime EPERM', 'settimeofday EPERM',
      'perf_event_open EPERM', 'userfaultfd EPERM', 'io_uring_setup EPERM', 'syslog EPERM', 'sethostname EPERM',
      'quotactl EPERM', 'lookup_dcookie EPERM', 'fanotify_init EPERM', 'vhangup EPERM', 'set_mempolicy EPERM',
      'personality conditional', // five arguments only
      'socket conditional', // every family but AF_ALG and AF_VSOCK
      'uselib EPERM', 'nfsservctl EPERM',
    ]);
  });

  it('allows the ordinary', () => {
    expect(refusals(filter, ORDINARY)).toEqual([]);
    const socketRules = filter.rules.filter((rule) => rule.names.includes('socket'));
    expect(socketRules.map((rule) => rule.args)).toEqual([
      [{ index: 0, value: 38, valueTwo: 0, op: 'SCMP_CMP_LT' }], [{ index: 0, value: 39, valueTwo: 0, op: 'SCMP_CMP_EQ' }],
      [{ index: 0, value: 40, valueTwo: 0, op: 'SCMP_CMP_GT' }],
    ]);
    const cloneRules = filter.rules.filter((rule) => rule.names.includes('clone'));
    expect(cloneRules).toEqual([{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }]);
  });

  it('with CAP_SYS_ADMIN, allows mounting, namespaces and clone3', () => {
    const admin = resolveSeccompProfile(defaultSeccompProfile(), { ...HOST, capabilities: [...DOCKER_CAPS, 'CAP_SYS_ADMIN'] });
    expect(refusals(admin, ['mount', 'umount2', 'fsopen', 'move_mount', 'unshare', 'setns', 'clone', 'clone3', 'bpf', 'perf_event_open', 'sethostname', 'syslog'])).toEqual([]);
    expect(refusals(admin, ['keyctl', 'kexec_load', 'init_module', 'reboot', 'pivot_root', 'open_by_handle_at'])).toEqual([
      'keyctl EPERM', 'kexec_load EPERM', 'init_module EPERM', 'reboot EPERM', 'pivot_root EPERM', 'open_by_handle_at EPERM',
    ]);
  });

  it('refuses ptrace on kernels before 4.8 unless CAP_SYS_PTRACE, and arch_prctl off x86', () => {
    expect(refusals(resolveSeccompProfile(defaultSeccompProfile(), { ...HOST, kernel: '4.4.0' }), ['ptrace', 'process_vm_writev'])).toEqual(['ptrace EPERM', 'process_vm_writev EPERM']);
    expect(refusals(resolveSeccompProfile(defaultSeccompProfile(), { ...HOST, kernel: '4.4.0', capabilities: ['CAP_SYS_PTRACE'] }), ['ptrace'])).toEqual([]);
    const arm = resolveSeccompProfile(defaultSeccompProfile(), { ...HOST, arch: 'aarch64' });
    expect(arm.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(refusals(arm, ['arch_prctl', 'modify_ldt', 'cacheflush'])).toEqual(['arch_prctl EPERM', 'modify_ldt EPERM']);
  });
});
