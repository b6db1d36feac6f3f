// Seccomp: which system calls a container may make. A profile, in Docker's JSON format, is a list
// of rules, some of them conditional on the container's capabilities, the host's architecture or
// its kernel version. Resolving a profile for one container keeps the rules that apply and gives a
// SeccompFilter: plain data, which native/src/seccomp.cc turns into a BPF program with libseccomp.
//
// Docker's format (moby/profiles, seccomp/seccomp.go), as parseSeccompProfile reads it:
//   { "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
//     "archMap": [{ "architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] }],
//     "syscalls": [{ "names": ["mount"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1,
//                    "args": [{ "index": 0, "value": 40, "valueTwo": 0, "op": "SCMP_CMP_NE" }],
//                    "includes": { "caps": ["CAP_SYS_ADMIN"], "arches": ["amd64"], "minKernel": "4.8" },
//                    "excludes": { ... }, "comment": "why" }] }
// tsrun's default profile is ./seccomp-default.json, Docker's own in effect.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fail } from '../errors.js';
import { SECCOMP_ACTIONS, SECCOMP_OPERATORS, type SeccompAction, type SeccompArg, type SeccompFilter, type SeccompOperator } from '../kernel/seccomp.js';

/** When a rule applies. includes: all of it must hold; excludes: any of it drops the rule. */
export interface SeccompConditions {
  /** Capabilities of the container's bounding set, as 'CAP_SYS_ADMIN'. */
  caps?: string[];
  /** Docker's (Go's) architecture names: 'amd64', 'arm64', 'x86', 's390x', ... */
  arches?: string[];
  /** '<kernel>.<major>', e.g. '4.8': the host's kernel is at least this version. */
  minKernel?: string;
}

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args: SeccompArg[];
  includes?: SeccompConditions;
  excludes?: SeccompConditions;
  comment?: string;
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  /** For each native architecture, the others its processes may call the kernel as (x86-64: i386 and x32). */
  archMap: Array<{ architecture: string; subArchitectures: string[] }>;
  /** Docker's older format: the architectures themselves, instead of archMap. */
  architectures?: string[];
  syscalls: SeccompRule[];
}

/** The container and host a profile is resolved for. */
export interface SeccompContext {
  /** The container's bounding set: 'CAP_CHOWN', 'CAP_SYS_ADMIN', ... */
  capabilities: string[];
  /** The host's machine, as uname -m and os.machine() say: 'x86_64', 'aarch64', ... */
  arch: string;
  /** The host's kernel release, as os.release() says: '6.1.0-18-amd64'. */
  kernel: string;
}

const EPERM = 1;

/** libseccomp's architectures (seccomp.h's SCMP_ARCH_*). */
const SECCOMP_ARCHES = new Set([
  'X86', 'X86_64', 'X32', 'ARM', 'AARCH64', 'LOONGARCH64', 'M68K', 'MIPS', 'MIPS64', 'MIPS64N32', 'MIPSEL', 'MIPSEL64',
  'MIPSEL64N32', 'PPC', 'PPC64', 'PPC64LE', 'S390', 'S390X', 'PARISC', 'PARISC64', 'RISCV64', 'SH', 'SHEB',
].map((name) => `SCMP_ARCH_${name}`));

/** The names Docker's includes/excludes use for architectures (moby's goToNative, and x32). */
const DOCKER_ARCHES = new Set([
  'x86', 'amd64', 'x32', 'arm', 'arm64', 'loongarch64', 'mips', 'mipsel', 'mips64', 'mips64n32', 'mipsel64',
  'mipsel64n32', 'ppc', 'ppc64', 'ppc64le', 'riscv64', 's390', 's390x',
]);

/** A host machine (uname -m) in libseccomp's words and in Docker's. */
const MACHINES: Record<string, { seccomp: string; docker: string }> = {
  x86_64: { seccomp: 'SCMP_ARCH_X86_64', docker: 'amd64' },
  i686: { seccomp: 'SCMP_ARCH_X86', docker: 'x86' },
  aarch64: { seccomp: 'SCMP_ARCH_AARCH64', docker: 'arm64' },
  armv7l: { seccomp: 'SCMP_ARCH_ARM', docker: 'arm' },
  ppc64le: { seccomp: 'SCMP_ARCH_PPC64LE', docker: 'ppc64le' },
  s390x: { seccomp: 'SCMP_ARCH_S390X', docker: 's390x' },
  riscv64: { seccomp: 'SCMP_ARCH_RISCV64', docker: 'riscv64' },
  loongarch64: { seccomp: 'SCMP_ARCH_LOONGARCH64', docker: 'loongarch64' },
};

/** This machine's architecture in libseccomp's words (SCMP_ARCH_X86_64), or its uname -m if tsrun does not know it. */
export function seccompArchOf(machine: string): string {
  return MACHINES[machine]?.seccomp ?? machine;
}

/** Read a profile in Docker's JSON format; `source` names it in errors (a path, or 'default'). */
export function parseSeccompProfile(text: string, source: string): SeccompProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the text around the mistake, line breaks and all: it is told on one line.
    throw fail(`seccomp profile ${source}: not valid JSON (${(error as Error).message.replace(/\s+/g, ' ')})`, 'check the file with `jq . FILE`', error);
  }
  return checkProfile(value, source);
}

/** tsrun's default profile, Docker's in effect, read where it lies in the repository (this path holds from
 *  src/security/ and from the bundles in dist/bundle/ alike): a run whose program is already compiled only
 *  hashes its text, and never parses it (confinement.ts). */
export const DEFAULT_SECCOMP_PROFILE_FILE = fileURLToPath(new URL('../../src/security/seccomp-default.json', import.meta.url));

export function defaultSeccompProfileText(): string {
  return fs.readFileSync(DEFAULT_SECCOMP_PROFILE_FILE, 'utf8');
}

export function defaultSeccompProfile(): SeccompProfile {
  return parseSeccompProfile(defaultSeccompProfileText(), 'default');
}

// #region resolve
/** Keep the rules that apply to this container on this host, as Docker does (moby/profiles'
 *  setupSeccomp): a rule is dropped if the host's architecture is among its excludes.arches, the
 *  container has any of its excludes.caps, or the kernel is at least its excludes.minKernel; and
 *  kept only if the architecture is among its includes.arches, the container has all of its
 *  includes.caps and the kernel is at least its includes.minKernel. */
export function resolveSeccompProfile(profile: SeccompProfile, context: SeccompContext): SeccompFilter {
  const machine = MACHINES[context.arch];
  if (!machine) {
    throw fail(`seccomp: tsrun does not know machine ${context.arch}'s seccomp architecture`,
      `tsrun knows ${Object.keys(MACHINES).join(', ')}`);
  }
  const has = (cap: string) => context.capabilities.includes(cap);
  const kernelAtLeast = (version: string) => compareKernel(context.kernel, version) >= 0;
  const applies = ({ includes = {}, excludes = {} }: SeccompRule) =>
    !excludes.arches?.includes(machine.docker) &&
    !excludes.caps?.some(has) &&
    !(excludes.minKernel && kernelAtLeast(excludes.minKernel)) &&
    (!includes.arches?.length || includes.arches.includes(machine.docker)) &&
    (includes.caps ?? []).every(has) &&
    !(includes.minKernel && !kernelAtLeast(includes.minKernel));

  // The native architecture is always in the filter (libseccomp starts with it). Its sub-architectures
  // are added so that 32-bit programs run: libseccomp kills a call made as an architecture the filter
  // does not list. Each gets the same rules, by its own system call numbers.
  const mapped = profile.archMap.find((entry) => entry.architecture === machine.seccomp);
  const listed = profile.architectures ?? (mapped ? [mapped.architecture, ...mapped.subArchitectures] : []);
  const defaultErrno = errnoOf(profile.defaultAction, profile.defaultErrnoRet);
  return {
    defaultAction: profile.defaultAction,
    ...(defaultErrno === undefined ? {} : { defaultErrno }),
    architectures: [...new Set([machine.seccomp, ...listed])],
    rules: profile.syscalls.filter(applies).map(({ names, action, errnoRet, args }) => {
      const errno = errnoOf(action, errnoRet);
      return { names, action, ...(errno === undefined ? {} : { errno }), args };
    }),
  };
}
// #endregion resolve

/** The errno an action returns: only ERRNO and TRACE carry one, EPERM unless the profile says (as runc). */
function errnoOf(action: SeccompAction, errnoRet: number | undefined): number | undefined {
  return action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE' ? errnoRet ?? EPERM : undefined;
}

/** Compare a kernel release with '<kernel>.<major>' on those two numbers alone, as Docker does:
 *  '4.8.0-1-amd64', '4.8-rc5' and '4.8' are all 4.8. */
function compareKernel(release: string, version: string): number {
  const match = /^(\d+)\.(\d+)/.exec(release);
  if (!match) throw fail(`seccomp: cannot read the kernel version from release ${JSON.stringify(release)}`);
  const [kernel, major] = version.split('.').map(Number) as [number, number];
  return Number(match[1]) - kernel || Number(match[2]) - major;
}

/** What a filter does with one system call, judged by its name alone. */
export type SyscallFate =
  | { name: string; action: SeccompAction; errno?: number }
  /** Some rule for it compares its arguments: whether it is refused depends on them. */
  | { name: string; action: 'conditional' };

/** Of `names`, those the filter does not simply allow: what it does instead, or 'conditional'.
 *  Evaluated here, in TypeScript, from the rules; the kernel's answer comes from the BPF program. */
export function refusedSyscalls(filter: SeccompFilter, names: string[]): SyscallFate[] {
  const fates: SyscallFate[] = names.map((name) => {
    const rules = filter.rules.filter((rule) => rule.names.includes(name));
    if (rules.some((rule) => rule.args.length > 0)) return { name, action: 'conditional' };
    const rule = rules[0];
    if (rule) return { name, action: rule.action, ...(rule.errno === undefined ? {} : { errno: rule.errno }) };
    return { name, action: filter.defaultAction, ...(filter.defaultErrno === undefined ? {} : { errno: filter.defaultErrno }) };
  });
  return fates.filter((fate) => fate.action !== 'SCMP_ACT_ALLOW' && fate.action !== 'SCMP_ACT_LOG');
}

// Checking a parsed profile. Each error is one line that names the profile and the place in it:
// "seccomp profile ./p.json: syscalls[3].action "SCMP_ACT_FOO" is not an action tsrun knows".

type Json = Record<string, unknown>;

function checkProfile(value: unknown, source: string): SeccompProfile {
  const bad = (what: string, hint?: string) => fail(`seccomp profile ${source}: ${what}`, hint);
  const object = (at: unknown, where: string): Json => {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) throw bad(`${where} must be an object`);
    return at as Json;
  };
  const array = (at: unknown, where: string): unknown[] => {
    if (!Array.isArray(at)) throw bad(`${where} must be an array`);
    return at;
  };
  const strings = (at: unknown, where: string): string[] =>
    array(at, where).map((item, i) => {
      if (typeof item !== 'string' || item === '') throw bad(`${where}[${i}] must be a non-empty string`);
      return item;
    });
  const whole = (at: unknown, where: string, max: number): number => {
    if (typeof at !== 'number' || !Number.isInteger(at) || at < 0) throw bad(`${where} must be a whole number, 0 or more`);
    if (at > max) {
      throw bad(max === Number.MAX_SAFE_INTEGER ? `${where} is larger than 2^53 - 1, which tsrun cannot carry exactly`
        : `${where} ${at} is larger than ${max}`);
    }
    return at;
  };
  const action = (at: unknown, where: string): SeccompAction => {
    if (!SECCOMP_ACTIONS.includes(at as SeccompAction)) {
      throw bad(`${where} ${JSON.stringify(at)} is not an action tsrun knows`, `use one of ${SECCOMP_ACTIONS.join(', ')}`);
    }
    return at as SeccompAction;
  };
  const architecture = (at: unknown, where: string): string => {
    if (!SECCOMP_ARCHES.has(at as string)) {
      throw bad(`${where} ${JSON.stringify(at)} is not an architecture tsrun knows`, 'use libseccomp\'s names, such as SCMP_ARCH_X86_64');
    }
    return at as string;
  };
  const conditions = (at: unknown, where: string): SeccompConditions | undefined => {
    if (at === undefined || at === null) return undefined;
    const filter = object(at, where);
    const out: SeccompConditions = {};
    if (filter.caps != null) out.caps = strings(filter.caps, `${where}.caps`);
    if (filter.arches != null) {
      out.arches = strings(filter.arches, `${where}.arches`).map((arch, i) => {
        if (!DOCKER_ARCHES.has(arch)) {
          throw bad(`${where}.arches[${i}] ${JSON.stringify(arch)} is not an architecture tsrun knows`, `use Docker's names: ${[...DOCKER_ARCHES].join(', ')}`);
        }
        return arch;
      });
    }
    // Docker's KernelVersion: two numbers up to 255, not 0.0; an empty string means no condition.
    if (filter.minKernel != null && filter.minKernel !== '') {
      const match = typeof filter.minKernel === 'string' ? /^(\d{1,3})\.(\d{1,3})$/.exec(filter.minKernel) : null;
      if (!match || Number(match[1]) > 255 || Number(match[2]) > 255 || (match[1] === '0' && match[2] === '0')) {
        throw bad(`${where}.minKernel ${JSON.stringify(filter.minKernel)} is not a kernel version like "4.8"`);
      }
      out.minKernel = `${Number(match[1])}.${Number(match[2])}`;
    }
    return out;
  };

  const profile = object(value, 'the profile');
  for (const unsupported of ['flags', 'listenerPath', 'listenerMetadata']) {
    const at = profile[unsupported];
    if (at != null && at !== '' && !(Array.isArray(at) && at.length === 0)) {
      throw bad(`"${unsupported}" is not supported by tsrun`, 'remove it: tsrun loads filters without flags and has no notify agent');
    }
  }
  if (profile.architectures != null && profile.archMap != null) {
    throw bad('has both "architectures" and "archMap"', 'use one of them, as Docker requires');
  }
  const result: SeccompProfile = {
    defaultAction: action(profile.defaultAction, 'defaultAction'),
    archMap: array(profile.archMap ?? [], 'archMap').map((item, i) => {
      const entry = object(item, `archMap[${i}]`);
      return {
        architecture: architecture(entry.architecture, `archMap[${i}].architecture`),
        subArchitectures: array(entry.subArchitectures ?? [], `archMap[${i}].subArchitectures`)
          .map((sub, j) => architecture(sub, `archMap[${i}].subArchitectures[${j}]`)),
      };
    }),
    syscalls: array(profile.syscalls ?? [], 'syscalls').map((item, i): SeccompRule => {
      const where = `syscalls[${i}]`;
      const call = object(item, where);
      if (call.name != null && call.names != null) throw bad(`${where} has both "name" and "names"`, 'use "names", as Docker requires');
      const names = call.name != null ? strings([call.name], `${where}.name`) : strings(call.names ?? [], `${where}.names`);
      if (names.length === 0) throw bad(`${where} has neither "name" nor "names"`, 'list the system calls it is for in "names"');
      const rule: SeccompRule = {
        names,
        action: action(call.action, `${where}.action`),
        args: array(call.args ?? [], `${where}.args`).map((a, j) => {
          const arg = object(a, `${where}.args[${j}]`);
          if (!SECCOMP_OPERATORS.includes(arg.op as SeccompOperator)) {
            throw bad(`${where}.args[${j}].op ${JSON.stringify(arg.op)} is not a comparison tsrun knows`, `use one of ${SECCOMP_OPERATORS.join(', ')}`);
          }
          return {
            index: whole(arg.index, `${where}.args[${j}].index`, 5), // system calls have six arguments at most
            value: whole(arg.value, `${where}.args[${j}].value`, Number.MAX_SAFE_INTEGER),
            valueTwo: whole(arg.valueTwo ?? 0, `${where}.args[${j}].valueTwo`, Number.MAX_SAFE_INTEGER),
            op: arg.op as SeccompOperator,
          };
        }),
      };
      if (call.errnoRet != null) rule.errnoRet = whole(call.errnoRet, `${where}.errnoRet`, 4095); // errno values end at 4095
      const includes = conditions(call.includes, `${where}.includes`);
      const excludes = conditions(call.excludes, `${where}.excludes`);
      if (includes) rule.includes = includes;
      if (excludes) rule.excludes = excludes;
      if (typeof call.comment === 'string') rule.comment = call.comment;
      return rule;
    }),
  };
  if (profile.defaultErrnoRet != null) result.defaultErrnoRet = whole(profile.defaultErrnoRet, 'defaultErrnoRet', 4095);
  if (profile.architectures != null) {
    result.architectures = array(profile.architectures, 'architectures').map((arch, i) => architecture(arch, `architectures[${i}]`));
  }
  return result;
}
