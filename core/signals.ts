// SPDX-License-Identifier: MIT
/** Which signals replay gets again by itself and which it must deliver. */
import { readFileSync } from 'node:fs';
import { SIG } from '../native/ptrace.js';
import { NR } from '../native/syscalls.js';
import type { Task } from './Task.js';

/** SIGSYS is not among them: only seccomp raises it, and tsrr raises it for the program's
 * filters itself (core/seccompFilters.ts), in record and replay alike. */
const FAULTS = new Set<number>([SIG.ILL, SIG.TRAP, SIG.BUS, SIG.FPE, SIG.SEGV]);

/** A fault the kernel raised at an instruction (si_code > 0): replay runs the same
 * instruction and gets it again. Every other signal (sent by kill or tgkill, a timer, a child's
 * end, a broken pipe, ...) replay delivers itself at the recorded point. */
export function isSynchronous(signo: number, code: number): boolean {
  return FAULTS.has(signo) && code > 0;
}

const SIG_UNBLOCK = 1;
/** si_code of the SIGSYS a seccomp filter raises. */
export const SYS_SECCOMP = 1;

/** Prepares stopped `task` for `signo` sent by force, as the kernel's force_sig does for a
 * seccomp filter's SIGSYS: one that is blocked or ignored, or (`fatal`: a seccomp kill) any,
 * gets the default action, unblocked. */
export function forceSignal(task: Task, signo: number, fatal: boolean): void {
  const status = readFileSync(`/proc/${task.tid}/status`, 'latin1');
  const has = (field: string) => ((BigInt('0x' + (new RegExp(`^${field}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0')) >> BigInt(signo - 1)) & 1n) === 1n;
  const unblock = has('SigBlk');
  const toDefault = fatal || unblock || has('SigIgn');
  if (!toDefault && !unblock) return;
  const mask = Buffer.alloc(8);
  mask.writeBigUInt64LE(1n << BigInt(signo - 1));
  task.withScratch(Buffer.concat([Buffer.alloc(32), mask]), (addr) => {
    if (toDefault) task.remoteSyscall(NR.rt_sigaction, signo, addr, 0, 8); // a k_sigaction of zeros: SIG_DFL
    if (unblock) task.remoteSyscall(NR.rt_sigprocmask, SIG_UNBLOCK, addr + 32n, 0, 8);
  });
}
