// SPDX-License-Identifier: MIT
/**
 * A program's own seccomp filters, while recording. Installed as written, their actions
 * (errors, SIGSYS, kills) would take precedence over tsrr's own filter, and the calls they
 * stop would happen without a ptrace stop, unseen. So tsrr installs them rewritten: every
 * action but "allow" (and "log") becomes SECCOMP_RET_TRACE with a marker; at a stop with the
 * marker, tsrr runs the original filters itself (classic BPF over struct seccomp_data), takes
 * the action the kernel would have taken among them, and carries it out: an error result, a
 * SIGSYS, a death. The trace then holds the outcome, and replay installs nothing.
 */
import { NR } from '../native/syscalls.js';
import type { Task } from './Task.js';

/** struct sock_filter: 8 bytes each. */
const INSN = 8;
/** The largest errno a result can carry. */
export const MAX_ERRNO = 4095;
const BPF_RET = 0x06;
const BPF_RET_A = 0x16; // ret A
const BPF_JA = 0x05;
const RET_ACTION_FULL = 0xffff0000;
const RET_DATA = 0x0000ffff;
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;
/** The RET_TRACE data of a rewritten filter's stops (tsrr's own filter's is 0). */
export const PROGRAM_FILTER_MARKER = 0x7a5e;
const TRACE_MARKED = (SECCOMP_RET.TRACE | PROGRAM_FILTER_MARKER) >>> 0;
const AUDIT_ARCH_X86_64 = 0xc000003e;

/** What a filter decides for one call: the full action (action | data). */
export type FilterAction = number;

/** struct seccomp_data of a call: nr, arch, instruction_pointer, args[6]. */
function seccompData(nr: number, ip: bigint, args: readonly bigint[]): Buffer {
  const d = Buffer.alloc(64);
  d.writeInt32LE(nr, 0);
  d.writeUInt32LE(AUDIT_ARCH_X86_64, 4);
  d.writeBigUInt64LE(ip, 8);
  for (let i = 0; i < 6; i++) d.writeBigUInt64LE(BigInt.asUintN(64, args[i] ?? 0n), 16 + 8 * i);
  return d;
}

/** Runs classic BPF program `prog` over `data`; undefined if it misbehaves (the kernel
 * checked it at install, so that would be tsrr's bug, not the program's). */
/** A classic BPF instruction: code, jump if true, jump if false, k. */
export type BpfInsn = [number, number, number, number];

/** The program of `insns`, as the kernel takes it (struct sock_filter each). */
export function assemble(insns: readonly BpfInsn[]): Buffer {
  const prog = Buffer.alloc(insns.length * INSN);
  insns.forEach(([code, jt, jf, k], i) => {
    prog.writeUInt16LE(code, i * INSN);
    prog[i * INSN + 2] = jt;
    prog[i * INSN + 3] = jf;
    prog.writeUInt32LE(k >>> 0, i * INSN + 4);
  });
  return prog;
}

export function runFilter(prog: Buffer, data: Buffer): FilterAction | undefined {
  let a = 0;
  let x = 0;
  const mem = new Uint32Array(16);
  const load = (off: number, size: number): number | undefined => {
    if (off < 0 || off + size > data.length) return undefined;
    return size === 4 ? data.readUInt32LE(off) : size === 2 ? data.readUInt16LE(off) : data[off]!;
  };
  for (let pc = 0; pc * INSN < prog.length; pc++) {
    const code = prog.readUInt16LE(pc * INSN);
    const jt = prog[pc * INSN + 2]!;
    const jf = prog[pc * INSN + 3]!;
    const k = prog.readUInt32LE(pc * INSN + 4);
    const cls = code & 0x07;
    const src = code & 0x08 ? x : k;
    switch (cls) {
      case 0x00: // ld
      case 0x01: { // ldx
        const mode = code & 0xe0;
        const size = [4, 2, 1][(code >> 3) & 0x03] ?? 4;
        let v: number | undefined;
        if (mode === 0x00) v = k; // imm
        else if (mode === 0x20) v = load(k, size); // abs
        else if (mode === 0x40) v = load(x + k, size); // ind
        else if (mode === 0x60) v = mem[k & 15]; // mem
        else if (mode === 0x80) v = data.length; // len
        if (v === undefined) return undefined;
        if (cls === 0x00) a = v >>> 0;
        else x = v >>> 0;
        break;
      }
      case 0x02: mem[k & 15] = a; break; // st
      case 0x03: mem[k & 15] = x; break; // stx
      case 0x04: { // alu
        const op = code & 0xf0;
        const s = src >>> 0;
        if ((op === 0x30 || op === 0x90) && s === 0) return undefined;
        a = [
          a + s, a - s, Math.imul(a, s), Math.floor(a / s), a | s, a & s, s >= 32 ? 0 : a << s, s >= 32 ? 0 : a >>> s, -a, a % s, a ^ s,
        ][op >> 4]! >>> 0;
        break;
      }
      case 0x05: { // jmp
        const op = code & 0xf0;
        if (op === 0x00) { pc += k; break; }
        const s = src >>> 0;
        const taken = op === 0x10 ? a === s : op === 0x20 ? a > s : op === 0x30 ? a >= s : (a & s) !== 0;
        pc += taken ? jt : jf;
        break;
      }
      case 0x06: return (code & 0x18) === 0x10 ? a : k; // ret A / ret k
      case 0x07: if (code & 0x80) a = x; else x = a; break; // misc: txa / tax
    }
  }
  return undefined;
}

/** The kernel's choice among filters: the lowest action (as a signed number) wins; among
 * equal ones, the newest filter's. */
export function decide(filters: readonly Buffer[], nr: number, ip: bigint, args: readonly bigint[]): FilterAction {
  const data = seccompData(nr, ip, args);
  let best: FilterAction = SECCOMP_RET.ALLOW;
  for (let i = filters.length - 1; i >= 0; i--) {
    const action = runFilter(filters[i]!, data) ?? SECCOMP_RET.KILL_THREAD;
    if ((action & RET_ACTION_FULL) < (best & RET_ACTION_FULL)) best = action;
  }
  return best >>> 0;
}

export const actionOf = (a: FilterAction): number => (a & RET_ACTION_FULL) >>> 0;
export const dataOf = (a: FilterAction): number => a & RET_DATA;

/** `prog` rewritten for installing: every return of another action than allow or log returns
 * RET_TRACE with the marker; `ret A` goes through a check appended at the end. */
export function rewriteFilter(prog: Buffer): Buffer {
  const n = prog.length / INSN;
  const retA = Array.from({ length: n }, (_, i) => prog.readUInt16LE(i * INSN)).includes(BPF_RET_A);
  const out = Buffer.concat([prog, Buffer.alloc(retA ? 5 * INSN : 0)]);
  const insn = (i: number, code: number, jt: number, jf: number, k: number) => {
    out.writeUInt16LE(code, i * INSN);
    out[i * INSN + 2] = jt;
    out[i * INSN + 3] = jf;
    out.writeUInt32LE(k >>> 0, i * INSN + 4);
  };
  for (let i = 0; i < n; i++) {
    const code = prog.readUInt16LE(i * INSN);
    if (code === BPF_RET) {
      const action = actionOf(prog.readUInt32LE(i * INSN + 4));
      if (action !== SECCOMP_RET.ALLOW && action !== SECCOMP_RET.LOG) insn(i, BPF_RET, 0, 0, TRACE_MARKED);
    } else if (code === BPF_RET_A) {
      insn(i, BPF_JA, 0, 0, n - i - 1); // to the check at n
    }
  }
  if (!retA) return out;
  // The check: A &= action; allow or log → allow, else the marker.
  insn(n, 0x54, 0, 0, RET_ACTION_FULL); // and #k
  insn(n + 1, 0x15, 2, 0, SECCOMP_RET.ALLOW); // jeq allow → n+4
  insn(n + 2, 0x15, 1, 0, SECCOMP_RET.LOG); // jeq log → n+4
  insn(n + 3, BPF_RET, 0, 0, TRACE_MARKED);
  insn(n + 4, BPF_RET, 0, 0, SECCOMP_RET.ALLOW);
  return out;
}

const SECCOMP_SET_MODE_FILTER = 1n;
const PR_SET_SECCOMP = 22n;
const SECCOMP_MODE_FILTER = 2n;
/** Flags tsrr cannot honour: a listener fd for SECCOMP_RET_USER_NOTIF. */
const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8n;

/** The filter a call installs, if it installs one: where its struct sock_fprog is, and the
 * flags (seccomp(2)'s; prctl's form has none). */
export function filterInstall(nr: number, args: readonly bigint[]): { fprog: bigint; flags: bigint } | undefined {
  if (nr === NR.seccomp && args[0] === SECCOMP_SET_MODE_FILTER && (args[1]! & SECCOMP_FILTER_FLAG_NEW_LISTENER) === 0n) return { fprog: args[2]!, flags: args[1]! };
  if (nr === NR.prctl && args[0] === PR_SET_SECCOMP && args[1] === SECCOMP_MODE_FILTER) return { fprog: args[2]!, flags: 0n };
  return undefined;
}

/** The instructions of the struct sock_fprog at `fprog` (undefined if it cannot be read). */
export function readFilter(task: Task, fprog: bigint): Buffer | undefined {
  try {
    const head = task.readMem(fprog, 16);
    return task.readMem(head.readBigUInt64LE(8), head.readUInt16LE(0) * INSN);
  } catch {
    return undefined;
  }
}

/** Installs `prog` in `task` (stopped at a syscall exit) rewritten, with seccomp(2) `flags`;
 * returns the call's result. */
export function installRewritten(task: Task, prog: Buffer, flags: bigint): bigint {
  const rewritten = rewriteFilter(prog);
  const bytes = Buffer.alloc(16 + rewritten.length);
  bytes.writeUInt16LE(rewritten.length / INSN, 0);
  rewritten.copy(bytes, 16);
  return task.withScratch(bytes, (addr) => {
    const ptr = Buffer.alloc(8);
    ptr.writeBigUInt64LE(addr + 16n);
    task.writeMem(addr + 8n, ptr);
    return task.remoteSyscall(NR.seccomp, SECCOMP_SET_MODE_FILTER, flags, addr);
  });
}

/** The siginfo of a SIGSYS that SECCOMP_RET_TRAP raises: SYS_SECCOMP, the call's address,
 * number and arch, and the filter's data as si_errno. */
export function sigsysInfo(nr: number, ip: bigint, action: FilterAction): Buffer {
  const info = Buffer.alloc(128);
  info.writeInt32LE(31, 0); // SIGSYS
  info.writeInt32LE(dataOf(action), 4);
  info.writeInt32LE(1, 8); // SYS_SECCOMP
  info.writeBigUInt64LE(ip, 16); // si_call_addr
  info.writeInt32LE(nr, 24); // si_syscall
  info.writeUInt32LE(AUDIT_ARCH_X86_64, 28); // si_arch
  return info;
}
