// Confinement: namespaces decide what a container can *see*; these steps
// decide what its root may *do*. They run in the child, around the switch
// to the container's user, in the order the kernel needs:
//
//   setrlimit      while the child may still raise a hard limit
//   bounding set   dropped while the child still holds CAP_SETPCAP
//   seccomp        loading a filter needs CAP_SYS_ADMIN or no_new_privs: so before the user switch
//                  and the capset that take CAP_SYS_ADMIN away, unless no_new_privs is set
//   user switch    setgroups, setgid, setuid with every capability still there, so --cap-drop SETUID works
//   capset         the container's own sets; for a user other than root, empty, as execve would make them
//   no_new_privs   then seccomp as late as possible: the fewer of tsrun's own calls the filter sees, the better
//
// runc's order (libcontainer/standard_init_linux.go), for the same reasons.
import os from 'node:os';
import type { ChildStep, SpanName } from '../kernel/steps.js';
import { CAPABILITIES, containerCapabilities, inKernelOrder } from './capabilities.js';
import { DEFAULT_SECURITY, ULIMIT_RESOURCES, securityOptions, type SecurityConfig, type SecurityOptions, type Ulimit } from './options.js';
import { defaultSeccompProfileText, parseSeccompProfile, refusedSyscalls, resolveSeccompProfile, type SeccompContext, type SyscallFate } from './seccomp.js';

/** What the container's process will hold, as /proc/PID/status will show it. */
export interface ConfinementPlan {
  capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] };
  noNewPrivileges: boolean;
  /** The seccomp filter: none (unconfined, --privileged), or a profile compiled to a BPF program. */
  seccomp: SeccompSummary | null;
  rlimits: Ulimit[];
}

export interface SeccompSummary {
  /** The default profile, or the JSON of the one given with --security-opt seccomp=FILE. */
  profile: 'default' | { json: string };
  instructions: number;
}

/** System calls a container's root could take the host with: what a filter does to them is worth showing. */
const WATCHED_SYSCALLS = [
  'mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3', 'keyctl', 'add_key', 'bpf', 'perf_event_open', 'ptrace',
  'kexec_load', 'init_module', 'finit_module', 'open_by_handle_at', 'reboot', 'swapon', 'syslog', 'personality', 'userfaultfd',
];

/** The steps that go before the user switch, those after it, and what they make of the process. */
export interface Confinement {
  plan: ConfinementPlan;
  beforeUser: Array<ChildStep | SpanName>;
  afterUser: Array<ChildStep | SpanName>;
}

// #region confinement
/** A seccomp profile's text, resolved for a context and compiled to a BPF program: libseccomp's work, which the store
 *  keeps between runs (src/store/seccomp-programs.ts). */
export type SeccompCompiler = (profileText: string, context: SeccompContext) => Buffer;

export function confinement(security: SecurityConfig = DEFAULT_SECURITY, uid: number, compile: SeccompCompiler): Confinement {
  const options = securityOptions(security.securityOpt);
  const caps = containerCapabilities(security.privileged, security.capAdd, security.capDrop);
  // Docker's rule: a user other than root starts with no capabilities in effect, as after any execve of theirs.
  const held = uid === 0 ? caps : [];
  const seccomp = security.privileged ? null : seccompFilter(compile, options.seccomp, caps);
  const plan: ConfinementPlan = {
    // Inheritable stays empty, as in Docker since CVE-2022-24769: nothing passes through execve that way.
    capabilities: { bounding: caps, effective: held, permitted: held, inheritable: [], ambient: [] },
    noNewPrivileges: options.noNewPrivileges,
    seccomp: seccomp && seccomp.summary,
    rlimits: security.ulimits,
  };
  return { plan, ...confinementSteps(plan, seccomp && seccomp.program) };
}

/** The steps that give a process these capabilities, limits, no_new_privs and seccomp filter (a BPF program in
 *  base64, or null), in the order the kernel needs. `tsrun run`'s plan and an OCI bundle's (src/oci/) both come here. */
export function confinementSteps(plan: Omit<ConfinementPlan, 'seccomp'>, seccompProgram: string | null, uid = 0): Omit<Confinement, 'plan'> {
  const { bounding, effective, permitted, inheritable, ambient } = plan.capabilities;
  // Switching away from uid 0 empties the permitted set, unless asked to keep it: only a user given capabilities asks.
  const keepCaps = uid !== 0 && permitted.length > 0;
  const rlimits = plan.rlimits.map((u): ChildStep => ({ op: 'setrlimit', resource: ULIMIT_RESOURCES[u.name]!, soft: u.soft, hard: u.hard }));
  const notKept = inKernelOrder(CAPABILITIES.filter((cap) => !bounding.includes(cap)));
  const loadFilter: Array<ChildStep | SpanName> = seccompProgram ? [{ span: 'tsrun.child.seccomp' }, { op: 'seccomp', filter: seccompProgram }] : [];
  return {
    beforeUser: [
      ...rlimits,
      { span: 'tsrun.child.bounding-set' },
      { op: 'capbset_drop', caps: notKept },
      // Without no_new_privs, loading a filter takes CAP_SYS_ADMIN: the child still has it here, not after capset.
      ...(plan.noNewPrivileges ? [] : loadFilter),
      ...(keepCaps ? [{ op: 'prctl', option: 'PR_SET_KEEPCAPS', value: 1 } as ChildStep] : []),
    ],
    afterUser: [
      { span: 'tsrun.child.capabilities' },
      // Root's sets are computed again by execve, from the bounding set; this makes sure nothing is inheritable
      // (and so nothing ambient) unless asked, whatever tsrun's own process held, and empties them for another user.
      { op: 'capset', effective, permitted, inheritable },
      ...(ambient.length ? [{ op: 'cap_ambient_raise', caps: ambient } as ChildStep] : []),
      ...(plan.noNewPrivileges ? [{ op: 'prctl', option: 'PR_SET_NO_NEW_PRIVS', value: 1 } as ChildStep, ...loadFilter] : []),
    ],
  };
}
// #endregion

// #region seccomp-filter
/** The profile resolved for the container's capabilities on this machine, as a BPF program (base64). */
function seccompFilter(compile: SeccompCompiler, profile: SecurityOptions['seccomp'], caps: string[]): { program: string; summary: SeccompSummary } | null {
  if (profile === 'unconfined') return null;
  const text = profile === 'default' ? defaultSeccompProfileText() : profile.json;
  const program = compile(text, { capabilities: caps, arch: os.machine(), kernel: os.release() });
  return { program: program.toString('base64'), summary: { profile, instructions: program.length / 8 } };
}
// #endregion

/** What a container's filter does to the system calls worth watching, for --explain (resolved again: runs don't need it). */
export function seccompRefusals(seccomp: SeccompSummary, capabilities: string[]): SyscallFate[] {
  const text = seccomp.profile === 'default' ? defaultSeccompProfileText() : seccomp.profile.json;
  const filter = resolveSeccompProfile(parseSeccompProfile(text, 'of the container'), { capabilities, arch: os.machine(), kernel: os.release() });
  return refusedSyscalls(filter, WATCHED_SYSCALLS);
}
