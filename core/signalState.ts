// SPDX-License-Identifier: MIT
/**
 * The signal mask and actions of the program as tsrr follows them, and what a trapped rdtsc or
 * cpuid's SIGSEGV resets: the kernel raises it by force (force_sig), so a blocked SIGSEGV is
 * unblocked and a blocked or ignored one gets SIG_DFL, for good. tsrr emulates the instruction
 * and puts both back, in record and replay alike. A task's mask is read from /proc when it
 * starts and after each call that may change it, and grows by a handler's mask when tsrr
 * delivers a signal; actions are as the program's rt_sigaction calls set them.
 */
import { readFileSync } from 'node:fs';
import { NR } from '../native/syscalls.js';
import { ACTION_BYTES, SIG_IGN, SignalHandlers, signalBit } from './SignalHandlers.js';
import type { Task } from './Task.js';

const SIG_BLOCK = 0;

/** Calls after which a task's mask may differ. */
const MASK_CALLS = new Set<number>([NR.rt_sigprocmask, NR.rt_sigreturn, NR.rt_sigsuspend, NR.ppoll, NR.pselect6, NR.epoll_pwait, NR.epoll_pwait2]);

/** A mask of `task`'s /proc status (SigBlk, SigIgn, SigCgt). */
function statusMask(task: Task, field: string): bigint {
  const status = readFileSync(`/proc/${task.tid}/status`, 'latin1');
  return BigInt('0x' + (new RegExp(`^${field}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0'));
}

/** `task`, the first of a process, stopped at its exec: mask and actions as the kernel has
 * them (no handlers yet). */
export function startSignalState(task: Task): void {
  task.blocked = statusMask(task, 'SigBlk');
  task.sighand = SignalHandlers.ignoring(statusMask(task, 'SigIgn'));
}

/** `task` restored to a saved state (a checkpoint): its actions asked of the kernel. */
export function readSignalState(task: Task): void {
  task.blocked = statusMask(task, 'SigBlk');
  const set = statusMask(task, 'SigCgt') | statusMask(task, 'SigIgn');
  const sighand = new SignalHandlers();
  task.withScratch(Buffer.alloc(ACTION_BYTES), (addr) => {
    for (let signo = 1; signo <= 64; signo++) {
      if ((set & signalBit(signo)) === 0n) continue;
      task.remoteSyscall(NR.rt_sigaction, signo, 0, addr, 8);
      sighand.set(signo, task.readMem(addr, ACTION_BYTES));
    }
  });
  task.sighand = sighand;
}

/** `task` finished syscall `nr` with `args` and `result` (run for real). */
export function followSignalState(task: Task, nr: number, args: readonly bigint[], result: bigint): void {
  if (MASK_CALLS.has(nr)) task.blocked = statusMask(task, 'SigBlk');
  else if (nr === NR.rt_sigaction && args[1] !== 0n && result === 0n) task.sighand.set(Number(args[0]!), task.readMem(args[1]!, ACTION_BYTES));
}

/** `task`, stopped after tsrr emulated the instruction a forced fault signal `signo` (SIGSEGV,
 * SIGILL) trapped, gets that signal's mask and action back. */
export function undoForcedSignal(task: Task, signo: number): void {
  const blocked = (task.blocked & signalBit(signo)) !== 0n;
  const act = task.sighand.action(signo);
  const handler = act.readBigUInt64LE(0);
  if (!blocked && handler !== SIG_IGN) return;
  const mask = Buffer.alloc(8);
  mask.writeBigUInt64LE(signalBit(signo));
  task.withScratch(Buffer.concat([act, mask]), (addr) => {
    if (handler !== 0n) task.remoteSyscall(NR.rt_sigaction, signo, addr, 0, 8);
    if (blocked) task.remoteSyscall(NR.rt_sigprocmask, SIG_BLOCK, addr + BigInt(ACTION_BYTES), 0, 8);
  });
}
