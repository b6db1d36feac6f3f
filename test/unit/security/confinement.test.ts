// The confinement steps as plain data, without root: which capabilities, in
// which order around the user switch, and how Docker's flags change them.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planProcess } from '../../../src/stages/exec.js';
import type { ContainerRecord } from '../../../src/container.js';
import type { ChildStep } from '../../../src/kernel/steps.js';
import { CAPABILITIES, DEFAULT_CAPABILITIES, availableCapabilities, capabilityMask, containerCapabilities, normalizeCapability } from '../../../src/security/capabilities.js';
import { DEFAULT_SECURITY, parseUlimit, securityConfig, securityOptions, type SecurityConfig } from '../../../src/security/options.js';
import { systemPathsMasked } from '../../../src/security/system-paths.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';

function container(user: string, security?: SecurityConfig): ContainerRecord {
  return {
    id: 'f'.repeat(64), name: 'test', created: new Date().toISOString(),
    image: { id: 'sha256:' + 'a'.repeat(64), name: 'demo', layers: [] },
    config: { argv: ['sh'], env: ['PATH=/bin'], workingDir: '/', user, hostname: 'box', tty: false, interactive: false, autoRemove: false, network: 'none', security },
    state: { status: 'created', pid: null, pidStartTime: null, exitCode: null, startedAt: null, finishedAt: null, error: '' },
  };
}

describe('capabilities', () => {
  it('are Docker\'s 14 by default, a80425fb as /proc/PID/status shows them', () => {
    expect(capabilityMask(containerCapabilities(false, [], []))).toBe('00000000a80425fb');
    expect(containerCapabilities(false, [], [])).toHaveLength(DEFAULT_CAPABILITIES.length);
  });

  it('follow --cap-add and --cap-drop, with ALL on either side, as Docker does', () => {
    expect(containerCapabilities(false, ['CAP_NET_ADMIN'], ['CAP_KILL'])).toContain('CAP_NET_ADMIN');
    expect(containerCapabilities(false, ['CAP_NET_ADMIN'], ['CAP_KILL'])).not.toContain('CAP_KILL');
    expect(containerCapabilities(false, ['CAP_NET_ADMIN'], ['ALL'])).toEqual(['CAP_NET_ADMIN']);
    expect(containerCapabilities(false, [], ['ALL'])).toEqual([]);
    expect(containerCapabilities(false, ['ALL'], ['CAP_SYS_ADMIN'])).toEqual(availableCapabilities().filter((cap) => cap !== 'CAP_SYS_ADMIN'));
    expect(containerCapabilities(true, [], ['ALL'])).toEqual(availableCapabilities()); // --privileged wins
  });

  it('are named with or without CAP_, in any case; an unknown name is one clear error', () => {
    expect(normalizeCapability('--cap-add', 'net_admin')).toBe('CAP_NET_ADMIN');
    expect(normalizeCapability('--cap-add', 'CAP_SYS_TIME')).toBe('CAP_SYS_TIME');
    expect(normalizeCapability('--cap-drop', 'all')).toBe('ALL');
    expect(() => normalizeCapability('--cap-add', 'FLY')).toThrow('invalid --cap-add: unknown capability "FLY"');
  });

  it('are listed in the kernel\'s order, one number each', () => {
    expect(CAPABILITIES.indexOf('CAP_SYS_ADMIN')).toBe(21);
    expect(CAPABILITIES.at(-1)).toBe('CAP_CHECKPOINT_RESTORE');
  });
});

describe('security options', () => {
  it('default to Docker\'s: the default seccomp profile, no_new_privs off, system paths masked', () => {
    expect(securityOptions([])).toEqual({ seccomp: 'default', noNewPrivileges: false, systemPathsUnconfined: false });
    expect(securityOptions(['no-new-privileges', 'seccomp=unconfined', 'systempaths=unconfined']))
      .toEqual({ seccomp: 'unconfined', noNewPrivileges: true, systemPathsUnconfined: true });
    expect(securityOptions(['no-new-privileges:false']).noNewPrivileges).toBe(false);
  });

  it('mask system paths unless --privileged or systempaths=unconfined', () => {
    expect(systemPathsMasked(DEFAULT_SECURITY)).toBe(true);
    expect(systemPathsMasked({ ...DEFAULT_SECURITY, securityOpt: ['no-new-privileges'] })).toBe(true);
    expect(systemPathsMasked({ ...DEFAULT_SECURITY, privileged: true })).toBe(false);
    expect(systemPathsMasked({ ...DEFAULT_SECURITY, securityOpt: ['systempaths=unconfined'] })).toBe(false);
  });

  it('refuse what tsrun cannot do, with what it can', () => {
    expect(() => securityConfig({ securityOpt: ['apparmor=docker-default'] })).toThrow(/tsrun loads no AppArmor profiles/);
    expect(() => securityConfig({ securityOpt: ['no-new-privileges=maybe'] })).toThrow(/true or false/);
    expect(securityConfig({ securityOpt: ['apparmor=unconfined'] }).securityOpt).toEqual(['apparmor=unconfined']);
  });

  it('quote what they refuse as JSON, so that a line break in it keeps the message on one line', () => {
    expect(() => securityConfig({ securityOpt: ['label\n'] })).toThrow('invalid --security-opt "label\\n": "label\\n" is not an option tsrun knows');
    expect(() => securityConfig({ capAdd: ['NET\nADMIN'] })).toThrow('invalid --cap-add: unknown capability "NET\\nADMIN"');
    expect(() => securityConfig({ devices: ['/dev/\n'] })).toThrow('cannot add device "/dev/\\n": ENOENT');
    expect(() => parseUlimit('nofile=\n')).toThrow('invalid --ulimit "nofile=\\n": not NAME=SOFT[:HARD]');
  });

  it('read --ulimit as docker does', () => {
    expect(parseUlimit('nofile=1024:2048')).toEqual({ name: 'nofile', soft: 1024, hard: 2048 });
    expect(parseUlimit('core=0')).toEqual({ name: 'core', soft: 0, hard: 0 });
    expect(parseUlimit('memlock=-1:-1')).toEqual({ name: 'memlock', soft: -1, hard: -1 });
    expect(() => parseUlimit('nofile=2048:1024')).toThrow(/soft limit must not be above the hard limit/);
    expect(() => parseUlimit('nofile')).toThrow(/not NAME=SOFT\[:HARD\]/);
    expect(() => parseUlimit('constructor=-1')).toThrow('invalid --ulimit "constructor=-1": unknown resource "constructor"');
  });
});

describe('the confinement steps', () => {
  let store: ReturnType<typeof tempStore>;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  beforeEach(() => {
    store = tempStore();
    runtime = { sys: fakeSyscalls(), paths: store };
    fs.mkdirSync(store.root, { recursive: true });
  });
  afterEach(() => store.remove());

  const plan = (user: string, security?: SecurityConfig) => planProcess(runtime, container(user, security), { upperdir: store.root, lowerdirs: [] });
  const at = (steps: ChildStep[], op: ChildStep['op']) => steps.findIndex((step) => step.op === op);

  it('come in the order the kernel needs: limits, bounding set, user switch, capabilities, no_new_privs, execve', () => {
    const { steps } = plan('', { ...DEFAULT_SECURITY, ulimits: [{ name: 'nofile', soft: 10, hard: 20 }], securityOpt: ['no-new-privileges'] });
    // With no_new_privs the filter can wait until last; without it, see the next test.
    const order = ['setrlimit', 'capbset_drop', 'setgroups', 'setgid', 'setuid', 'capset', 'prctl', 'seccomp', 'execve'] as const;
    const indices = order.map((op) => at(steps, op));
    expect(indices.every((index) => index >= 0)).toBe(true);
    expect([...indices].sort((a, b) => a - b)).toEqual(indices);
    expect(steps[at(steps, 'setrlimit')]).toEqual({ op: 'setrlimit', resource: 'RLIMIT_NOFILE', soft: 10, hard: 20 });
    expect(steps[at(steps, 'prctl')]).toEqual({ op: 'prctl', option: 'PR_SET_NO_NEW_PRIVS', value: 1 });
    expect(steps[at(steps, 'seccomp') + 1]!.op).toBe('execve');
    expect(runtime.sys.calls.map((call) => call.name)).toEqual(['seccomp_export_bpf']); // compiled, not performed
  });

  it('load the seccomp filter before the user switch when no_new_privs is off: it takes CAP_SYS_ADMIN then', () => {
    const { steps } = plan('1000');
    expect(at(steps, 'seccomp')).toBe(at(steps, 'capbset_drop') + 1);
    expect(at(steps, 'seccomp')).toBeLessThan(at(steps, 'setuid'));
  });

  it('compile a profile once and keep the program in the store', () => {
    const first = plan('').steps;
    const second = plan('').steps;
    expect(second[at(second, 'seccomp')]).toEqual(first[at(first, 'seccomp')]);
    expect(runtime.sys.calls.filter((call) => call.name === 'seccomp_export_bpf')).toHaveLength(1);
    expect(fs.readdirSync(`${store.root}/seccomp`)).toHaveLength(1);
  });

  it('load no filter with seccomp=unconfined or --privileged', () => {
    expect(at(plan('', { ...DEFAULT_SECURITY, securityOpt: ['seccomp=unconfined'] }).steps, 'seccomp')).toBe(-1);
    expect(at(plan('', { ...DEFAULT_SECURITY, privileged: true }).steps, 'seccomp')).toBe(-1);
    expect(plan('', { ...DEFAULT_SECURITY, privileged: true }).confinement.seccomp).toBeNull();
  });

  it('give root the default set, and drop every other capability from the bounding set', () => {
    const { steps, confinement } = plan('');
    expect(steps[at(steps, 'capset')]).toEqual({ op: 'capset', effective: containerCapabilities(false, [], []), permitted: containerCapabilities(false, [], []), inheritable: [] });
    const dropped = (steps[at(steps, 'capbset_drop')] as { caps: string[] }).caps;
    expect(dropped).toHaveLength(CAPABILITIES.length - DEFAULT_CAPABILITIES.length);
    expect(dropped).toContain('CAP_SYS_ADMIN');
    expect(dropped.some((cap) => DEFAULT_CAPABILITIES.includes(cap))).toBe(false);
    expect(confinement.capabilities.bounding).toEqual(containerCapabilities(false, [], []));
    expect(at(steps, 'prctl')).toBe(-1); // no_new_privs is off by default, as in Docker
  });

  it('leave a user other than root nothing in effect or permitted, as Docker does', () => {
    const { steps, confinement } = plan('1000');
    expect(steps[at(steps, 'capset')]).toEqual({ op: 'capset', effective: [], permitted: [], inheritable: [] });
    expect(confinement.capabilities).toMatchObject({ effective: [], permitted: [], bounding: containerCapabilities(false, [], []) });
  });

  it('drop nothing tsrun could give with --privileged', () => {
    const { steps } = plan('', { ...DEFAULT_SECURITY, privileged: true });
    const dropped = (steps[at(steps, 'capbset_drop')] as { caps: string[] }).caps;
    expect(dropped.some((cap) => availableCapabilities().includes(cap))).toBe(false);
  });
});
