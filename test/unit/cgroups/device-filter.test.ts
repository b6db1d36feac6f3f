// The cgroup v2 device filter without root: the program's bytes run by a small
// eBPF interpreter written here, which knows only the instructions the filter
// uses. test/integration/device-filter.test.ts runs it in the kernel.
import { describe, expect, it } from 'vitest';
import { deviceFilterProgram } from '../../../src/cgroups/device-filter.js';
import { ALL_DEVICES, DEFAULT_DEVICE_RULES, type DeviceRule } from '../../../src/security/devices.js';

const TYPE = { b: 1, c: 2 };
const ACCESS = { m: 1, r: 2, w: 4 };

/** Run the program for one access, as the kernel would: r1 points at struct bpf_cgroup_dev_ctx. */
function run(program: Buffer, type: 'b' | 'c', major: number, minor: number, access: string): number {
  const ctx = Buffer.alloc(12);
  ctx.writeUInt32LE(([...access] as Array<keyof typeof ACCESS>).reduce((bits, a) => bits | ACCESS[a], 0) << 16 | TYPE[type], 0);
  ctx.writeUInt32LE(major, 4);
  ctx.writeUInt32LE(minor, 8);
  const regs: Array<number | undefined> = [];
  regs[1] = -1; // the context: a pointer, only good for loads
  const read = (reg: number) => {
    if (regs[reg] === undefined) throw new Error(`r${reg} read before it was written`);
    return regs[reg]!;
  };
  for (let pc = 0, steps = 0; steps < 1000; pc++, steps++) {
    if (pc * 8 >= program.length) throw new Error('ran off the end of the program');
    const op = program[pc * 8]!;
    const dst = program[pc * 8 + 1]! & 0xf;
    const src = program[pc * 8 + 1]! >> 4;
    const off = program.readInt16LE(pc * 8 + 2);
    const imm = program.readInt32LE(pc * 8 + 4);
    switch (op) {
      case 0x61: // ldxw dst, [src + off]
        if (regs[src] !== -1) throw new Error('load from something other than the context');
        regs[dst] = ctx.readUInt32LE(off);
        break;
      case 0xbc: regs[dst] = read(src) >>> 0; break; // mov32 dst, src
      case 0xb7: regs[dst] = imm; break; // mov dst, imm
      case 0x54: regs[dst] = (read(dst) & imm) >>> 0; break; // and32 dst, imm
      case 0x74: regs[dst] = read(dst) >>> imm; break; // rsh32 dst, imm
      case 0x55: if (read(dst) !== imm) pc += off; break; // jne dst, imm, +off
      case 0x5d: if (read(dst) !== read(src)) pc += off; break; // jne dst, src, +off
      case 0x95: return read(0); // exit
      default: throw new Error(`instruction ${pc}: opcode 0x${op.toString(16)} is not one the filter uses`);
    }
  }
  throw new Error('no exit after 1000 instructions');
}

/** The instructions no path from the first reaches: the verifier refuses a program that has any. */
function unreachable(program: Buffer): number[] {
  const reached = new Set<number>();
  const walk = (pc: number): void => {
    if (reached.has(pc) || pc * 8 >= program.length) return;
    reached.add(pc);
    const op = program[pc * 8]!;
    if (op === 0x95) return; // exit
    if (op === 0x55 || op === 0x5d) walk(pc + 1 + program.readInt16LE(pc * 8 + 2)); // jne: the jump, and on
    walk(pc + 1);
  };
  walk(0);
  return Array.from({ length: program.length / 8 }, (_, pc) => pc).filter((pc) => !reached.has(pc));
}

describe('deviceFilterProgram', () => {
  const defaults = deviceFilterProgram(DEFAULT_DEVICE_RULES);

  it('encodes struct bpf_insn: opcode, dst and src in one byte, off, imm, little-endian', () => {
    expect(defaults.length % 8).toBe(0);
    expect(defaults.subarray(0, 8)).toEqual(Buffer.from([0x61, 0x12, 0, 0, 0, 0, 0, 0])); // ldxw r2, [r1 + 0]
    expect(defaults.subarray(-8)).toEqual(Buffer.from([0x95, 0, 0, 0, 0, 0, 0, 0])); // exit
  });

  it('allows the default devices and denies the rest', () => {
    expect(run(defaults, 'c', 1, 3, 'r')).toBe(1); // read /dev/null
    expect(run(defaults, 'c', 1, 3, 'rw')).toBe(1);
    expect(run(defaults, 'c', 1, 9, 'r')).toBe(1); // /dev/urandom
    expect(run(defaults, 'c', 136, 5, 'rw')).toBe(1); // a pty: 136:*
    expect(run(defaults, 'c', 5, 2, 'rw')).toBe(1); // /dev/ptmx
    expect(run(defaults, 'b', 8, 0, 'r')).toBe(0); // the first disk
    expect(run(defaults, 'b', 7, 0, 'rw')).toBe(0); // loop0
    expect(run(defaults, 'c', 10, 200, 'r')).toBe(0); // /dev/net/tun
    expect(run(defaults, 'c', 1, 1, 'r')).toBe(0); // /dev/mem
  });

  it('allows making any node, but making is all', () => {
    expect(run(defaults, 'c', 200, 7, 'm')).toBe(1);
    expect(run(defaults, 'b', 8, 0, 'm')).toBe(1);
    expect(run(defaults, 'c', 200, 7, 'mr')).toBe(0);
  });

  it('needs one rule to allow every access asked for', () => {
    const rules: DeviceRule[] = [{ type: 'c', major: 10, minor: '*', access: 'r' }, { type: 'c', major: 1, minor: 3, access: 'rw' }];
    const program = deviceFilterProgram(rules);
    expect(run(program, 'c', 10, 200, 'r')).toBe(1); // '*': any minor
    expect(run(program, 'c', 10, 7, 'r')).toBe(1);
    expect(run(program, 'c', 10, 200, 'w')).toBe(0);
    expect(run(program, 'c', 11, 200, 'r')).toBe(0);
    expect(run(program, 'b', 10, 200, 'r')).toBe(0); // the type counts too
    expect(run(program, 'c', 1, 3, 'rw')).toBe(1);
    expect(run(program, 'c', 1, 3, 'm')).toBe(0);
  });

  it('allows everything for --privileged (type a), and nothing for an empty list', () => {
    expect(run(deviceFilterProgram(ALL_DEVICES), 'b', 8, 0, 'rwm')).toBe(1);
    expect(run(deviceFilterProgram([...DEFAULT_DEVICE_RULES, ...ALL_DEVICES]), 'b', 8, 0, 'r')).toBe(1);
    expect(run(deviceFilterProgram([]), 'c', 1, 3, 'r')).toBe(0);
  });

  it('leaves no instruction unreachable, which the verifier would refuse', () => {
    for (const rules of [DEFAULT_DEVICE_RULES, ALL_DEVICES, [...DEFAULT_DEVICE_RULES, ...ALL_DEVICES], []]) {
      expect(unreachable(deviceFilterProgram(rules))).toEqual([]);
    }
  });
});
