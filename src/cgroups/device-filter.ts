// cgroup v2 has no devices controller and no devices.allow file. Instead the
// kernel runs a small eBPF program, attached to the cgroup, at every open or
// mknod of a device node by one of its processes: the program answers 1
// (allow) or 0 (deny). This file writes that program from the same allow-list
// v1 is given, with a tiny assembler so that each instruction reads by name.
import type { DeviceRule } from '../security/devices.js';

/** Where a failed check jumps: past the end of its rule's block, to the first instruction of the next. */
const NEXT_RULE = Symbol('next rule');

/** One eBPF instruction, struct bpf_insn: an opcode, two registers, an offset and an immediate value. */
interface Insn {
  opcode: number;
  dst: number;
  src: number;
  /** For a jump: how many instructions to skip; NEXT_RULE until the rule's block is complete. */
  off: number | typeof NEXT_RULE;
  imm: number;
}

// The registers: r0 holds the answer, r1 points at the context when the program starts.
const [r0, r1, r2, r3, r4, r5, r6] = [0, 1, 2, 3, 4, 5, 6];

// Opcodes from linux/bpf_common.h and linux/bpf.h: an instruction class ORed with an operation and a source.
const BPF_LDX = 0x01, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_ALU64 = 0x07;
const BPF_W = 0x00, BPF_MEM = 0x60; // a 32-bit word, from memory
const BPF_K = 0x00, BPF_X = 0x08; // the operand: the immediate value, or the src register
const BPF_AND = 0x50, BPF_RSH = 0x70, BPF_MOV = 0xb0, BPF_JNE = 0x50, BPF_EXIT = 0x90;

const insn = (opcode: number, dst: number, src: number, off: Insn['off'], imm: number): Insn => ({ opcode, dst, src, off, imm });
/** dst = *(u32 *)(src + off) */
const ldxw = (dst: number, src: number, off: number) => insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
/** dst = src (32 bits) */
const mov32 = (dst: number, src: number) => insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
/** dst = imm */
const mov = (dst: number, imm: number) => insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
/** dst &= imm (32 bits) */
const and32 = (dst: number, imm: number) => insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm);
/** dst >>= imm (32 bits) */
const rsh32 = (dst: number, imm: number) => insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm);
/** if (dst != value) skip to the next rule; value is a number, or a register given as { reg } */
const jne = (dst: number, value: number | { reg: number }, target: typeof NEXT_RULE) => typeof value === 'number'
  ? insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, target, value)
  : insn(BPF_JMP | BPF_JNE | BPF_X, dst, value.reg, target, 0);
/** return r0 */
const exit = () => insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

/** A rule's instructions with each jump to NEXT_RULE turned into a count: the instructions left in the block. */
function block(insns: Insn[]): Insn[] {
  return insns.map((insn, i) => (insn.off === NEXT_RULE ? { ...insn, off: insns.length - 1 - i } : insn));
}

/** The program as the kernel takes it: 8 bytes an instruction, little-endian. */
function encode(insns: Insn[]): Buffer {
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach(({ opcode, dst, src, off, imm }, i) => {
    out.writeUInt8(opcode, i * 8);
    out.writeUInt8(dst | (src << 4), i * 8 + 1);
    out.writeInt16LE(off as number, i * 8 + 2);
    out.writeInt32LE(imm, i * 8 + 4);
  });
  return out;
}

// From linux/bpf.h: the low 16 bits of access_type are the device's type, the high 16 bits what is asked of it.
const BPF_DEVCG_DEV_BLOCK = 1, BPF_DEVCG_DEV_CHAR = 2;
const BPF_DEVCG_ACC_MKNOD = 1, BPF_DEVCG_ACC_READ = 2, BPF_DEVCG_ACC_WRITE = 4;
const ACCESS: Record<string, number> = { m: BPF_DEVCG_ACC_MKNOD, r: BPF_DEVCG_ACC_READ, w: BPF_DEVCG_ACC_WRITE };
const ALL_ACCESS = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

// #region device-filter
/** The BPF_PROG_TYPE_CGROUP_DEVICE program for an allow-list: the rules in order, the first that matches allows; none: deny. */
export function deviceFilterProgram(rules: DeviceRule[]): Buffer {
  // Every device, every access (--privileged): nothing to look at. The verifier refuses instructions
  // no path reaches, so the rules after one could not simply follow its "allow".
  if (rules.some((rule) => rule.type === 'a')) return encode([mov(r0, 1), exit()]);
  return encode([
    // The kernel passes struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } in r1.
    ldxw(r2, r1, 0), // r2 = access_type ...
    mov32(r3, r2), //   r3 = access_type ...
    and32(r2, 0xffff), // r2 = the device's type (block 1, char 2)
    rsh32(r3, 16), //     r3 = the access asked for (mknod 1, read 2, write 4)
    ldxw(r4, r1, 4), // r4 = major
    ldxw(r5, r1, 8), // r5 = minor
    ...rules.flatMap(ruleBlock),
    // No rule allowed it.
    mov(r0, 0),
    exit(),
  ]);
}

/** One rule: checks that jump to the next rule when they fail, then "allow". */
function ruleBlock(rule: DeviceRule): Insn[] {
  const allowed = [...rule.access].reduce((bits, letter) => bits | ACCESS[letter]!, 0);
  return block([
    jne(r2, rule.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, NEXT_RULE),
    // Every access asked for must be one the rule allows: (asked & allowed) == asked. rwm allows all.
    ...(allowed === ALL_ACCESS ? [] : [mov32(r6, r3), and32(r6, allowed), jne(r6, { reg: r3 }, NEXT_RULE)]),
    // '*' matches any number, so there is nothing to compare.
    ...(rule.major === '*' ? [] : [jne(r4, rule.major, NEXT_RULE)]),
    ...(rule.minor === '*' ? [] : [jne(r5, rule.minor, NEXT_RULE)]),
    mov(r0, 1),
    exit(),
  ]);
}
// #endregion
