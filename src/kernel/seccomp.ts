// The seccomp filter as the kernel's side of tsrun takes it: plain data that native/src/seccomp.cc gives libseccomp,
// which compiles it into a BPF program (Syscalls.seccomp_export_bpf). Profiles, and which of their rules apply to a
// container, are src/security/seccomp.ts's: it resolves a profile into one of these.

/** What happens to a matching call. SCMP_ACT_NOTIFY (hand the call to an agent) is left out: tsrun has no agent. */
export const SECCOMP_ACTIONS = [
  'SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG',
] as const;
export type SeccompAction = (typeof SECCOMP_ACTIONS)[number];

/** How an argument is compared with `value`; SCMP_CMP_MASKED_EQ means (argument & value) == valueTwo. */
export const SECCOMP_OPERATORS = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
] as const;
export type SeccompOperator = (typeof SECCOMP_OPERATORS)[number];

/** One comparison of a system call's argument. Values are numbers: JSON numbers above 2^53 - 1 lose
 *  digits as they are read, so the parser refuses them (Docker's largest is 0xffffffff). */
export interface SeccompArg {
  index: number;
  value: number;
  valueTwo: number;
  op: SeccompOperator;
}

/** A profile resolved for one container: only the rules that apply, as libseccomp takes them. */
export interface SeccompFilter {
  defaultAction: SeccompAction;
  /** The errno returned when defaultAction is SCMP_ACT_ERRNO (or the value SCMP_ACT_TRACE gives the tracer). */
  defaultErrno?: number;
  /** libseccomp's names, the native one first: 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'. */
  architectures: string[];
  rules: Array<{ names: string[]; action: SeccompAction; errno?: number; args: SeccompArg[] }>;
}
