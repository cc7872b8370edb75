// SPDX-License-Identifier: MIT
/** Which signals replay gets again by itself and which it must deliver. */
import { SIG } from '../native/ptrace.js';

const FAULTS = new Set<number>([SIG.ILL, SIG.TRAP, SIG.BUS, SIG.FPE, SIG.SEGV, 31 /* SIGSYS */]);

/** A fault the kernel raised at an instruction (si_code > 0): replay runs the same
 * instruction and gets it again. Every other signal (sent by kill or tgkill, a timer, a child's
 * end, a broken pipe, ...) replay delivers itself at the recorded point. */
export function isSynchronous(signo: number, code: number): boolean {
  return FAULTS.has(signo) && code > 0;
}
