// The confinement flags: --ulimit, --device, --cap-add/--cap-drop, --security-opt, and seccomp
// profiles, which are JSON files anyone may hand to --security-opt seccomp=.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { ULIMIT_RESOURCES, parseDevice, parseUlimit, securityConfig, securityOptions } from '../../../src/security/options.js';
import { defaultSeccompProfileText, parseSeccompProfile, resolveSeccompProfile } from '../../../src/security/seccomp.js';
import { SECCOMP_ACTIONS, SECCOMP_OPERATORS } from '../../../src/kernel/seccomp.js';
import { PROTOTYPE_KEYS, fromPieces, fuzzOptions, outcome } from './fuzz.js';

describe('fuzz: --ulimit', () => {
  const ulimitText = fromPieces([...Object.keys(ULIMIT_RESOURCES), ...PROTOTYPE_KEYS, '=', '=', ':', '-1', '-', '0', '1024', '9'.repeat(20)]);

  it('parseUlimit refuses cleanly, or gives a limit on a resource it knows, soft not above hard', () => {
    fc.assert(fc.property(ulimitText, (text) => {
      const parsed = outcome(() => parseUlimit(text));
      if (!parsed.ok) return;
      const { name, soft, hard } = parsed.value;
      expect(Object.hasOwn(ULIMIT_RESOURCES, name)).toBe(true);
      expect(Number.isSafeInteger(soft) && soft >= -1 && Number.isSafeInteger(hard) && hard >= -1).toBe(true);
      expect(hard === -1 || (soft !== -1 && soft <= hard)).toBe(true);
    }), fuzzOptions(2000));
  });
});

describe('fuzz: --device', () => {
  const deviceText = fromPieces(['/dev/null', '/dev/zero', '/dev/fuse', '/nonexistent', '/tmp', '/', 'dev', ':', ':', 'r', 'w', 'm', 'rwm', 'x']);

  it('parseDevice refuses cleanly, or gives a host device node, absolute paths and permissions of r, w, m', () => {
    fc.assert(fc.property(deviceText, (text) => {
      const parsed = outcome(() => parseDevice(text));
      if (!parsed.ok) return;
      const { pathOnHost, pathInContainer, cgroupPermissions } = parsed.value;
      expect(pathOnHost).toMatch(/^\//);
      expect(pathInContainer).toMatch(/^\//);
      expect(cgroupPermissions).toMatch(/^[rwm]{1,3}$/);
      const stat = fs.statSync(pathOnHost);
      expect(stat.isCharacterDevice() || stat.isBlockDevice()).toBe(true);
    }), fuzzOptions(1000));
  });
});

describe('fuzz: --security-opt, --cap-add, --cap-drop', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-fuzz-security-'));
    fs.writeFileSync(path.join(dir, 'good.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }] }));
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"defaultAction": "SCMP_ACT_NOPE"}');
    fs.writeFileSync(path.join(dir, 'broken.json'), '{\n"defaultAction":\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('securityConfig refuses cleanly, or keeps options that are understood later, at every start', () => {
    const option = () => fromPieces([
      'seccomp', 'no-new-privileges', 'systempaths', 'apparmor', 'label', '=', ':', 'unconfined', 'disable', 'true', 'false',
      `${dir}/good.json`, `${dir}/bad.json`, `${dir}/broken.json`, dir, '/nonexistent',
    ], 4);
    const capability = fromPieces(['CAP_', 'cap_', 'SYS_ADMIN', 'net_admin', 'ALL', 'CHOWN', ' ', ...PROTOTYPE_KEYS], 3);
    fc.assert(fc.property(fc.array(option(), { maxLength: 3 }), fc.array(capability, { maxLength: 2 }), fc.array(capability, { maxLength: 2 }),
      (securityOpt, capAdd, capDrop) => {
        const parsed = outcome(() => securityConfig({ securityOpt, capAdd, capDrop }));
        if (!parsed.ok) return;
        const options = securityOptions(parsed.value.securityOpt);
        if (typeof options.seccomp === 'object') parseSeccompProfile(options.seccomp.json, 'kept');
      }), fuzzOptions(1000));
  });
});

// Profiles that are nearly right, field by field: each field is either a plausible value or any JSON at
// all, so that most of them get past the first check and into the next.
const anyJson = fc.jsonValue({ maxDepth: 2 });
const maybe = <T>(plausible: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: anyJson });
const names = fc.array(fc.constantFrom('mount', 'clone', 'ptrace', 'personality', '', 'x'), { maxLength: 3 });
const conditions = fc.record({
  caps: maybe(fc.array(fc.constantFrom('CAP_SYS_ADMIN', 'CAP_CHOWN', ''), { maxLength: 2 })),
  arches: maybe(fc.array(fc.constantFrom('amd64', 'arm64', 'x86', 'x32', 'sparc', '__proto__'), { maxLength: 2 })),
  minKernel: maybe(fc.constantFrom('4.8', '5.10', '0.0', '256.1', '4', '04.08', '', '6.18')),
}, { requiredKeys: [] });
const rule = fc.record({
  names: maybe(names),
  name: maybe(fc.constantFrom('mount', 'clone')),
  action: maybe(fc.constantFrom(...SECCOMP_ACTIONS, 'SCMP_ACT_NOTIFY', 'toString')),
  errnoRet: maybe(fc.oneof(fc.integer({ min: -1, max: 5000 }), fc.constant(1.5))),
  args: maybe(fc.array(fc.record({
    index: maybe(fc.integer({ min: -1, max: 7 })),
    value: maybe(fc.oneof(fc.nat(), fc.constant(2 ** 53), fc.constant(0xffffffff))),
    valueTwo: maybe(fc.nat()),
    op: maybe(fc.constantFrom(...SECCOMP_OPERATORS, 'SCMP_CMP_NOPE')),
  }, { requiredKeys: [] }), { maxLength: 2 })),
  includes: maybe(conditions),
  excludes: maybe(conditions),
  comment: maybe(fc.string()),
}, { requiredKeys: [] });
const arch = fc.constantFrom('SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_NOPE');
const profile = fc.record({
  defaultAction: maybe(fc.constantFrom(...SECCOMP_ACTIONS, 'SCMP_ACT_NOPE')),
  defaultErrnoRet: maybe(fc.integer({ min: -1, max: 5000 })),
  archMap: maybe(fc.array(fc.record({ architecture: maybe(arch), subArchitectures: maybe(fc.array(arch, { maxLength: 2 })) }, { requiredKeys: [] }), { maxLength: 2 })),
  architectures: maybe(fc.array(arch, { maxLength: 2 })),
  syscalls: maybe(fc.array(rule, { maxLength: 3 })),
  flags: maybe(fc.constantFrom([], '', ['SECCOMP_FILTER_FLAG_LOG'])),
}, { requiredKeys: [] });

const context = fc.record({
  capabilities: fc.subarray(['CAP_SYS_ADMIN', 'CAP_CHOWN', 'CAP_SYS_PTRACE']),
  arch: fc.constantFrom('x86_64', 'aarch64', 'sparc64'),
  kernel: fc.constantFrom('6.18.0-1-amd64', '4.8-rc5', '3.10', 'custom'),
});

describe('fuzz: seccomp profiles', () => {
  it('parseSeccompProfile refuses any text cleanly', () => {
    const text = fc.oneof(fc.string(), fc.json(), fromPieces(['{', '}', '[', ']', '"', ':', ',', '\n', 'null', '"defaultAction"', '"SCMP_ACT_ALLOW"', '"syscalls"']));
    fc.assert(fc.property(text, (json) => void outcome(() => parseSeccompProfile(json, './profile.json'))), fuzzOptions(2000));
  });

  it('parseSeccompProfile refuses a nearly right profile cleanly, or gives one that resolves to a filter libseccomp takes', () => {
    fc.assert(fc.property(profile, context, (document, host) => {
      const parsed = outcome(() => parseSeccompProfile(JSON.stringify(document), './profile.json'));
      if (!parsed.ok) return;
      const resolved = outcome(() => resolveSeccompProfile(parsed.value, host));
      if (!resolved.ok) return;
      const filter = resolved.value;
      for (const { action, errno } of [{ action: filter.defaultAction, errno: filter.defaultErrno }, ...filter.rules]) {
        expect(SECCOMP_ACTIONS).toContain(action);
        if (errno !== undefined) expect(Number.isInteger(errno) && errno >= 0 && errno <= 4095).toBe(true);
      }
      for (const { names, args } of filter.rules) {
        expect(names.length).toBeGreaterThan(0);
        for (const arg of args) expect(arg.index >= 0 && arg.index <= 5 && Number.isSafeInteger(arg.value) && Number.isSafeInteger(arg.valueTwo)).toBe(true);
      }
    }), fuzzOptions(2000));
  });

  it('Docker\'s own profile, with any one rule replaced by a random one, still parses or is refused cleanly', () => {
    const docker = JSON.parse(defaultSeccompProfileText()) as { syscalls: unknown[] };
    fc.assert(fc.property(fc.nat({ max: docker.syscalls.length - 1 }), rule, (at, replacement) => {
      const syscalls = docker.syscalls.map((original, i) => (i === at ? replacement : original));
      outcome(() => parseSeccompProfile(JSON.stringify({ ...docker, syscalls }), 'docker'));
    }), fuzzOptions(200));
  });
});
