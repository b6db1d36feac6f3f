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
import type { ChildStep, SpanName } from '../kernel/steps.js';
import { CAPABILITIES, containerCapabilities, inKernelOrder } from './capabilities.js';
import { DEFAULT_SECURITY, ULIMIT_RESOURCES, securityOptions, type SecurityConfig, type Ulimit } from './options.js';

/** What the container's process will hold, as /proc/PID/status will show it. */
export interface ConfinementPlan {
  capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] };
  noNewPrivileges: boolean;
  rlimits: Ulimit[];
}

/** The steps that go before the user switch, those after it, and what they make of the process. */
export interface Confinement {
  plan: ConfinementPlan;
  beforeUser: Array<ChildStep | SpanName>;
  afterUser: Array<ChildStep | SpanName>;
}

// #region confinement
export function confinement(security: SecurityConfig = DEFAULT_SECURITY, uid: number): Confinement {
  const options = securityOptions(security.securityOpt);
  const caps = containerCapabilities(security.privileged, security.capAdd, security.capDrop);
  // Docker's rule: a user other than root starts with no capabilities in effect, as after any execve of theirs.
  const held = uid === 0 ? caps : [];
  const plan: ConfinementPlan = {
    // Inheritable stays empty, as in Docker since CVE-2022-24769: nothing passes through execve that way.
    capabilities: { bounding: caps, effective: held, permitted: held, inheritable: [], ambient: [] },
    noNewPrivileges: options.noNewPrivileges,
    rlimits: security.ulimits,
  };
  const rlimits = security.ulimits.map((u): ChildStep => ({ op: 'setrlimit', resource: ULIMIT_RESOURCES[u.name]!, soft: u.soft, hard: u.hard }));
  const notKept = inKernelOrder(CAPABILITIES.filter((cap) => !caps.includes(cap)));
  return {
    plan,
    beforeUser: [
      ...rlimits,
      { span: 'tsrun.child.bounding-set' },
      { op: 'capbset_drop', caps: notKept },
    ],
    afterUser: [
      { span: 'tsrun.child.capabilities' },
      { op: 'capset', effective: held, permitted: held, inheritable: [] },
      ...(options.noNewPrivileges ? [{ op: 'prctl', option: 'PR_SET_NO_NEW_PRIVS', value: 1 } as ChildStep] : []),
    ],
  };
}
// #endregion
