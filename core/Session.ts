// SPDX-License-Identifier: MIT
/**
 * A Session is one recording or one replay of a process tree. It owns the tasks, their address
 * spaces and fd tables, and the hooks plugins tap; RecordSession and ReplaySession add the
 * trace. Several sessions can exist in one tsrr process.
 */
import { SyncBailHook, SyncHook } from 'tapable';
import { kill, strerror, waitTimed } from '../native/libc.js';
import { procState, readIfThere } from './procfs.js';
import { SIG_IGN, signalBit } from './SignalHandlers.js';
import { PTRACE, SIG, WAIT, decodeStatus, type WaitStatus } from '../native/ptrace.js';
import { NR } from '../native/syscalls.js';
import { AddressSpace, type Mapping } from './AddressSpace.js';
import { CLONE, cloneArgs, isForkCall } from './clone.js';
import type { Event } from './Event.js';
import { FdTable, type FdChange } from './FdTable.js';
import type { FileMonitor } from './FileMonitor.js';
import { defineHooks, hasTaps } from './hooks.js';
import { ProgramCalls, type SyscallMade } from './ProgramCalls.js';
import { Registry } from './Registry.js';
import { PidfdMonitor } from './PidfdMonitor.js';
import { StdioMonitor } from './StdioMonitor.js';
import { SysvSegments } from './SysvSegments.js';
import { Task } from './Task.js';
import { followSignalState, startSignalState } from './signalState.js';
import { TsrrError, isTsrrError } from '../native/TsrrError.js';
import { patchVdso } from './vdso.js';
import { patchInstructions, type PatchedInstruction } from './trapPatching.js';

const PROT_EXEC = 4n;

/** What replay found different from the trace. */
export interface Divergence {
  readonly frame: number;
  readonly tid: number;
  readonly expected: string;
  readonly actual: string;
}

/** How a session ended (Session.hooks.sessionEnded); `frame` is the last event recorded or
 * replayed. */
export type SessionEnd =
  /** The program ended: record saw its first process end (`status`: its raw wait status);
   * replay reached the end of a trace where it did. */
  | { readonly reason: 'exited'; readonly frame: number; readonly status: number }
  /** Replay reached the end of a trace whose recording was stopped or cut off (`cutOff` says
   * how, for the latter). */
  | { readonly reason: 'end-of-trace'; readonly frame: number; readonly cutOff?: string }
  /** Replay reached the event it was asked to stop at (-g). */
  | { readonly reason: 'reached'; readonly frame: number }
  /** Replay: the tracee differed from the trace. */
  | { readonly reason: 'divergence'; readonly frame: number; readonly divergence: Divergence }
  /** The user asked tsrr to stop (SIGINT, SIGTERM). */
  | { readonly reason: 'stopped'; readonly frame: number }
  /** Something else failed: `error` says what. */
  | { readonly reason: 'error'; readonly frame: number; readonly error: Error }
  /** Its owner let go of it before any of these (a debugger done with a replay). */
  | { readonly reason: 'closed'; readonly frame: number };

/** How long a wait for tracees lasts at most before tsrr looks at its stop requests. */
export const POLL_NS = 50_000_000;

const PR_SET_TSC = 26;
const PR_TSC_SIGSEGV = 2;
const ARCH_SET_CPUID = 0x1012;

export function createSessionHooks() {
  return defineHooks('Session', {
    /** A task came under the tracer: the first one at its exec, the others as they are
     * created (record and replay). */
    taskCreated: new SyncHook<[Task]>(['task']),
    /** A task exited; `status` is its raw wait status (record and replay). */
    taskExited: new SyncHook<[Task, number]>(['task', 'status']),
    /** A task stopped at a syscall entry; registers are in task.regs (record and replay). */
    beforeSyscall: new SyncHook<[Task, number]>(['task', 'nr']),
    /** A syscall finished: as the kernel ran it (record) or as tsrr reproduced it (replay). */
    afterSyscall: new SyncHook<[Task, Event]>(['task', 'event']),
    /** Record: an event was appended to the trace; the task is in its state right after it. */
    eventRecorded: new SyncHook<[Event, Task]>(['event', 'task']),
    /** Replay: an event was reproduced in the tracee. */
    eventReplayed: new SyncHook<[Event, Task]>(['event', 'task']),
    /** Every syscall the program made, traced or buffered, once when it ends (record and
     * replay alike: the same calls in the same order with the same data), told from the event
     * that ends it, before eventRecorded or eventReplayed. The task may not show the call's
     * effects yet: replay gives a buffered call its result after its event. */
    syscallMade: new SyncHook<[SyscallMade, Task]>(['call', 'task']),
    /** Replay: the tracee differs from the trace; replay stops with an error after this. */
    divergence: new SyncHook<[Divergence]>(['divergence']),
    /** The session ended, for the reason `end` gives (record and replay; once per session,
     * before its tasks are killed where it ends with tasks alive). */
    sessionEnded: new SyncHook<[SessionEnd]>(['end']),
    /** Replay: before the program is launched at frame 1. A tap that returns a task has made
     * the session's first task itself (restored from a checkpoint, say) and called
     * startFrom(frame); replay goes on from there instead. */
    beforeLaunch: new SyncBailHook<[Session], Task | undefined>(['session']),
  });
}

export type SessionHooks = ReturnType<typeof createSessionHooks>;

export interface SessionOptions {
  /** Polled at every stop: true once the user asked tsrr to stop (SIGINT, SIGTERM). */
  readonly interrupted: () => boolean;
  /** The signal that asked to stop, when known. */
  readonly stopSignal?: () => number;
  /** Forgets the stop request. */
  readonly cancelStop?: () => void;
}

export abstract class Session {
  abstract readonly mode: 'record' | 'replay';
  readonly hooks = createSessionHooks();
  readonly tasks = new Map<number, Task>();
  /** Each task's syscall buffer (core/syscallBuffer.ts), by its id in the trace. */
  readonly syscallBuffers = new Map<number, bigint>();
  /** Tasks that share their thread-local storage with an earlier one (clone with CLONE_VM
   * and without CLONE_SETTLS: vfork, raw clones), by id: the library's buffer pointer is
   * thread-local, so what one registers, the others use. */
  private readonly tlsOf = new Map<number, number>();
  /** Processes that ended: one whose parent's wait replay emulated is a zombie that, once
   * its parent is gone, is tsrr's (ReplaySession makes tsrr their subreaper) to reap. */
  private readonly ended = new Set<number>();
  /** File-monitor kinds: a plugin registers its kind here to create its monitors by name. */
  readonly fileMonitors = new Registry<(task: Task, fd: number) => FileMonitor>('file monitors');
  /** The instructions patched to trap (trapPatching.ts), and whether cpuid faults instead:
   * set before the first exec. */
  /** The System V segments the program made: replay's own for the recording's, or while
   * recording the program's. */
  readonly sysvSegments = new SysvSegments();
  protected patching: ReadonlySet<PatchedInstruction> = new Set();
  protected cpuidFaulting = false;
  private readonly programCalls = new ProgramCalls();
  private endedWith: SessionEnd | undefined;

  constructor(protected readonly options: SessionOptions) {
    this.fileMonitors.register(StdioMonitor.KIND, (_task, fd) => new StdioMonitor(fd));
  }

  /** Takes the stopped tracee `tid` into the session as the first task of a process (`tgid`
   * in the trace), known in the trace as `rec`, with stdout and stderr monitored. */
  adoptTask(tid: number, rec = tid, tgid = rec): Task {
    const task = new Task(tid, new AddressSpace(tid), new FdTable(), rec, tgid);
    for (const fd of [1, 2]) task.fds.set(fd, this.fileMonitors.get(StdioMonitor.KIND)(task, fd));
    startSignalState(task);
    return this.added(task);
  }

  /** Takes task `tid` (`rec` in the trace), which `parent` created with clone `flags`, into
   * the session: it shares its parent's address space and fd table or has copies, as the
   * kernel did. */
  adoptChild(parent: Task, tid: number, rec: number, flags: bigint): Task {
    const as = (flags & CLONE.VM) !== 0n ? parent.as : parent.as.forked(tid);
    const fds = (flags & CLONE.FILES) !== 0n ? parent.fds : parent.fds.clone();
    const child = new Task(tid, as, fds, rec, (flags & CLONE.THREAD) !== 0n ? parent.tgid : rec);
    // A debugger's breakpoints stay with the process it debugs.
    if (as !== parent.as) for (const [addr, orig] of parent.as.breakpoints) child.writeMem(addr, Buffer.of(orig));
    this.inheritBuffer(parent, child, flags);
    child.blocked = parent.blocked;
    child.sighand = (flags & CLONE.SIGHAND) !== 0n ? parent.sighand : parent.sighand.copy();
    return this.added(child);
  }

  /** A task of a process by one of its ids in the trace (a thread's, or the process's). */
  processOf(id: number): Task | undefined {
    return this.tasks.get(id) ?? [...this.tasks.values()].find((t) => t.tgid === id);
  }

  /** The library of `task` registered its buffer at `addr`: the tasks that share its
   * thread-local storage use it too. */
  registerBuffer(task: Task, addr: bigint): void {
    const tls = (t: Task) => this.tlsOf.get(t.rec) ?? t.rec;
    for (const t of [task, ...this.tasks.values()]) if (t.as === task.as && tls(t) === tls(task)) this.syscallBuffers.set(t.rec, addr);
  }

  /** `child`, created by `parent` with clone `flags`, has a copy of its parent's buffer (a
   * forked process), uses its parent's (shared thread-local storage) or makes its own. */
  private inheritBuffer(parent: Task, child: Task, flags: bigint): void {
    const sharedTls = (flags & CLONE.VM) !== 0n && (flags & CLONE.SETTLS) === 0n;
    if (sharedTls) this.tlsOf.set(child.rec, this.tlsOf.get(parent.rec) ?? parent.rec);
    const buffer = this.syscallBuffers.get(parent.rec);
    if (buffer !== undefined && ((flags & CLONE.VM) === 0n || sharedTls)) this.syscallBuffers.set(child.rec, buffer);
  }

  private added(task: Task): Task {
    this.tasks.set(task.rec, task);
    this.hooks.taskCreated.call(task);
    return task;
  }

  /** The last event recorded or replayed (0 before the first). */
  abstract get frame(): number;

  /** Tells the plugins how the session ended, the first time only. */
  protected end(end: SessionEnd): void {
    if (this.endedWith) return;
    this.endedWith = end;
    this.hooks.sessionEnded.call(end);
  }

  /** Runs `body` to the session's end and tells how it ended: what `endOf` makes of what it
   * returned, or the error it threw. */
  protected runToEnd<T>(body: () => T, endOf: (result: T) => SessionEnd): T {
    let result: T;
    try {
      result = body();
    } catch (e) {
      this.failed(e);
      throw e;
    }
    this.end(endOf(result));
    return result;
  }

  /** The session ends with error `e`. A plugin that fails to hear of it does not hide it. */
  protected failed(e: unknown): void {
    const frame = this.frame;
    const code = isTsrrError(e) ? e.code : undefined;
    const end: SessionEnd =
      code === 'DIVERGENCE' ? { reason: 'divergence', frame, divergence: (e as TsrrError).context as unknown as Divergence }
      : code === 'INTERRUPTED' ? { reason: 'stopped', frame }
      : { reason: 'error', frame, error: e instanceof Error ? e : new Error(String(e)) };
    try {
      this.end(end);
    } catch (also) {
      if (e instanceof Error) e.message += `; then ${also instanceof Error ? also.message : String(also)}`;
    }
  }

  /** Event `e` of `task` was recorded or replayed: the program's calls it ends go to the
   * syscallMade taps. */
  protected tellCalls(e: Event, task: Task): void {
    if (!hasTaps(this.hooks.syscallMade)) return;
    for (const call of this.programCalls.take(e)) this.hooks.syscallMade.call(call, task);
  }

  /** Waits for `task` to stop or end; a stop request ends the wait with an INTERRUPTED
   * error unless `interruptible` is false (a stop the task is about to make). */
  waitFor(task: Task, interruptible = true): WaitStatus {
    for (;;) {
      const [pid, status] = waitTimed(task.tid, WAIT.WALL, POLL_NS);
      if (pid > 0) return decodeStatus(status);
      if (pid < 0) throw new TsrrError('TRACEE_FAILED', `waiting for task ${task.tid} failed: ${strerror(-pid)}`, { tid: task.tid });
      if (interruptible && this.options.interrupted()) throw new TsrrError('INTERRUPTED', `${this.mode} interrupted`);
      this.polled(task, interruptible);
    }
  }

  /** Called every POLL_NS while a wait for `task` goes on. */
  protected polled(_task: Task, _interruptible: boolean): void {}

  /** Whether the fault's signal `signo` that `task` is about to be given kills it only once
   * tsrr lets go of it: the init of a PID namespace, traced, drops a fatal signal its kernel
   * forced (as one from inside its namespace), and dies of it untraced, faulting again. */
  protected diesUntraced(task: Task, signo: number): boolean {
    const handled = task.sighand.action(signo).readBigUInt64LE(0) > SIG_IGN && (task.blocked & signalBit(signo)) === 0n;
    const nstgid = /^NStgid:\s*(.*)$/m.exec(readIfThere(`/proc/${task.tid}/status`))?.[1]?.trim().split(/\s+/) ?? [];
    return !handled && nstgid.length > 1 && nstgid.at(-1) === '1';
  }

  /** Reaps the tasks but `waited` that ended (zombies: a wait for them returns at once), and
   * gives each end to `take`. The kernel's end of a thread group, or of a PID namespace's init,
   * may wait for its tracer to reap others. */
  protected reapEnded(waited: Task, take: (task: Task, st: Extract<WaitStatus, { kind: 'exited' | 'killed' }>) => void): void {
    for (const t of [...this.tasks.values()]) {
      if (t === waited || procState(t.tid) !== 'Z') continue;
      const [pid, status] = waitTimed(t.tid, WAIT.WALL | WAIT.WNOHANG, 0);
      const st = decodeStatus(status);
      if (pid === t.tid && (st.kind === 'exited' || st.kind === 'killed')) take(t, st);
    }
  }

  /** Forgets `task`, which ended; its address space is then described by a live task. */
  protected removeTask(task: Task): void {
    this.tasks.delete(task.rec);
    if (task.rec === task.tgid) this.ended.add(task.tid);
    this.syscallBuffers.delete(task.rec);
    this.tlsOf.delete(task.rec);
    task.closeMem();
    const heir = [...this.tasks.values()].find((t) => t.as === task.as);
    if (heir) task.as.pid = heir.tid;
  }

  /** What the call `task` finished (`nr` with `args`, `result`) changed of what tsrr follows,
   * in record and replay alike: its fd table (unshare(CLONE_FILES) gives it a copy of its
   * own; a pidfd names its process; an fd taken with pidfd_getfd keeps its monitor; returns
   * the fds that changed), its code and signal state. */
  protected followCall(task: Task, nr: number, args: readonly bigint[], result: bigint): FdChange | undefined {
    if (nr === NR.unshare && result === 0n && ((args[0] ?? 0n) & CLONE.FILES) !== 0n) task.fds = task.fds.clone();
    const madeCode = (nr === NR.mmap || nr === NR.mprotect || nr === NR.pkey_mprotect) && ((args[2] ?? 0n) & PROT_EXEC) !== 0n;
    if (result >= 0n && (madeCode || nr === NR.mremap)) this.codeChanged(task);
    followSignalState(task, nr, args, result);
    const change = task.fds.afterSyscall(nr, args, result);
    if (result < 0n) return change;
    if (nr === NR.pidfd_open) task.fds.set(Number(result), new PidfdMonitor(Number(BigInt.asIntN(32, args[0]!))));
    const made = isForkCall(nr) && result > 0n ? cloneArgs(task, nr, args).pidfd : 0n;
    if (made !== 0n) task.fds.set(task.readU32(made), new PidfdMonitor(Number(result)));
    const pidfd = nr === NR.pidfd_getfd ? task.fds.get(Number(args[0])) : undefined;
    const taken = pidfd instanceof PidfdMonitor ? this.processOf(pidfd.target)?.fds.get(Number(args[1])) : undefined;
    if (taken) task.fds.set(Number(result), taken);
    return change;
  }

  /** `execer`, a thread other than `leader`, its process's main thread, made an exec, which
   * ended the main thread: the kernel gave `execer` the main thread's id, and `rec`, its id in
   * the trace, becomes the main thread's too. */
  protected tookOver(execer: Task, leader: Task): void {
    this.removeTask(leader);
    this.tasks.delete(execer.rec);
    this.syscallBuffers.delete(execer.rec);
    this.tlsOf.delete(execer.rec);
    execer.rec = leader.rec;
    this.tasks.set(execer.rec, execer);
  }

  /** At a PTRACE_EVENT_EXEC stop: patches the vDSO, runs the task to the exit of execve,
   * turns on rdtsc trapping and the session's cpuid faulting, and patches the instructions it
   * patches. Record and replay must make exactly the same calls here. */
  setUpExec(task: Task): void {
    task.execed(new AddressSpace(task.tid));
    this.tlsOf.delete(task.rec); // a new program: thread-local storage of its own
    task.as.syscallInsn = patchVdso(task);
    task.resume(PTRACE.SYSCALL);
    const st = task.wait();
    if (st.kind !== 'syscall') {
      throw new TsrrError('TRACEE_FAILED', `task ${task.tid}: expected the exit of execve, got ${JSON.stringify(st)}`, { tid: task.tid });
    }
    task.inSyscall = false;
    const tsc = task.remoteSyscall(NR.prctl, PR_SET_TSC, PR_TSC_SIGSEGV);
    if (tsc !== 0n) throw new TsrrError('UNSUPPORTED', `cannot trap rdtsc (prctl PR_SET_TSC returned ${tsc})`, { tid: task.tid });
    const faulting = this.cpuidFaulting ? task.remoteSyscall(NR.arch_prctl, ARCH_SET_CPUID, 0) : 0n;
    if (faulting !== 0n) throw new TsrrError('UNSUPPORTED', `cannot make cpuid fault (arch_prctl ARCH_SET_CPUID returned ${faulting})`, { tid: task.tid });
    this.codeChanged(task);
  }

  /** The code `task`'s process can run may have changed (an exec, a mapping, a checkpoint's
   * memory put back): the sites of the instructions this session patches are patched. */
  codeChanged(task: Task): void {
    if (this.patching.size > 0) patchInstructions(task, this.patching);
  }

  /** The file behind `task`'s mapping `m` if replay follows its changes in a shared copy of
   * its own (core/SharedFiles.ts): its identity, and a path where its bytes are now. */
  sharedFileOf(_m: Mapping, _task: Task): { identity: string; path: string } | undefined {
    return undefined;
  }

  /** Kills every task and reaps every tracee, so that none outlives the session. */
  killAll(): void {
    const pending = new Set<number>();
    const killed = [...this.tasks.values()].map((t) => t.tid);
    for (const task of this.tasks.values()) {
      kill(task.tid, SIG.KILL);
      task.closeMem();
      pending.add(task.tid);
    }
    this.tasks.clear();
    // Reaped in the order the kernel reports them (a leader only after its threads), with
    // tracees tsrr had not met yet. Other children (a debugger, a checkpoint's frozen process)
    // report nothing: the wait ends when the session's own tasks are gone.
    while (pending.size > 0) {
      const [pid, status] = waitTimed(-1, WAIT.WALL | WAIT.WNOTHREAD, 1_000_000_000);
      if (pid <= 0) break;
      const kind = decodeStatus(status).kind;
      if (kind === 'exited' || kind === 'killed') pending.delete(pid);
    }
    while (waitTimed(-1, WAIT.WALL | WAIT.WNOTHREAD | WAIT.WNOHANG, 0)[0] > 0);
    // Orphans go to the process's main thread, whose children the waits above do not see.
    for (const pid of [...this.ended, ...killed]) waitTimed(pid, WAIT.WALL | WAIT.WNOHANG, 0);
    this.ended.clear();
    this.end({ reason: 'closed', frame: this.frame });
  }

  protected exitCode(status: number): number {
    const low = status & 0x7f;
    return low === 0 ? (status >> 8) & 0xff : 128 + low;
  }
}
