// SPDX-License-Identifier: MIT
/**
 * The syscalls a program made, as plugins see them (Session.hooks.syscallMade). They are read
 * off the trace's events, which replay reproduces one for one, so record and replay tell the
 * same calls in the same order with the same data: a traced call from its `syscall` event, the
 * calls the in-process buffer ran from their `buffered` event, a successful exec from its
 * `exec` event, exit and exit_group from their entry. A call a signal interrupted that the
 * kernel then restarts is one call, told when it ends; tsrr's own calls in the tracee (remote
 * syscalls, the preload library's requests to tsrr) are not the program's.
 */
import { NR, syscallName } from '../native/syscalls.js';
import type { Event } from './Event.js';
import { bufferedCalls, isBufferCall } from './syscallBuffer.js';

/** One syscall the program made. */
export interface SyscallMade {
  /** The event that ended it. */
  readonly frame: number;
  /** The calling task's id in the trace. */
  readonly tid: number;
  readonly number: number;
  readonly name: string;
  /** Its six argument registers; undefined where the trace does not hold them: a buffered
   * call (its record has its fd) and a successful exec (its event has the program, argv and
   * envp, and tells an execveat as execve). */
  readonly args?: readonly bigint[];
  /** The fd a buffered call was on, if it was on one. */
  readonly fd?: number;
  /** What it returned (negative: -errno); undefined for a call that never returned: exit,
   * exit_group, a call whose task died in it. */
  readonly result?: bigint;
  /** Whether it went through the in-process syscall buffer (no stop of its own). */
  readonly buffered: boolean;
}

/** Results that make the kernel run the call again (ERESTARTSYS, ERESTARTNOINTR,
 * ERESTARTNOHAND, ERESTART_RESTARTBLOCK), unless a signal handler turns them into EINTR. */
const RESTARTS = new Set([-512n, -513n, -514n, -516n]);
const EINTR = -4n;

const sameArgs = (a: readonly bigint[] | undefined, b: readonly bigint[]) => a !== undefined && a.every((x, i) => x === b[i]);

/** Tells, event by event, the program's calls each event ends. */
export class ProgramCalls {
  /** Each task's calls that a signal interrupted and the kernel will go on with, innermost
   * last (a signal handler may make calls of its own meanwhile). */
  private readonly interrupted = new Map<number, SyscallMade[]>();

  /** The calls that event `e` ends, in the order they ended. */
  take(e: Event): SyscallMade[] {
    const d = e.data;
    const call = (number: number, rest: Omit<SyscallMade, 'frame' | 'tid' | 'number' | 'name' | 'buffered'>, buffered = false): SyscallMade => ({ frame: e.frame, tid: e.tid, number, name: syscallName(number), buffered, ...rest });
    switch (d.kind) {
      case 'buffered':
        return bufferedCalls(d.records).map((c) => call(c.number, { result: c.result, ...(c.fd !== undefined && { fd: c.fd }) }, true));
      case 'exec':
        // The first is the launch of the program, not a call of its own.
        return e.frame === 1 ? [] : [call(NR.execve, { result: 0n })];
      case 'syscallEntry':
        return d.number === NR.exit || d.number === NR.exit_group ? [call(d.number, {})] : [];
      case 'exit': {
        const unended = this.interrupted.get(e.tid) ?? [];
        this.interrupted.delete(e.tid);
        return unended.map(({ result: _, ...c }) => ({ ...c, frame: e.frame }));
      }
      case 'syscall':
        return isBufferCall(d.number, d.args) ? [] : this.ended(e.tid, call(d.number, { args: d.args, result: d.result }));
      default:
        return [];
    }
  }

  /** A traced call ended: the program's call, or part of one a signal interrupted. */
  private ended(tid: number, c: SyscallMade): SyscallMade[] {
    const stack = this.interrupted.get(tid) ?? [];
    const top = stack.at(-1);
    let told = c;
    if (top && (c.number === NR.restart_syscall || (c.number === top.number && sameArgs(top.args, c.args!)))) {
      // The kernel went on with the interrupted call.
      stack.pop();
      told = { ...top, frame: c.frame, result: c.result };
    }
    if (RESTARTS.has(told.result!)) {
      stack.push(told);
      this.interrupted.set(tid, stack);
      return [];
    }
    // A handler returned to an interrupted call that it made fail with EINTR.
    if (top && told === c && c.number === NR.rt_sigreturn && c.result === EINTR) return [c, { ...stack.pop()!, frame: c.frame, result: EINTR }];
    return [told];
  }
}
