// An OCI bundle: a directory with the container's root filesystem and a config.json that says everything
// else (the runtime spec, github.com/opencontainers/runtime-spec, config.md and config-linux.md). This is
// the front door of `tsrun-oci`: the file read, checked, and turned into plain data. What tsrun cannot
// honour is refused here with the field's name, never ignored in silence, as the spec asks.
import fs from 'node:fs';
import path from 'node:path';
import { fail } from '../errors.js';

export interface OciSpec {
  ociVersion: string;
  root: { path: string; readonly?: boolean };
  mounts?: OciMount[];
  process?: OciProcess;
  hostname?: string;
  domainname?: string;
  hooks?: OciHooks;
  annotations?: Record<string, string>;
  linux?: OciLinux;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: Partial<Record<'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient', string[]>>;
  rlimits?: Array<{ type: string; hard: number; soft: number }>;
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  selinuxLabel?: string;
  oomScoreAdj?: number;
}

export type HookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';
export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}
export type OciHooks = Partial<Record<HookName, OciHook[]>>;

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

export interface OciDevice {
  type: 'c' | 'b' | 'u' | 'p';
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number | null;
  minor?: number | null;
  access?: string;
}

export interface OciResources {
  devices?: OciDeviceRule[];
  memory?: { limit?: number; reservation?: number; swap?: number; kernel?: number; kernelTCP?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: Record<string, unknown>;
  hugepageLimits?: unknown[];
  network?: Record<string, unknown>;
  unified?: Record<string, string>;
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  syscalls?: Array<{ names: string[]; action: string; errnoRet?: number; args?: Array<{ index: number; value: number; valueTwo?: number; op: string }> }>;
}

export interface OciLinux {
  namespaces?: Array<{ type: NamespaceType; path?: string }>;
  uidMappings?: unknown[];
  gidMappings?: unknown[];
  devices?: OciDevice[];
  cgroupsPath?: string;
  resources?: OciResources;
  sysctl?: Record<string, string>;
  seccomp?: OciSeccomp;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
  mountLabel?: string;
}

/** The parts of config.json tsrun reads; a field outside these is refused by name. */
const KNOWN: Record<string, string[]> = {
  '': ['ociVersion', 'root', 'mounts', 'process', 'hostname', 'domainname', 'hooks', 'annotations', 'linux'],
  root: ['path', 'readonly'],
  process: ['terminal', 'consoleSize', 'user', 'args', 'env', 'cwd', 'capabilities', 'rlimits', 'noNewPrivileges', 'apparmorProfile', 'selinuxLabel', 'oomScoreAdj'],
  'process.user': ['uid', 'gid', 'umask', 'additionalGids'],
  linux: ['namespaces', 'uidMappings', 'gidMappings', 'devices', 'cgroupsPath', 'resources', 'sysctl', 'seccomp', 'maskedPaths', 'readonlyPaths', 'rootfsPropagation', 'mountLabel'],
  'linux.resources': ['devices', 'memory', 'cpu', 'pids', 'blockIO', 'hugepageLimits', 'network', 'unified'],
  'linux.resources.memory': ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller'],
  'linux.resources.cpu': ['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems'],
  'linux.seccomp': ['defaultAction', 'defaultErrnoRet', 'architectures', 'flags', 'listenerPath', 'syscalls'],
  hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
};

/** config.json of the bundle at `bundle`, checked: the spec as tsrun will honour it. */
export function readBundle(bundle: string): OciSpec {
  const file = path.join(bundle, 'config.json');
  let spec: OciSpec;
  try {
    spec = JSON.parse(fs.readFileSync(file, 'utf8')) as OciSpec;
  } catch (error) {
    throw fail(`cannot read the bundle's config: ${(error as Error).message}`, `give --bundle a directory with a config.json (\`tsrun-oci spec\` writes one)`);
  }
  checkSpec(spec);
  return spec;
}

// #region refusals
/** What tsrun cannot honour, named: the spec says a runtime must not go on with a config it does not follow. */
export function checkSpec(spec: OciSpec): void {
  const refuse = (field: string, why: string) => { throw fail(`config.json: ${field}: ${why}`, 'remove it from the bundle\'s config.json, or use runc for this container'); };
  for (const [at, keys] of Object.entries(KNOWN)) {
    const value = at === '' ? spec : at.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], spec);
    if (value === undefined || value === null) continue;
    for (const key of Object.keys(value)) if (!keys.includes(key)) refuse(at ? `${at}.${key}` : key, 'tsrun does not support this field');
  }
  if (!/^1\./.test(spec.ociVersion ?? '')) refuse('ociVersion', `${JSON.stringify(spec.ociVersion)} is not a 1.x runtime spec`);
  if (!spec.root?.path) refuse('root.path', 'required');
  if (!spec.process) refuse('process', 'required: tsrun-oci runs a process');
  const proc = spec.process!;
  if (!proc.args?.length) refuse('process.args', 'required, with at least the program');
  if (!proc.cwd?.startsWith('/')) refuse('process.cwd', 'required, an absolute path');
  if (proc.selinuxLabel) refuse('process.selinuxLabel', 'tsrun has no SELinux support');
  const linux = spec.linux ?? {};
  if (linux.uidMappings?.length || linux.gidMappings?.length || linux.namespaces?.some((ns) => ns.type === 'user')) {
    refuse('linux.namespaces', 'user namespaces (and uid/gid mappings) are not supported yet');
  }
  for (const ns of linux.namespaces ?? []) {
    if (ns.type === 'time') refuse('linux.namespaces', 'time namespaces are not supported');
    if (ns.path && (ns.type === 'mount' || ns.type === 'cgroup')) refuse('linux.namespaces', `joining a ${ns.type} namespace (path) is not supported`);
    if (!['pid', 'network', 'mount', 'ipc', 'uts', 'cgroup'].includes(ns.type)) refuse('linux.namespaces', `unknown type ${JSON.stringify(ns.type)}`);
  }
  if (spec.hostname && !linux.namespaces?.some((ns) => ns.type === 'uts' && !ns.path)) refuse('hostname', 'setting it needs a new uts namespace');
  if (spec.domainname && !linux.namespaces?.some((ns) => ns.type === 'uts' && !ns.path)) refuse('domainname', 'setting it needs a new uts namespace');
  if (linux.mountLabel) refuse('linux.mountLabel', 'tsrun has no SELinux support');
  if (linux.seccomp?.flags?.length) refuse('linux.seccomp.flags', 'no seccomp flags are supported');
  if (linux.seccomp?.listenerPath) refuse('linux.seccomp.listenerPath', 'seccomp notification is not supported');
  const resources = linux.resources ?? {};
  for (const [field, value] of Object.entries({
    'memory.reservation': resources.memory?.reservation, 'memory.kernel': resources.memory?.kernel, 'memory.kernelTCP': resources.memory?.kernelTCP,
    'memory.swappiness': resources.memory?.swappiness, 'cpu.realtimeRuntime': resources.cpu?.realtimeRuntime,
    'cpu.realtimePeriod': resources.cpu?.realtimePeriod, 'cpu.mems': resources.cpu?.mems,
  })) {
    // Docker writes some of these as 0 (or swappiness as -1, "the kernel's default") when nothing was asked.
    if (value !== undefined && value !== null && value !== 0 && value !== '' && !(field === 'memory.swappiness' && value === -1)) refuse(`linux.resources.${field}`, 'not supported yet');
  }
  if (resources.memory?.disableOOMKiller) refuse('linux.resources.memory.disableOOMKiller', 'not supported');
  if (resources.hugepageLimits?.length) refuse('linux.resources.hugepageLimits', 'not supported');
  if (resources.unified && Object.keys(resources.unified).length) refuse('linux.resources.unified', 'not supported yet');
  if (resources.network && Object.keys(resources.network).length) refuse('linux.resources.network', 'not supported');
  if (resources.blockIO && Object.entries(resources.blockIO).some(([, v]) => v !== null && v !== 0 && !(Array.isArray(v) && v.length === 0))) {
    refuse('linux.resources.blockIO', 'not supported yet');
  }
  for (const [kind, hooks] of Object.entries(spec.hooks ?? {})) {
    (hooks ?? []).forEach((hook, i) => {
      if (!hook.path?.startsWith('/')) refuse(`hooks.${kind}[${i}].path`, 'required, an absolute path');
      if (hook.timeout !== undefined && !(Number.isInteger(hook.timeout) && hook.timeout > 0)) refuse(`hooks.${kind}[${i}].timeout`, 'a whole number of seconds, above 0');
    });
  }
}
// #endregion
