// SPDX-License-Identifier: MIT
/**
 * Recording: ptrace as the program sees it, when a traced program traces (a debugger, a
 * sandbox, a test harness under tsrr). tsrr stays the real tracer of every task; a task the
 * program attaches to (or that asks to be traced) is the program's tracee only in here: when it
 * stops where the program's tracer would see it stop (a signal, a syscall under
 * PTRACE_SYSCALL, an exit under PTRACE_O_TRACEEXIT, PTRACE_INTERRUPT), tsrr records that stop
 * as usual, keeps the task stopped, sends the tracer its SIGCHLD and answers its waits; the
 * tracer's requests are made on the task by tsrr (core/ptraceRequests.ts). The trace holds the
 * tracer's calls and their results, and the tracee's events; replay reproduces the tracee's
 * changes from the tracer's calls (ReplaySession).
 */
import { kill, ptrace, tkill } from '../native/libc.js';
import { PTRACE, PTRACE_EVENT, PTRACE_O, SIG } from '../native/ptrace.js';
import { TRACE_OPTIONS } from './launch.js';
import { REQ, changeTracee, changesTracee, readTracee } from './ptraceRequests.js';
import type { Task } from './Task.js';

const ESRCH = -3n;
const EPERM = -1n;
const EIO = -5n;
const WNOHANG = 1n;
const WNOWAIT = 0x01000000n;
const CLD_TRAPPED = 4;

/** How the tracer let the tracee go on: where the tracee next stops for it (at each syscall,
 * after one instruction, at each syscall's entry with the call skipped). */
type Resume = 'cont' | 'syscall' | 'step' | 'sysemu' | 'sysemu-step';

/** Options whose stops tsrr asks the kernel for only when a program tracer wants them. */
const EXTRA_OPTIONS = BigInt(PTRACE_O.TRACEEXIT | PTRACE_O.TRACEVFORKDONE);
const NSIG = 64n;

/** What PTRACE_GETSIGINFO tells at a PTRACE_EVENT stop. */
function eventSiginfo(event: number): Buffer {
  const info = Buffer.alloc(128);
  info.writeInt32LE(SIG.TRAP, 0);
  info.writeInt32LE(SIG.TRAP | (event << 8), 8);
  return info;
}

/** A stop the tracer sees: its wait status, the signal delivered when the tracer lets it go
 * (if it does not say another), and what PTRACE_GETSIGINFO and GETEVENTMSG tell. */
interface Stop {
  readonly status: number;
  readonly signo: number;
  readonly siginfo: Buffer;
  readonly eventMsg: bigint;
  /** Stopped at a syscall's entry, which runs once the tracer lets it go on. */
  readonly atEntry: boolean;
}

interface Tracee {
  readonly tracer: Task;
  readonly seized: boolean;
  options: bigint;
  resume: Resume;
  /** Stopped for the tracer: undefined while it runs. */
  stop?: Stop;
  /** Whether the tracer's wait has seen the stop. */
  reported: boolean;
  /** The tracer asked for a PTRACE_INTERRUPT stop. */
  interrupt: boolean;
  /** The stop signal of a group-stop no SIGCONT has ended (0: none): a PTRACE_INTERRUPT stop
   * tells it instead of SIGTRAP. */
  groupStop: number;
  /** Its end, for a tracer that is not its parent (whose own wait sees it). */
  ended?: number;
  /** Let go on at a syscall's entry it stopped at under PTRACE_SYSEMU: the call is skipped. */
  skip?: boolean;
}

/** What the session does for the emulation. */
const RESUMES = new Map<number, Resume>([
  [REQ.SYSCALL, 'syscall'], [REQ.SINGLESTEP, 'step'], [REQ.SYSEMU, 'sysemu'], [REQ.SYSEMU_SINGLESTEP, 'sysemu-step'],
]);

export interface PtraceHost {
  /** A task by its id, or a task of the process with that id. */
  processOf(id: number): Task | undefined;
  /** The task that is `task`'s parent, if traced. */
  parentOf(task: Task): Task | undefined;
  /** If `task` is in a group-stop, brings it to a stop where ptrace requests work and
   * returns the group-stop's signal. */
  leaveGroupStop(task: Task): number | undefined;
  /** Keeps `task` stopped (for its program tracer) until release. */
  park(task: Task): void;
  /** Lets `task` run again at its turn; `entry`: it is at a syscall's entry, which tsrr then
   * handles as it would have. */
  release(task: Task, entry: boolean): void;
  /** A wait of `tracer`'s held at its entry: complete it with `result` (the status is in its
   * memory already), or (undefined) let it run for real. */
  finishWait(tracer: Task, result: bigint | undefined): void;
}

export class PtraceEmulator {
  private readonly tracees = new Map<Task, Tracee>();
  /** Tracers held in a wait for their tracees, with the call's number and arguments. */
  private readonly waiting = new Map<Task, readonly bigint[]>();
  /** SIGCHLD siginfos to give tracers at their next SIGCHLD. */
  private readonly sigchld = new Map<number, Buffer>();

  constructor(private readonly host: PtraceHost) {}

  /** Whether the program traces `task`. */
  traces(task: Task): boolean {
    return this.tracees.has(task);
  }

  /** Whether the tracer let `task` go on with PTRACE_SYSCALL or SYSEMU: it stops at
   * syscalls for it (at their exits too, but under SYSEMU). */
  stopsAtSyscalls(task: Task, atExit = false): boolean {
    const resume = this.tracees.get(task)?.resume;
    return resume === 'syscall' || (!atExit && (resume === 'sysemu' || resume === 'sysemu-step'));
  }

  /** Whether the tracer single-steps `task`. */
  stepping(task: Task): boolean {
    const resume = this.tracees.get(task)?.resume;
    return resume === 'step' || resume === 'sysemu-step';
  }

  /** Whether the call `task` was let go on at skips (it stopped at its entry under
   * PTRACE_SYSEMU: the tracer emulates it); asked once. */
  takeSkip(task: Task): boolean {
    const t = this.tracees.get(task);
    const skip = t?.skip === true;
    if (t) t.skip = false;
    return skip;
  }

  /** The SIGCHLD siginfo waiting for `task`'s process, taken. */
  takeSigchld(task: Task): Buffer | undefined {
    const info = this.sigchld.get(task.tgid);
    this.sigchld.delete(task.tgid);
    return info;
  }

  /** `tracer`'s ptrace(request, pid, addr, data), at its entry: the result it gets. */
  request(tracer: Task, args: readonly bigint[]): bigint {
    const request = Number(BigInt.asIntN(32, args[0]!));
    const [, pidArg, addr, data] = args as [bigint, bigint, bigint, bigint];
    if (request === REQ.TRACEME) {
      const parent = this.host.parentOf(tracer);
      if (!parent || this.tracees.has(tracer)) return EPERM;
      this.tracees.set(tracer, { tracer: parent, seized: false, options: 0n, resume: 'cont', reported: false, interrupt: false, groupStop: 0 });
      return 0n;
    }
    const tracee = this.host.processOf(Number(BigInt.asIntN(32, pidArg)));
    if (request === REQ.ATTACH || request === REQ.SEIZE) {
      if (!tracee || tracee.tgid === tracer.tgid || this.tracees.has(tracee)) return EPERM;
      this.tracees.set(tracee, { tracer, seized: request === REQ.SEIZE, options: 0n, resume: 'cont', reported: false, interrupt: false, groupStop: 0 });
      if (request === REQ.SEIZE) this.setOptions(tracee, data);
      // One in a group-stop stops for its tracer at once; one attached otherwise gets a SIGSTOP.
      const stopped = this.host.leaveGroupStop(tracee);
      if (stopped !== undefined) this.groupOrInterruptStop(tracee, stopped);
      else if (request === REQ.ATTACH) tkill(tracee.tid, SIG.STOP);
      return 0n;
    }
    const t = tracee && this.tracees.get(tracee);
    if (!tracee || !t || t.tracer.tgid !== tracer.tgid) return ESRCH;
    if (request === REQ.KILL) {
      kill(tracee.tid, SIG.KILL);
      return 0n;
    }
    if (request === REQ.INTERRUPT) {
      if (!t.seized) return EIO;
      if (!t.stop) {
        t.interrupt = true;
        // Stopped at a stop of tsrr's, it stops for its tracer there; running, it is stopped
        // (inside a call, the call returns first: see interrupted()).
        if (tracee.state === 'stopped') this.groupOrInterruptStop(tracee, SIG.TRAP);
        else ptrace(PTRACE.INTERRUPT, tracee.tid);
      }
      return 0n;
    }
    const stop = t.stop;
    if (!stop) return ESRCH; // it must be stopped for its tracer
    switch (request) {
      case REQ.SETOPTIONS:
        this.setOptions(tracee, data);
        return 0n;
      case REQ.CONT:
      case REQ.SYSCALL:
      case REQ.SINGLESTEP:
      case REQ.SYSEMU:
      case REQ.SYSEMU_SINGLESTEP:
      case REQ.DETACH:
        if (data < 0n || data > NSIG) return EIO;
        return this.letGo(tracee, t, request, Number(data));

      case REQ.LISTEN:
        return 0n; // stays stopped: a group-stop ends with SIGCONT, which the tracer is told of
    }
    if (changesTracee(request, data)) return changeTracee(tracer, tracee, request, addr, data);
    return readTracee(tracer, tracee, request, addr, data, stop.siginfo, stop.eventMsg) ?? EIO;
  }

  /** The tracer's options; the stops of some of them tsrr asks the kernel for then. */
  private setOptions(tracee: Task, options: bigint): void {
    this.tracees.get(tracee)!.options = options;
    if ((options & EXTRA_OPTIONS) !== 0n) ptrace(PTRACE.SETOPTIONS, tracee.tid, 0, BigInt(TRACE_OPTIONS) | (options & EXTRA_OPTIONS));
  }

  /** CONT, SYSCALL, SINGLESTEP, SYSEMU(_SINGLESTEP), DETACH: the tracee goes on, with signal
   * `signo` (0: none). */
  private letGo(tracee: Task, t: Tracee, request: number, signo: number): bigint {
    const stop = t.stop!;
    t.stop = undefined;
    t.reported = false;
    if (request === REQ.DETACH) this.tracees.delete(tracee);
    else t.resume = RESUMES.get(request) ?? 'cont';
    // A signal given at a stop that was no signal's delivery is not delivered (ptrace(2)
    // allows that), so replay knows which are.
    tracee.deliver = stop.signo !== 0 ? signo : 0;
    this.host.release(tracee, stop.atEntry);
    return 0n;
  }

  /** The tracee stops for its tracer (tsrr has recorded what stopped it). */
  stopped(tracee: Task, stop: Stop): void {
    const t = this.tracees.get(tracee)!;
    t.stop = stop;
    t.reported = false;
    t.interrupt = false;
    this.host.park(tracee);
    this.notify(tracee, t, stop.status);
  }

  /** A signal-delivery stop of `tracee` (signal `signo`, `siginfo`) its tracer sees. */
  signalStop(tracee: Task, signo: number, siginfo: Buffer): void {
    if (signo === SIG.CONT) this.tracees.get(tracee)!.groupStop = 0;
    this.stopped(tracee, { status: (signo << 8) | 0x7f, signo, siginfo, eventMsg: 0n, atEntry: false });
  }

  /** A group-stop by `signo`, or the stop a PTRACE_INTERRUPT asked for; false when the
   * tracer did not ask for this one (tsrr's own interrupt). */
  groupOrInterruptStop(tracee: Task, signo: number): boolean {
    const t = this.tracees.get(tracee)!;
    if (signo === SIG.TRAP && !t.interrupt) return false;
    if (signo !== SIG.TRAP) t.groupStop = signo;
    const sig = t.groupStop || signo;
    const status = t.seized ? (PTRACE_EVENT.STOP << 16) | (sig << 8) | 0x7f : (sig << 8) | 0x7f;
    this.stopped(tracee, { status, signo: 0, siginfo: Buffer.alloc(128), eventMsg: 0n, atEntry: false });
    return true;
  }

  /** Whether the tracer's PTRACE_INTERRUPT is to stop `task`, which a call it was in just
   * returned from: it stops there (the kernel's own stop for the interrupt would come after
   * tsrr restarted the call). */
  interrupted(task: Task): boolean {
    const t = this.tracees.get(task);
    return t !== undefined && t.interrupt && !t.stop && this.groupOrInterruptStop(task, SIG.TRAP);
  }

  /** A syscall stop (entry or exit) under PTRACE_SYSCALL or SYSEMU. */
  syscallStop(tracee: Task, atEntry: boolean): void {
    const t = this.tracees.get(tracee)!;
    t.skip = atEntry && (t.resume === 'sysemu' || t.resume === 'sysemu-step');
    const sig = (t.options & BigInt(PTRACE_O.TRACESYSGOOD)) !== 0n ? SIG.TRAP | 0x80 : SIG.TRAP;
    this.stopped(tracee, { status: (sig << 8) | 0x7f, signo: 0, siginfo: Buffer.alloc(128), eventMsg: 0n, atEntry });
  }

  /** `task` made an exec: its tracer sees it stop there (PTRACE_O_TRACEEXEC; true: it is
   * stopped now) or, without that option, gets a SIGTRAP after it. */
  execed(task: Task): boolean {
    const t = this.tracees.get(task);
    if (!t) return false;
    if ((t.options & BigInt(PTRACE_O.TRACEEXEC)) === 0n) {
      tkill(task.tid, SIG.TRAP);
      return false;
    }
    this.eventStop(task, PTRACE_EVENT.EXEC, BigInt(task.rec));
    return true;
  }

  /** `parent` created `child`, which the kernel told tsrr of with PTRACE_EVENT_FORK, VFORK or
   * CLONE (`event`): under the option for it, the parent's tracer traces the child too, which
   * starts stopped (PTRACE_EVENT_STOP when seized, else a SIGSTOP), and sees the parent stop
   * at the event (true: it is stopped now). */
  forked(parent: Task, child: Task, event: number): boolean {
    const t = this.tracees.get(parent);
    if (!t || (t.options & (1n << BigInt(event))) === 0n) return false;
    this.tracees.set(child, { tracer: t.tracer, seized: t.seized, options: t.options, resume: 'cont', reported: false, interrupt: t.seized, groupStop: 0 });
    if (t.seized) this.groupOrInterruptStop(child, SIG.TRAP);
    else tkill(child.tid, SIG.STOP);
    this.eventStop(parent, event, BigInt(child.rec));
    return true;
  }

  /** The end of a vfork's wait for its child (`child`: its id): its tracer sees it under
   * PTRACE_O_TRACEVFORKDONE (true: it is stopped now). */
  vforkDone(parent: Task, child: number): boolean {
    const t = this.tracees.get(parent);
    if (!t || (t.options & BigInt(PTRACE_O.TRACEVFORKDONE)) === 0n) return false;
    this.eventStop(parent, PTRACE_EVENT.VFORK_DONE, BigInt(child));
    return true;
  }

  /** A PTRACE_EVENT stop (exec, exit, fork, vfork, clone, vfork done) with its message. */
  private eventStop(tracee: Task, event: number, eventMsg: bigint): void {
    this.stopped(tracee, { status: (SIG.TRAP << 8) | (event << 16) | 0x7f, signo: 0, siginfo: eventSiginfo(event), eventMsg, atEntry: false });
  }

  /** Whether the tracer asked to see `tracee` stop at its exit (PTRACE_O_TRACEEXIT). */
  wantsExit(tracee: Task): boolean {
    return ((this.tracees.get(tracee)?.options ?? 0n) & BigInt(PTRACE_O.TRACEEXIT)) !== 0n;
  }

  /** The exit-event stop (PTRACE_O_TRACEEXIT), with the exit status it will have. */
  exitStop(tracee: Task, status: number): void {
    this.eventStop(tracee, PTRACE_EVENT.EXIT, BigInt(status));
  }

  /** `task` ended with `status`: its tracer (if not its parent, whose wait sees it) is told;
   * a tracer that ends lets its tracees go; a parent waiting for children is let run. */
  ended(task: Task, status: number): void {
    const t = this.tracees.get(task);
    if (t && this.host.parentOf(task) !== t.tracer) {
      t.ended = status;
      t.stop = { status, signo: 0, siginfo: Buffer.alloc(128), eventMsg: 0n, atEntry: false };
      t.reported = false;
      this.notify(task, t, status);
    } else {
      this.tracees.delete(task);
    }
    for (const [tracee, u] of this.tracees) {
      if (u.tracer !== task) continue;
      // Detached as the kernel detaches them: stopped ones go on, without the stop's signal.
      if (u.stop && u.ended === undefined) this.letGo(tracee, u, REQ.DETACH, 0);
      this.tracees.delete(tracee);
    }
    this.waiting.delete(task);
    // A child's end: its parent's held wait runs for real and sees it.
    const parent = this.host.parentOf(task);
    if (parent && this.waiting.has(parent)) {
      this.waiting.delete(parent);
      this.host.finishWait(parent, undefined);
    }
  }

  /** Tells the tracer of a stop: its SIGCHLD, and its held wait ends. */
  private notify(tracee: Task, t: Tracee, status: number): void {
    const info = Buffer.alloc(128);
    info.writeInt32LE(SIG.CHLD, 0);
    info.writeInt32LE(t.ended === undefined ? CLD_TRAPPED : (status & 0x7f) === 0 ? 1 : 2, 8); // CLD_EXITED/KILLED
    info.writeInt32LE(tracee.rec, 16);
    info.writeInt32LE((status >> 8) & 0xff || status & 0x7f, 24);
    this.sigchld.set(t.tracer.tgid, info);
    kill(t.tracer.tgid, SIG.CHLD);
    for (const [tracer, args] of this.waiting) {
      if (tracer.tgid !== t.tracer.tgid || !this.matches(tracee, args)) continue;
      this.waiting.delete(tracer);
      this.host.finishWait(tracer, this.report(tracer, tracee, args));
      return;
    }
  }

  /** Whether a wait4/waitid with `args` waits for `tracee`. */
  private matches(tracee: Task, args: readonly bigint[]): boolean {
    const pid = Number(BigInt.asIntN(32, args[0]!));
    return pid <= 0 || pid === tracee.rec;
  }

  /** `tracer`'s wait4(pid, status, options, rusage) at its entry: the result it gets (status
   * written), or undefined to let it run as it is (for real children) — then `held` says
   * whether to hold it at its entry until a tracee stops. */
  wait(tracer: Task, args: readonly bigint[]): { result?: bigint; hold: boolean } {
    const mine = [...this.tracees].filter(([tracee, t]) => t.tracer.tgid === tracer.tgid && this.matches(tracee, args));
    if (mine.length === 0) return { hold: false };
    const ready = mine.find(([, t]) => t.stop && !t.reported);
    if (ready) return { result: this.report(tracer, ready[0], args), hold: false };
    const options = args[2]!;
    const children = mine.some(([tracee]) => this.host.parentOf(tracee) === tracer);
    if ((options & WNOHANG) !== 0n) return children ? { hold: false } : { result: 0n, hold: false };
    this.waiting.set(tracer, args);
    return { hold: true };
  }

  /** Reports `tracee`'s stop to `tracer`'s wait4 (`args`): the status at args[1]. */
  private report(tracer: Task, tracee: Task, args: readonly bigint[]): bigint {
    const t = this.tracees.get(tracee)!;
    const stop = t.stop!;
    if ((args[2]! & WNOWAIT) === 0n) t.reported = true;
    if (args[1] !== 0n) {
      const status = Buffer.alloc(4);
      status.writeInt32LE(stop.status);
      tracer.writeMem(args[1]!, status);
    }
    if (t.ended !== undefined && t.reported) this.tracees.delete(tracee);
    return BigInt(tracee.rec);
  }
}
