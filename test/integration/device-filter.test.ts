// The cgroup v2 device filter for real (as root): the program loaded into this
// kernel, attached to a cgroup on the machine's cgroup2 mount (the unified
// hierarchy beside v1 here, /sys/fs/cgroup itself on a v2 machine), and a shell
// in that cgroup that tries /dev/null and a block device node it made itself:
// loop0 (7:0), which reads as empty when nothing is bound to it. (This machine
// refuses even root its own disk, so the disk would prove nothing.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCgroup, planCgroup } from '../../src/cgroups/cgroup.js';
import { realSyscalls } from '../../src/kernel/native.js';
import { ALL_DEVICES, DEFAULT_DEVICE_RULES, type DeviceRule } from '../../src/security/devices.js';

const asRoot = process.getuid?.() === 0;
const cgroup2 = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
  .map((line) => line.split(' ')).find((fields) => fields[fields.indexOf('-') + 1] === 'cgroup2')?.[4];

// Moves itself into the cgroup first: its children (head, mknod) are born there.
const SCRIPT = `
echo 0 > "$CGROUP/cgroup.procs" || exit 99
head -c1 /dev/null && echo 'read /dev/null: ok'
mknod "$NODE" b 7 0 && echo 'mknod: ok'
head -c1 "$NODE" > /dev/null && echo 'read loop0: ok'
`;

/** cgroup directories go only once empty; the last process may still be on its way out. */
async function removeCgroupTree(dir: string): Promise<void> {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await removeCgroupTree(path.join(dir, entry.name));
  }
  for (let tries = 0; ; tries++) {
    try {
      fs.rmdirSync(dir); // the program attached goes with the cgroup
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || tries > 200) throw error;
      await sleep(10);
    }
  }
}

describe.skipIf(!asRoot || !cgroup2)('the device filter on cgroup v2 (as root)', () => {
  let base: string;
  let tmp: string;
  /** A container's cgroup as createCgroup makes it, under our own base rather than a tsrun/ other tests watch. */
  const start = (id: string, devices: DeviceRule[]) => {
    const plan = planCgroup({ version: 2, root: base }, id, {}, devices);
    createCgroup(plan, realSyscalls);
    return plan.dirs[0]!;
  };
  const tryDevices = (cgroup: string) => {
    const node = path.join(tmp, `loop0-${path.basename(cgroup)}`);
    fs.rmSync(node, { force: true });
    const result = spawnSync('sh', ['-c', SCRIPT], {
      encoding: 'utf8',
      env: { ...process.env, CGROUP: cgroup, NODE: node },
    });
    return { status: result.status, lines: result.stdout.trim().split('\n'), stderr: result.stderr };
  };

  beforeAll(() => {
    base = path.join(cgroup2!, `tsrun-device-filter-test-${process.pid}`);
    fs.mkdirSync(base);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-device-filter-'));
  });
  afterAll(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    await removeCgroupTree(base);
  });

  it('without a program, the loop0 node it made reads: the control', () => {
    const plain = path.join(base, 'plain');
    fs.mkdirSync(plain);
    expect(tryDevices(plain)).toMatchObject({ status: 0, lines: ['read /dev/null: ok', 'mknod: ok', 'read loop0: ok'] });
  });

  it('with the default allow-list, /dev/null opens and any node may be made, but loop0 is refused', () => {
    const result = tryDevices(start('default', DEFAULT_DEVICE_RULES));
    expect(result.lines).toEqual(['read /dev/null: ok', 'mknod: ok']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/Operation not permitted/);
  });

  it('a second start replaces the program instead of adding a second', () => {
    start('again', DEFAULT_DEVICE_RULES);
    // Had the default program stayed beside it, the kernel would still refuse: every program must allow.
    expect(tryDevices(start('again', ALL_DEVICES)).lines).toContain('read loop0: ok');
  });

  it('a program the verifier refuses: the error carries its log', () => {
    const noExit = Buffer.from([0xb7, 0, 0, 0, 0, 0, 0, 0]); // mov r0, 0, and then nothing
    expect(() => realSyscalls.bpf_prog_load('BPF_PROG_TYPE_CGROUP_DEVICE', noExit, 'MIT'))
      .toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'bpf', message: expect.stringMatching(/verifier's log:\n.*last insn is not an exit/) }));
  });
});
