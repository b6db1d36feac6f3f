// config.json as tsrun-oci reads it: what it takes, and what it refuses by name instead of ignoring.
import { describe, expect, it } from 'vitest';
import { checkSpec, type OciSpec } from '../../../src/oci/spec.js';
import { defaultSpec } from '../../../src/oci/defaults.js';

const withChange = (change: (spec: OciSpec) => void): OciSpec => {
  const spec = defaultSpec();
  change(spec);
  return spec;
};

describe('checkSpec', () => {
  it('takes the spec `tsrun-oci spec` writes, and hooks of every kind', () => {
    expect(() => checkSpec(defaultSpec())).not.toThrow();
    const hook = { path: '/bin/true', args: ['true'], env: ['A=1'], timeout: 5 };
    const kinds = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
    expect(() => checkSpec(withChange((s) => { s.hooks = Object.fromEntries(kinds.map((kind) => [kind, [hook]])); }))).not.toThrow();
  });

  it.each([
    ['a field it does not know', (s: OciSpec) => { (s.linux as Record<string, unknown>).intelRdt = { closID: 'x' }; }, 'config.json: linux.intelRdt: tsrun does not support this field'],
    ['a process field it does not know', (s: OciSpec) => { (s.process as unknown as Record<string, unknown>).ioPriority = {}; }, 'config.json: process.ioPriority'],
    ['a user namespace', (s: OciSpec) => { s.linux!.namespaces!.push({ type: 'user' }); }, 'user namespaces'],
    ['uid mappings', (s: OciSpec) => { s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]; }, 'user namespaces'],
    ['a joined mount namespace', (s: OciSpec) => { s.linux!.namespaces![4] = { type: 'mount', path: '/proc/1/ns/mnt' }; }, 'joining a mount namespace'],
    ['a hostname without a uts namespace of its own', (s: OciSpec) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts'); }, 'hostname: setting it needs a new uts namespace'],
    ['a 2.x spec', (s: OciSpec) => { s.ociVersion = '2.0.0'; }, 'ociVersion'],
    ['a relative cwd', (s: OciSpec) => { s.process!.cwd = 'tmp'; }, 'process.cwd'],
    ['a memory reservation', (s: OciSpec) => { s.linux!.resources!.memory = { reservation: 1 << 20 }; }, 'linux.resources.memory.reservation: not supported yet'],
    ['a hook of a kind the spec has not', (s: OciSpec) => { (s as { hooks: object }).hooks = { preStart: [{ path: '/bin/true' }] }; }, 'config.json: hooks.preStart'],
    ['a hook with a relative path', (s: OciSpec) => { s.hooks = { startContainer: [{ path: 'true' }] }; }, 'hooks.startContainer[0].path: required, an absolute path'],
    ['a hook with a timeout of 0', (s: OciSpec) => { s.hooks = { createContainer: [{ path: '/bin/true', timeout: 0 }] }; }, 'hooks.createContainer[0].timeout'],
  ])('refuses %s, naming it', (_, change, message) => {
    expect(() => checkSpec(withChange(change))).toThrow(message);
  });

  it('takes the zeros and empties Docker writes for what was not asked', () => {
    const spec = withChange((s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { disableOOMKiller: false, swappiness: -1 }, cpu: { shares: 0 }, blockIO: { weight: 0 } };
    });
    expect(() => checkSpec(spec)).not.toThrow();
  });
});
