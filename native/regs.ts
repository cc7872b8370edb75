// SPDX-License-Identifier: MIT
/** x86-64 `struct user_regs_struct` (PTRACE_GETREGS): 27 unsigned 64-bit words. */

export const REG_NAMES = [
  'r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi',
  'rdi', 'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs',
] as const;
export type RegName = (typeof REG_NAMES)[number];

export const REGS_SIZE = 216;
const offset = Object.fromEntries(REG_NAMES.map((n, i) => [n, i * 8])) as Record<RegName, number>;

/** Syscall argument registers in ABI order. */
export const SYSCALL_ARG_REGS = ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'] as const satisfies readonly RegName[];

/** A register file backed by the exact bytes ptrace reads and writes. */
export class Registers {
  constructor(readonly buf: Buffer = Buffer.alloc(REGS_SIZE)) {}

  get(name: RegName): bigint {
    return this.buf.readBigUInt64LE(offset[name]);
  }

  set(name: RegName, value: bigint): void {
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, value), offset[name]);
  }

  get rip(): bigint { return this.get('rip'); }
  set rip(v: bigint) { this.set('rip', v); }
  get rsp(): bigint { return this.get('rsp'); }
  get rax(): bigint { return this.get('rax'); }
  set rax(v: bigint) { this.set('rax', v); }
  get origRax(): bigint { return this.get('orig_rax'); }
  set origRax(v: bigint) { this.set('orig_rax', v); }

  /** The syscall number as a signed value (-1 means "no syscall"). */
  get syscallNumber(): number { return Number(BigInt.asIntN(64, this.origRax)); }

  /** The result of a syscall at its exit, signed. */
  get result(): bigint { return BigInt.asIntN(64, this.rax); }

  arg(i: number): bigint { return this.get(SYSCALL_ARG_REGS[i]!); }
  args(): bigint[] { return SYSCALL_ARG_REGS.map((r) => this.get(r)); }
  setArg(i: number, v: bigint): void { this.set(SYSCALL_ARG_REGS[i]!, v); }

  clone(): Registers { return new Registers(Buffer.from(this.buf)); }

  equals(other: Registers): boolean { return this.buf.equals(other.buf); }

  /** Names of the registers whose values differ, for divergence reports. */
  diff(other: Registers): RegName[] {
    return REG_NAMES.filter((n) => this.get(n) !== other.get(n));
  }

  toJSON(): Record<RegName, string> {
    return Object.fromEntries(REG_NAMES.map((n) => [n, '0x' + this.get(n).toString(16)])) as Record<RegName, string>;
  }
}
