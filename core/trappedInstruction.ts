// SPDX-License-Identifier: MIT
/** Instructions tsrr traps on purpose (a SIGSEGV with si_code SI_KERNEL): which one, and
 * making it look executed with a given result. */
import type { Task } from './Task.js';

export type TrappedInstruction = 'rdtsc' | 'rdtscp' | 'cpuid' | undefined;

export function trappedInstruction(task: Task): TrappedInstruction {
  const b = task.readMemPartial(task.regs.rip, 3);
  if (b[0] !== 0x0f) return undefined;
  if (b[1] === 0x31) return 'rdtsc';
  if (b[1] === 0xa2) return 'cpuid';
  if (b[1] === 0x01 && b[2] === 0xf9) return 'rdtscp';
  return undefined;
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
