// SPDX-License-Identifier: MIT
/** Instructions tsrr traps on purpose (a SIGSEGV with si_code SI_KERNEL where the CPU faults
 * them, a SIGILL at a site trapPatching.ts patched): which one, and making it look executed
 * with a given result. */
import { SIG, SI_KERNEL } from '../native/ptrace.js';
import type { Task } from './Task.js';
import { instructionAt, type PatchedInstruction } from './trapPatching.js';

export type TrappedInstruction = PatchedInstruction | undefined;

const UD2 = Buffer.of(0x0f, 0x0b);

/** The trapped instruction that stopped `task` with signal `signo` of si_code `code`, if any. */
export function trappedInstruction(task: Task, signo: number, code: number): TrappedInstruction {
  if (signo === SIG.ILL) return task.readMemPartial(task.regs.rip, 2).equals(UD2) ? task.as.patchedSites.get(task.regs.rip) : undefined;
  if (signo !== SIG.SEGV || code !== SI_KERNEL) return undefined;
  return instructionAt(task.readMemPartial(task.regs.rip, 3));
}

/** What a CPU that faults rdtsc gives a program that asked for it (PR_SET_TSC): the siginfo
 * of a SIGSEGV with si_code SI_KERNEL. */
export function rdtscFaultInfo(): Buffer {
  const info = Buffer.alloc(128);
  info.writeInt32LE(SIG.SEGV, 0);
  info.writeInt32LE(SI_KERNEL, 8);
  return info;
}

export function emulateRdtsc(task: Task, insn: 'rdtsc' | 'rdtscp', value: bigint, aux: number): void {
  const r = task.regs;
  r.set('rax', value & 0xffffffffn);
  r.set('rdx', value >> 32n);
  if (insn === 'rdtscp') r.set('rcx', BigInt(aux));
  r.rip += insn === 'rdtsc' ? 2n : 3n;
  task.setRegs();
}

export function emulateCpuid(task: Task, eax: number, ebx: number, ecx: number, edx: number): void {
  const r = task.regs;
  r.set('rax', BigInt(eax >>> 0));
  r.set('rbx', BigInt(ebx >>> 0));
  r.set('rcx', BigInt(ecx >>> 0));
  r.set('rdx', BigInt(edx >>> 0));
  r.rip += 2n;
  task.setRegs();
}
