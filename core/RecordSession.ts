// SPDX-License-Identifier: MIT
/**
 * A RecordSession runs a program and everything it starts under ptrace and writes the trace.
 * It stops the tasks at every syscall entry and exit, saves results and the memory the kernel
 * wrote, copies files the tracees map or execute, and traps rdtsc and cpuid (by the CPU where
 * it can, else by patching them: trapPatching.ts).
 *
 * One task runs user code at a time, so that replay can run the same stretches in the same
 * order. The scheduler keeps the running task until it blocks in a syscall (the entry is then
 * recorded, and others run until the call returns), exits, or uses up its time slice: at a
 * syscall boundary it is simply switched; in the middle of user code it is interrupted and its
 * state is recorded as a snapshot that replay puts back (see core/snapshot.ts). Asynchronous
 * signals that interrupt user code are recorded the same way.
 */
import { readdirSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { cpuid, kill, ptrace, rdtsc, strerror, tkill, waitTimed } from '../native/libc.js';
import { mappedFilePath, readLink, procState, readIfThere } from './procfs.js';
import { PTRACE, PTRACE_EVENT, SIG, WAIT, decodeStatus, endStatus, type WaitStatus } from '../native/ptrace.js';
import { ERESTART_RESTARTBLOCK, NR, iovecRegions, replayPolicy, syscallName, syscallSpec, type Region } from '../native/syscalls.js';
import type { AddressSpace, Mapping } from './AddressSpace.js';
import { cloneArgs, dropUntraced, isForkCall } from './clone.js';
import type { EventData, MappedFile, MemWrite, RemoteWrites } from './Event.js';
import { fdPosition, fileChangeOf, identityOf, identityOfObject, identityOfStats, writtenAt, writtenFd } from './fileChange.js';
import type { FileMonitor } from './FileMonitor.js';
import { ProcMemMonitor } from './ProcMemMonitor.js';
import { ProcStatusMonitor } from './ProcStatusMonitor.js';
import { MmappedFileMonitor } from './MmappedFileMonitor.js';
import type { FdTable } from './FdTable.js';
import { cpuidFaultingAvailable, machineInfo, rdtscTrapping } from './machine.js';
import type { PatchedInstruction } from './trapPatching.js';
import { launch, limitsOf } from './launch.js';
import { POLL_NS, Session, type SessionOptions } from './Session.js';
import { forceSignal, isSynchronous } from './signals.js';
import { takeSnapshot } from './snapshot.js';
import { COMPAT_CALL_MARKER, PRCTL_REGISTER, askForUnlock, clearFds, installFilter, isBufferCall, markFds, readHeader, seccompFilter, stopBuffering, takeRecords } from './syscallBuffer.js';
import { emulateVsyscall, isVsyscall, vsyscallFilter } from './vsyscall.js';
import { MAX_ERRNO, PROGRAM_FILTER_MARKER, SECCOMP_RET, actionOf, dataOf, decide, filterInstall, installRewritten, readFilter, sigsysInfo, type FilterAction } from './seccompFilters.js';
import type { Task } from './Task.js';
import { TraceWriter } from './TraceWriter.js';
import { absolute, type TraceDirClaim } from './traceDir.js';
import { procWords } from './startArguments.js';
import { writeAll } from './writeAll.js';
import { OwnSettings } from './OwnSettings.js';
import { PtraceEmulator } from './PtraceEmulator.js';
import { TRACE_FORMAT_VERSION } from './traceFile.js';
import { TsrrError } from '../native/TsrrError.js';
import { TSRR_VERSION } from './version.js';
import { emulateCpuid, emulateRdtsc, rdtscFaultInfo, trappedInstruction } from './trappedInstruction.js';
import { undoForcedSignal } from './signalState.js';

const MAP_ANONYMOUS = 0x20n;
const MAP_SHARED = 0x01n;
const O_TRUNC = 0x200n;
const O_ACCMODE = 3;
const DEV_ZERO = 0x105;
/** Calls that open a file: the argument holding the flags (openat2: in its struct open_how). */
const OPEN_FLAGS_ARG = new Map<number, number>([[NR.open, 1], [NR.openat, 2], [NR.openat2, 2], [NR.creat, 1]]);
const SECCOMP_SET_MODE_FILTER = 1n;
/** How long a stop request waits for the exits of calls under way. */
const GRACE_NS = 50_000_000n;
/** Longer than a signal pending at a resume takes to stop the task. */
const AT_ONCE_NS = 1_000_000n;
const SECCOMP_FILTER_FLAG_TSYNC = 1n;
const ESRCH = 3;
const ECHILD = 10;
/** Largest single region a syscall description may claim; anything bigger is a bad table entry. */
const MAX_REGION = 1 << 30;
/** How long a task may run while others wait to. */
const TIME_SLICE_NS = 50_000_000;
/** How long a syscall may take before tsrr looks whether it blocks. */
const BLOCK_CHECK_NS = 200_000;
/** A Ctrl-C reaches tsrr and the tracees of its terminal together; one that reached tsrr alone
 * (no tracee got it within this time) stops the recording. */
const SIGINT_GRACE_MS = 200;

export interface RecordOptions extends SessionOptions {
  /** The program as the user named it. */
  readonly program: string;
  /** Its absolute path. */
  readonly path: string;
  readonly argv: string[];
  readonly envp: string[];
  /** The trace directory, claimed. */
  readonly dir: TraceDirClaim;
  /** A clock that needs no syscall (core/control.ts): events pending for a tick go to disk. */
  readonly ticks: () => number;
  readonly cpu: number;
  /** Fds beyond 0-2 the program inherits. */
  readonly fds: readonly number[];
  /** Whether recording goes on until every process ended, not only the first (record -w). */
  readonly waitForAll: boolean;
  /** Whether the preload library's buffered calls run without stops (the program must have
   * it preloaded: LD_PRELOAD). */
  readonly syscallBuffer: boolean;
  /** Whether to make cpuid fault where the CPU can (record --no-cpuid-faulting: patch it instead). */
  readonly cpuidFaulting: boolean;
  /** Whether to patch rdtsc sites where the CPU could trap rdtsc (record --patch-rdtsc). */
  readonly patchRdtsc?: boolean;
}

interface PendingSyscall {
  number: number;
  args: bigint[];
  ip: bigint;
  sp: bigint;
  regsCrc: number;
}


const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;

/** The fds a call got from elsewhere: another process's (pidfd_getfd), or passed with
 * SCM_RIGHTS (recvmsg, recvmmsg: each message's). */
function receivedFds(task: Task, nr: number, args: readonly bigint[], result: bigint): number[] {
  if (nr === NR.pidfd_getfd) return [Number(result)];
  if (nr === NR.recvmsg) return passedFds(task, args[1]!);
  if (nr === NR.recvmmsg) return Array.from({ length: Number(result) }, (_, i) => passedFds(task, args[1]! + BigInt(i * 64))).flat();
  return [];
}

/** The fds received with SCM_RIGHTS into the struct msghdr at `msg`. */
function passedFds(task: Task, msg: bigint): number[] {
  const head = task.readMem(msg, 48);
  const control = head.readBigUInt64LE(32) === 0n ? undefined : task.readMemPartial(head.readBigUInt64LE(32), Number(head.readBigUInt64LE(40)));
  const fds: number[] = [];
  for (let at = 0; control && at + 16 <= control.length; ) {
    const len = Number(control.readBigUInt64LE(at));
    if (len < 16) break;
    if (control.readInt32LE(at + 8) === SOL_SOCKET && control.readInt32LE(at + 12) === SCM_RIGHTS) {
      for (let p = at + 16; p + 4 <= at + len && p + 4 <= control.length; p += 4) fds.push(control.readInt32LE(p));
    }
    at += (len + 7) & ~7;
  }
  return fds;
}

/** Where a link points, '' if it is gone. */
function readlinkIfThere(path: string): string {
  try {
    return readLink(path);
  } catch {
    return '';
  }
}

/** A file's identity (core/fileChange.ts), undefined once it is gone. */
function identityIfThere(path: string): string | undefined {
  try {
    return identityOf(path);
  } catch {
    return undefined;
  }
}


/** Whether `tid` sleeps in the kernel (blocked in a syscall). */
const sleeping = (tid: number) => ['S', 'D'].includes(procState(tid) ?? '');

/** Whether `tid` has ended (or is waiting to be reaped). */
const ended = (tid: number) => ['Z', 'X', undefined].includes(procState(tid));

/** Whether signal `signo` is pending for `tid` or its process. */
function pending(tid: number, signo: number): boolean {
  const status = readIfThere(`/proc/${tid}/status`);
  const bit = 1n << BigInt(signo - 1);
  return [...status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)].some((m) => (BigInt('0x' + m[1]) & bit) !== 0n);
}

export class RecordSession extends Session {
  readonly mode = 'record';
  private writer!: TraceWriter;
  private xsaveSize = 512;
  private readonly pending = new Map<number, PendingSyscall>();
  /** The task whose stretch of user code (or syscall) is in progress. */
  private current: Task | undefined;
  private sliceStart = 0n;
  /** crc32 of the registers each task last went back to user code with (none once it made
   * buffered calls since: user code ran), and when (process.hrtime). */
  private readonly resumedCrc = new Map<Task, number>();
  private readonly resumedAt = new Map<Task, bigint>();
  /** Tasks in a syscall whose entry is in the trace already (a syscallEntry or fork event). */
  private readonly entryRecorded = new Set<Task>();
  /** Threads in an exec that replaces their process's main thread, with that thread. */
  private readonly replacing = new Map<Task, Task>();
  /** What to put back at the exit of a task's call (a clone's flags without CLONE_UNTRACED). */
  private readonly atExit = new Map<Task, () => void>();
  /** The signal of each task's last group-stop. */
  private readonly stopSignals = new WeakMap<Task, number>();
  /** Tasks that have a PTRACE_INTERRUPT pending which caught them at another stop. */
  private readonly interruptPending = new Set<Task>();
  /** Stops of new tasks that came before their parent's fork event. */
  private readonly earlyStops = new Map<number, number>();
  /** Stops of other tasks that came while the current one was in a syscall: they are
   * recorded after that call's stop, because replay may need the call to have run first (a
   * vfork returns when the child's exec has started). */
  private readonly deferred: [Task, number][] = [];
  /** The settings of each task that tsrr hides its own from (core/OwnSettings.ts). */
  private readonly own = new Map<Task, OwnSettings>();
  /** Why calls were refused (each is said once). */
  private readonly refusals = new Set<string>();
  /** Filters of the program's own that a task's call installs at its exit. */
  private readonly pendingFilters = new Map<Task, { prog: Buffer | undefined; flags: bigint }>();
  /** The call a task's next restart_syscall goes on with (it takes no arguments of its own). */
  private readonly restartable = new WeakMap<Task, { number: number; args: readonly bigint[] }>();
  /** The SIGSYS a task's filter gives it at the exit of the call it stopped (SECCOMP_RET_TRAP,
   * or, fatal, SECCOMP_RET_KILL_*), its siginfo, until it is delivered. */
  private readonly sigsys = new Map<Task, { info: Buffer; fatal: boolean }>();
  /** Results of calls skipped at their entry, for their exit. */
  private readonly hiddenResults = new Map<Task, bigint>();
  /** Files some tracee mapped shared, by identity (core/MmappedFileMonitor.ts). */
  private readonly sharedFiles = new Set<string>();
  /** Hashes of the page contents the trace holds (snapshots). */
  private readonly knownPages = new Set<bigint>();
  private rootStatus = 0;
  private rootTgid = 0;
  /** Whether the seccomp filter that lets buffered calls through is on (tasks then run with
   * PTRACE_CONT and stop at the filter's SECCOMP_RET_TRACE instead of every syscall). */
  private filtered = false;
  /** Whether tsrr's filter is on: that one, or without buffering the one that stops calls
   * through the vsyscall page (core/vsyscall.ts). */
  private ownFilter = false;
  /** Signals held back while their task was inside a buffered call. */
  private readonly heldSignals = new Map<Task, number[]>();
  /** Whether `task`'s process may buffer calls: not when they must all meet a seccomp filter
   * of the program's, or make syscall stops for a tracer of the program's. */
  private mayBuffer(task: Task): boolean {
    // Without tsrr's filter every call stops anyway: buffered, it would be recorded twice.
    return this.filtered && this.own.get(task)!.filters.length === 0 && !this.programTracing.stopsAtSyscalls(task);
  }

  /** Address spaces whose library page has fd bits, and the fd table they follow. */
  private readonly fdBits = new WeakMap<AddressSpace, FdTable>();
  private sigintSeen = 0;
  private sigintDeadline = 0;

  /** ptrace as the program uses it (core/PtraceEmulator.ts). */
  private readonly programTracing = new PtraceEmulator({
    processOf: (id) => this.processOf(id),
    parentOf: (t) => {
      const ppid = /^PPid:\s*(\d+)/m.exec(readIfThere(`/proc/${t.tid}/status`))?.[1];
      return ppid === undefined ? undefined : this.processOf(Number(ppid));
    },
    leaveGroupStop: (t) => {
      if (t.state !== 'group-stop') return undefined;
      // PTRACE_LISTEN left it where requests fail; an interrupt's stop is one where they work.
      ptrace(PTRACE.INTERRUPT, t.tid);
      const st = this.waitFor(t, false);
      if (st.kind !== 'event' || st.event !== PTRACE_EVENT.STOP) throw new TsrrError('TRACEE_FAILED', `task ${t.tid}: expected the stop of an interrupt, got ${JSON.stringify(st)}`, { tid: t.tid });
      t.state = 'stopped';
      return this.stopSignals.get(t);
    },
    park: (t) => {
      t.state = 'traced';
      if (this.current === t) this.current = undefined;
    },
    release: (t, entry) => {
      t.state = 'stopped';
      if (!this.mayBuffer(t)) stopBuffering(t);
      if (entry) this.releasedAtEntry.add(t);
    },
    finishWait: (tracer, result) => {
      if (result !== undefined) {
        this.hiddenResults.set(tracer, result);
        tracer.getRegs().origRax = -1n;
        tracer.setRegs();
      }
      tracer.state = 'stopped';
    },
  });
  /** Tasks a program tracer let go on at a syscall's entry, which tsrr handles when they run. */
  private readonly releasedAtEntry = new Set<Task>();

  constructor(readonly opts: RecordOptions) {
    super(opts);
  }

  get trace(): TraceWriter {
    return this.writer;
  }

  /** The last event recorded (0 before the first). */
  get frame(): number {
    return this.writer?.frameCount ?? 0;
  }

  /** Records until every task exited or the user interrupted; returns tsrr's exit status
   * (the first process's). */
  run(): number {
    return this.runToEnd(() => this.recordAll(), () => ({ reason: 'exited', frame: this.frame, status: this.rootStatus }));
  }

  private recordAll(): number {
    const { opts } = this;
    const tid = launch(opts.path, opts.argv, opts.envp, opts.cpu, opts.fds);
    const task = this.adoptTask(tid);
    this.own.set(task, OwnSettings.initial());
    this.rootTgid = task.tgid;
    this.cpuidFaulting = opts.cpuidFaulting && cpuidFaultingAvailable();
    const patchRdtsc = opts.patchRdtsc === true || !rdtscTrapping();
    this.patching = new Set<PatchedInstruction>([...(patchRdtsc ? (['rdtsc', 'rdtscp'] as const) : []), ...(this.cpuidFaulting ? [] : (['cpuid'] as const))]);
    this.setUpExec(task);
    // Inherited by every process the program starts, across exec.
    this.ownFilter = installFilter(task, opts.syscallBuffer ? seccompFilter() : vsyscallFilter());
    this.filtered = opts.syscallBuffer && this.ownFilter;
    const machine = machineInfo(opts.cpu, this.cpuidFaulting, [...this.patching]);
    this.xsaveSize = machine.xsaveSize;
    this.writer = TraceWriter.create(opts.dir, opts.ticks, {
      formatVersion: TRACE_FORMAT_VERSION,
      tsrrVersion: TSRR_VERSION,
      uuid: randomUUID(),
      program: opts.program,
      executable: opts.path,
      argv: opts.argv,
      envp: opts.envp,
      cwd: absolute('.'),
      startTimeNs: BigInt(Date.now()) * 1_000_000n,
      machine,
      limits: limitsOf(tid),
    });
    try {
      this.recordExec(task);
      return this.loop();
    } finally {
      this.writer.close();
    }
  }

  private loop(): number {
    for (;;) {
      if (this.tasks.size === 0) return this.exitCode(this.rootStatus);
      const [pid, status] = this.survive(() => {
        if (!this.midSyscall()) this.drainDeferred();
        if (!this.current) this.switchTo(this.nextRunnable());
        this.writer.writeFullBlock();
        return waitTimed(-1, WAIT.WALL | WAIT.WNOTHREAD, this.timeout());
      }) ?? [0, 0];
      if (this.stopRequested()) {
        // A stop that came with the request goes into the trace first: it may end a syscall
        // whose effect (output) is out already.
        if (pid > 0) this.dispatch(pid, status);
        this.endCallsUnderWay();
        return this.interrupt();
      }
      if (pid === -ECHILD) {
        // Gone without a status tsrr saw (killed from outside while it handled them).
        for (const t of [...this.tasks.values()]) this.onExit(t, SIG.KILL);
        continue;
      }
      if (pid < 0) throw new TsrrError('TRACEE_FAILED', `waiting for the tracees failed: ${strerror(-pid)}`, {});
      if (pid === 0) {
        this.survive(() => this.onTimeout());
        this.writer.flushIfDue();
        continue;
      }
      this.dispatch(pid, status);
    }
  }

  /** At a stop request: the exits of calls under way that come within a moment go into the
   * trace too (a write whose bytes a reader has already), and nothing is resumed any more. */
  private endCallsUnderWay(): void {
    this.current = undefined; // proceed() then leaves each task stopped
    const deadline = process.hrtime.bigint() + GRACE_NS;
    for (const task of [...this.tasks.values()]) {
      const left = deadline - process.hrtime.bigint();
      if (task.state !== 'kernel' || left <= 0n) continue;
      const [pid, status] = waitTimed(task.tid, WAIT.WALL, Number(left));
      if (pid !== task.tid) continue;
      const st = decodeStatus(status);
      if (st.kind === 'syscall') this.survive(() => this.onStop(task, st));
    }
  }

  /** Handles the stop `status` of task `pid`, now or (see `deferred`) later. */
  private dispatch(pid: number, status: number): void {
    const task = this.tasks.get(pid);
    const st = decodeStatus(status);
    // An exec stop is never deferred: it may be the current task's, reported as its main
    // thread's (an exec by another thread).
    const exec = st.kind === 'event' && st.event === PTRACE_EVENT.EXEC;
    if (!task) this.earlyStops.set(pid, status);
    else if (task !== this.current && this.midSyscall() && !exec) this.deferred.push([task, status]);
    else this.survive(() => this.onStop(task, st));
  }

  /** Runs `fn`; a task killed from outside in the meantime (SIGKILL) makes ptrace fail with
   * ESRCH: it is then left to report its end, which is recorded. */
  private survive<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof TsrrError && e.context.errno === ESRCH)) throw e;
      for (const t of this.tasks.values()) if (ended(t.tid)) t.state = 'exiting';
      // A current task the failure left stopped (not resumed) is the scheduler's again.
      if (this.current?.state === 'exiting' || this.current?.state === 'stopped') this.current = undefined;
      return undefined;
    }
  }

  /** Whether the current task is in a syscall whose entry the trace does not have. */
  private midSyscall(): boolean {
    return this.current?.state === 'kernel' && !this.entryRecorded.has(this.current);
  }

  private drainDeferred(): void {
    for (let d = this.deferred.shift(); d; d = this.deferred.shift()) {
      const [task, status] = d;
      // One killed meanwhile does not stop the others', nor the caller's.
      if (this.tasks.has(task.rec)) this.survive(() => this.onStop(task, decodeStatus(status)));
    }
  }

  /** The first task in turn order that tsrr stopped and could run. */
  private nextRunnable(): Task | undefined {
    for (const t of this.tasks.values()) if (t.state === 'stopped') return t;
    return undefined;
  }

  private othersWaiting(): boolean {
    if (this.deferred.length > 0) return true;
    for (const t of this.tasks.values()) if (t.state === 'stopped' && t !== this.current) return true;
    return false;
  }

  private switchTo(task: Task | undefined): void {
    this.current = task;
    if (!task) return;
    // Turn order: the task goes to the back of the line.
    this.tasks.delete(task.rec);
    this.tasks.set(task.rec, task);
    this.sliceStart = process.hrtime.bigint();
    if (this.releasedAtEntry.delete(task)) this.syscallEntry(task, false, true);
    else this.resume(task);
  }

  /** Lets `task` go on from its stop: into user code, or on inside its syscall. */
  private resume(task: Task): void {
    if (task.inSyscall) {
      task.state = 'kernel';
    } else {
      task.state = 'user';
      this.resumedCrc.set(task, crc32((task.regsValid ? task.regs : task.getRegs()).buf));
      this.resumedAt.set(task, process.hrtime.bigint());
    }
    // A task the program's tracer single-steps steps, but into a syscall (whose entry a step
    // does not stop at).
    const stepping = this.programTracing.stepping(task) && !task.inSyscall && !task.stepsIntoSyscall();
    const request = stepping ? PTRACE.SINGLESTEP : this.filtered && !task.inSyscall ? PTRACE.CONT : PTRACE.SYSCALL;
    task.continue(request);
  }

  /** Moves the records of the task's buffered calls into the trace; false (and nothing moved)
   * while a buffered call is under way (it adds its record when it ends). */
  private flush(task: Task): boolean {
    const buffer = this.syscallBuffers.get(task.rec);
    const records = buffer === undefined ? undefined : takeRecords(task, buffer);
    if (records?.length) {
      this.record(task, { kind: 'buffered', records });
      this.resumedCrc.delete(task);
    }
    return buffer === undefined || records !== undefined;
  }

  private sliceOver(): boolean {
    return process.hrtime.bigint() - this.sliceStart >= BigInt(TIME_SLICE_NS);
  }

  private timeout(): number {
    const cur = this.current;
    if (!cur || !this.othersWaiting()) return POLL_NS;
    if (cur.state === 'kernel') return BLOCK_CHECK_NS;
    const left = TIME_SLICE_NS - Number(process.hrtime.bigint() - this.sliceStart);
    return Math.max(1_000_000, Math.min(left, POLL_NS));
  }

  private onTimeout(): void {
    const cur = this.current;
    if (!cur || !this.othersWaiting()) return;
    if (cur.state === 'kernel' && sleeping(cur.tid)) {
      // Blocked: others run until the call returns, after its entry in the trace.
      if (!this.entryRecorded.has(cur)) {
        this.record(cur, { kind: 'syscallEntry', number: this.pending.get(cur.tid)!.number });
        this.entryRecorded.add(cur);
      }
      this.current = undefined;
    } else if (cur.state === 'user' && this.sliceOver()) {
      this.preempt(cur);
    }
  }

  /** Interrupts `task`, which used up its time slice in user code, and switches it out. */
  private preempt(task: Task): void {
    ptrace(PTRACE.INTERRUPT, task.tid);
    const st = this.waitFor(task, false);
    if (st.kind === 'event' && st.event === PTRACE_EVENT.STOP) {
      if (!this.flush(task)) {
        // Inside a buffered call, whose replay must not start from a snapshot: a little later.
        this.resume(task);
        return;
      }
      task.state = 'stopped';
      this.current = undefined;
      task.getRegs();
      if (crc32(task.regs.buf) !== this.resumedCrc.get(task)) {
        this.record(task, { kind: 'preempt', snapshot: takeSnapshot(task, this.xsaveSize, this.knownPages) });
      }
      return;
    }
    if (st.kind === 'syscall' || (st.kind === 'event' && st.event === PTRACE_EVENT.SECCOMP)) {
      // It entered a syscall just before: the interrupt would cut that call short. It is
      // spent on a skipped call instead and the syscall instruction runs again.
      const entry = task.getRegs().clone();
      task.regs.origRax = -1n;
      task.setRegs();
      task.resume(PTRACE.SYSCALL);
      const exit = this.waitFor(task, false);
      if (exit.kind !== 'syscall') throw new TsrrError('TRACEE_FAILED', `task ${task.tid}: expected the exit of a skipped call while taking back an interrupt, got ${JSON.stringify(exit)}`, { tid: task.tid });
      // Back at the syscall instruction before it goes on, wherever it stops next.
      entry.rip -= 2n;
      entry.rax = entry.origRax;
      entry.origRax = -1n;
      task.setRegs(entry);
      task.resume(PTRACE.SYSCALL);
      let next = this.waitFor(task, false);
      // The interrupt's stop, unless a trap of the call took it away.
      if (next.kind === 'event' && next.event === PTRACE_EVENT.STOP) {
        task.resume(PTRACE.SYSCALL);
        next = this.waitFor(task, false);
      }
      this.onStop(task, next);
      return;
    }
    this.interruptPending.add(task);
    this.onStop(task, st);
  }

  /** Whether the user asked to stop the recording. A Ctrl-C that the tracees got as well is
   * theirs to handle (and is recorded); one sent to tsrr alone stops it. */
  private stopRequested(): boolean {
    if (!this.options.interrupted()) return false;
    if (this.options.stopSignal?.() !== SIG.INT) return true;
    const now = Date.now();
    if (now - this.sigintSeen < 1000 || [...this.tasks.values()].some((t) => pending(t.tid, SIG.INT))) {
      this.options.cancelStop?.();
      this.sigintDeadline = 0;
      return false;
    }
    if (this.sigintDeadline === 0) this.sigintDeadline = now + SIGINT_GRACE_MS;
    return now >= this.sigintDeadline;
  }

  private onStop(stopped: Task, st: WaitStatus): void {
    const task = st.kind === 'event' && st.event === PTRACE_EVENT.EXEC ? this.execer(stopped) : stopped;
    // Not at an exec stop (the buffer went with the old program, flushed at the execve's
    // entry), nor at a syscall's exit (no user code ran since its entry).
    const ranCode = st.kind === 'signal' || (st.kind === 'syscall' && !task.inSyscall) || (st.kind === 'event' && st.event !== PTRACE_EVENT.EXEC);
    if (ranCode) this.flush(task);
    switch (st.kind) {
      case 'syscall':
        if (task.inSyscall) this.syscallExit(task);
        else this.syscallEntry(task);
        break;
      case 'event':
        this.onEvent(task, st);
        break;
      case 'signal':
        this.onSignal(task, st.signal);
        break;
      case 'exited':
      case 'killed':
        this.onExit(task, endStatus(st));
        break;
    }
  }

  /** After a stop of the current task: let it go on, or end its turn. */
  private proceed(task: Task, yieldTurn = false): void {
    if (task !== this.current) {
      task.state = 'stopped';
      return;
    }
    task.state = 'stopped';
    this.drainDeferred();
    if (!task.inSyscall && this.othersWaiting() && (yieldTurn || this.sliceOver()) && !this.inBufferedCall(task)) {
      this.current = undefined;
      return;
    }
    this.resume(task);
  }

  /** Whether the task stopped inside a buffered call (an interrupt's stop after a signal it
   * holds back): it keeps its turn, or a snapshot of another thread would catch the memory
   * of calls that no event of its own has replay make. */
  private inBufferedCall(task: Task): boolean {
    const buffer = this.syscallBuffers.get(task.rec);
    return buffer !== undefined && readHeader(task, buffer).locked;
  }

  private record(task: Task, data: EventData) {
    const e = this.writer.append(task.rec, data);
    this.tellCalls(e, task);
    this.hooks.eventRecorded.call(e, task);
    return e;
  }

  /** At a syscall's entry; `filtered`: a seccomp stop of the program's own filters;
   * `released`: a program tracer that stopped the task here let it go on. */
  private syscallEntry(task: Task, filtered = false, released = false): void {
    const r = task.getRegs();
    const nr = r.syscallNumber;
    if (!released && this.programTracing.stopsAtSyscalls(task)) {
      // Replay holds the task at this entry too (its tracer may change the call).
      this.record(task, { kind: 'syscallEntry', number: nr });
      this.programTracing.syscallStop(task, true);
      return;
    }
    this.hooks.beforeSyscall.call(task, nr);
    const args = r.args();
    const call = { number: nr, args, ip: r.rip, sp: r.rsp, regsCrc: task.regsCrc() };
    this.pending.set(task.tid, call);
    const waited = nr === NR.wait4 ? this.waitForTracees(task, args) : undefined;
    if (waited === 'held') return;
    // A program tracer that emulates the task's calls (PTRACE_SYSEMU) skips them, with the
    // result it put in rax.
    const emulated = released && this.programTracing.takeSkip(task) ? r.rax : undefined;
    const acting = this.actingFilters(task, call);
    const vsyscall = isVsyscall(r.rip);
    const hidden = emulated ?? waited ?? (filtered || acting !== undefined ? this.filterOutcome(task, call, acting) : vsyscall ? emulateVsyscall(task, nr, args) : this.hiddenResult(task, nr, args));
    if (hidden !== undefined) this.hiddenResults.set(task, hidden);
    if (replayPolicy(nr, args) === 'deny' || hidden !== undefined) {
      r.origRax = -1n;
      task.setRegs();
    } else if (isForkCall(nr)) {
      const undo = dropUntraced(task, nr, args);
      if (undo) this.atExit.set(task, undo);
    }
    task.inSyscall = true;
    if (nr === NR.exit || nr === NR.exit_group) {
      this.exitCall(task, nr);
      return;
    }
    // The kernel returns from the vsyscall page as it leaves this stop: no exit stop comes.
    if (vsyscall) {
      task.returnFromVsyscall();
      this.syscallExit(task);
    }
    else this.proceed(task);
  }

  /** A wait4 of a program tracer whose tracees may answer it: 'held' when the task waits for
   * them, held at the entry until one stops (or a child ends); else the result a stopped
   * tracee gives it, if one does (the call then does not run). */
  private waitForTracees(task: Task, args: bigint[]): bigint | 'held' | undefined {
    const w = this.programTracing.wait(task, args);
    if (!w.hold) return w.result;
    this.record(task, { kind: 'syscallEntry', number: NR.wait4 });
    this.entryRecorded.add(task);
    task.inSyscall = true;
    task.state = 'kernel';
    if (this.current === task) this.current = undefined;
    return 'held';
  }

  /** The result a call gets without running, where tsrr gives it one: the library's calls to
   * tsrr (0: "tsrr is here"; a registration is refused to a thread under a filter of the
   * program's own, whose calls must all stop), calls tsrr refuses, ptrace (emulated), changes
   * of CPU affinity, answers about settings tsrr hides, and the installation of a filter of
   * the program's (made at the exit). */
  private hiddenResult(task: Task, nr: number, args: bigint[]): bigint | undefined {
    const own = this.own.get(task)!;
    if (isBufferCall(nr, args)) {
      if (args[0] === PRCTL_REGISTER && own.filters.length > 0) return -22n;
      this.bufferCall(task, args);
      return 0n;
    }
    const refused = this.refused(nr, args);
    if (refused !== undefined) return refused;
    if (nr === NR.ptrace) return this.programTracing.request(task, args);
    // Tracees stay on the CPU they are bound to (cpuid answers as recorded): a change of
    // affinity succeeds without taking effect, as under rr.
    if (nr === NR.sched_setaffinity && this.opts.cpu >= 0) return 0n;
    const filter = filterInstall(nr, args);
    if (filter) {
      this.pendingFilters.set(task, { ...filter, prog: readFilter(task, filter.fprog) });
      return -14n; // EFAULT, unless the filter can be read and installed at the exit
    }
    return own.hiddenResult(nr, args);
  }

  /** What the program's own filters do with `call`, if they act on it (other than allow it):
   * at an entry stop (PTRACE_SYSCALL), which comes before the kernel runs the filters, what
   * tsrr would make of the call must not hide it from them. */
  private actingFilters(task: Task, call: PendingSyscall): FilterAction | undefined {
    const filters = this.own.get(task)!.filters;
    if (filters.length === 0) return undefined;
    const action = decide(filters, call.number, call.ip, call.args);
    return actionOf(action) !== SECCOMP_RET.ALLOW && actionOf(action) !== SECCOMP_RET.LOG ? action : undefined;
  }

  /** A call the program's own filters stopped (tsrr installed them rewritten): what the
   * kernel would have done, as the result the call gets; a SIGSYS (SECCOMP_RET_TRAP) or a
   * death (SECCOMP_RET_KILL_*) follows at its exit. */
  private filterOutcome(task: Task, call: PendingSyscall, action = decide(this.own.get(task)!.filters, call.number, call.ip, call.args)): bigint {
    switch (actionOf(action)) {
      case SECCOMP_RET.ERRNO:
        return -BigInt(Math.min(dataOf(action), MAX_ERRNO));
      case SECCOMP_RET.TRAP:
        this.sigsys.set(task, { info: sigsysInfo(call.number, call.ip, action), fatal: false });
        return BigInt(call.number); // the kernel rolls rax back to the call's number
      case SECCOMP_RET.KILL_PROCESS:
      case SECCOMP_RET.KILL_THREAD:
        this.sigsys.set(task, { info: sigsysInfo(call.number, call.ip, action), fatal: true });
        return -38n;
      default: // RET_TRACE and RET_USER_NOTIF with nobody to take them
        return -38n;
    }
  }

  /** exit and exit_group: the entry is recorded (replay lets the call run there), and the
   * tasks that end are waited for, so that nothing runs while they go. */
  private exitCall(task: Task, nr: number): void {
    this.record(task, { kind: 'syscallEntry', number: nr });
    this.entryRecorded.add(task);
    const group = [...this.tasks.values()].filter((t) => t.tgid === task.tgid);
    const ending = nr === NR.exit_group ? group : [task];
    for (const t of ending) t.state = 'exiting';
    if (this.current && ending.includes(this.current)) this.current = undefined;
    task.resume(PTRACE.SYSCALL);
    // A leader's end is reported only once its threads are gone; they are waited for first.
    const leaderLast = ending.filter((t) => t.tid !== t.tgid).concat(ending.filter((t) => t.tid === t.tgid));
    for (const t of leaderLast) {
      if (t.tid === t.tgid && group.some((g) => g !== t && !ending.includes(g))) continue;
      // Its exit-event stop is its tracer's to see (PTRACE_O_TRACEEXIT): the main loop meets it.
      if (this.programTracing.wantsExit(t)) continue;
      // (One may have ended while another was waited for.)
      while (this.tasks.get(t.rec) === t) {
        const st = this.waitFor(t, false);
        if (st.kind === 'exited' || st.kind === 'killed') {
          this.onExit(t, endStatus(st));
          break;
        }
        t.resume(PTRACE.SYSCALL); // an exit-event or group stop on the way out
      }
    }
  }

  /** While a wait for one task goes on: the others that ended are reaped and their ends
   * recorded (the end of a PID namespace's init waits for its tracer to reap the processes
   * the kernel killed in it). */
  protected override polled(task: Task, _interruptible: boolean): void {
    this.reapEnded(task, (t, st) => this.onExit(t, endStatus(st)));
  }

  private syscallExit(task: Task): void {
    this.atExit.get(task)?.();
    this.atExit.delete(task);
    task.inSyscall = false;
    this.entryRecorded.delete(task);
    const call = this.pending.get(task.tid)!;
    const r = task.getRegs();
    const hidden = this.hiddenResults.get(task);
    if (hidden !== undefined) {
      this.hiddenResults.delete(task);
      r.rax = hidden; // the call was skipped
      task.setRegs();
    }
    const filter = this.pendingFilters.get(task);
    this.pendingFilters.delete(task);
    if (filter?.prog) {
      r.rax = this.installProgramFilter(task, filter.prog, filter.flags);
      task.setRegs();
    }
    const result = r.result;
    if (call.number === NR.shmget && result >= 0n) this.sysvSegments.created(result, call.args[1]!, result);
    const own = this.own.get(task)!;
    const output = own.hiddenOutput(call.number, call.args, result);
    if (output) task.writeMem(...output);
    this.ownSettingsChanged(task, call, result);
    if (result > 0n && (call.number === NR.read || call.number === NR.pread64)) this.hideFromStatus(task, call, result);
    // A restart_syscall writes what the call it goes on with writes (poll's revents, ...).
    const made = (call.number === NR.restart_syscall && this.restartable.get(task)) || call;
    if (result === ERESTART_RESTARTBLOCK) this.restartable.set(task, made);
    else this.restartable.delete(task);
    const spec = syscallSpec(made.number);
    const describe = result >= 0n ? spec?.writes : spec?.failedWrites;
    const writes: MemWrite[] = [];
    if (describe) {
      const mem = { u32: (a: bigint) => task.readU32(a), u64: (a: bigint) => task.readU64(a) };
      const fdInfo = (fd: number) => readIfThere(`/proc/${task.tid}/fdinfo/${fd}`);
      for (const region of describe({ args: made.args, result, mem, fdInfo })) writes.push(this.capture(task, call, region));
    }
    const data: EventData = { kind: 'syscall', ...call, result, writes, ...(hidden !== undefined && { skipped: true }) };
    if (call.number === NR.mmap && result >= 0n && (call.args[3]! & MAP_ANONYMOUS) === 0n) data.mappedFile = this.mappedFile(task, call.args);
    const shared = task.fds;
    const change = this.followCall(task, call.number, call.args, result);
    // An fd table of its own in an address space others share: the library's fd bits can
    // follow neither.
    if (task.fds !== shared && this.fdBits.has(task.as)) {
      clearFds(task);
      this.fdBits.delete(task.as);
    }
    if (result >= 0n) this.followFdMonitors(task, call, result, data);
    const bitsOf = change && this.fdBits.get(task.as);
    if (change && bitsOf) markFds(task, change, bitsOf !== task.fds);
    const e = this.record(task, data);
    this.hooks.afterSyscall.call(task, e);
    const sigsys = this.sigsys.get(task);
    if (sigsys) {
      forceSignal(task, SIG.SYS, sigsys.fatal);
      tkill(task.tid, SIG.SYS);
    }
    if (this.programTracing.stopsAtSyscalls(task, true)) this.programTracing.syscallStop(task, false);
    else if (!this.programTracing.interrupted(task)) this.proceed(task, call.number === NR.sched_yield);
  }

  /** A read of a task's /proc status (ProcStatusMonitor): the program's own seccomp mode,
   * filters and no_new_privs in what it read, not tsrr's. */
  private hideFromStatus(task: Task, call: PendingSyscall, result: bigint): void {
    const monitor = task.fds.get(Number(BigInt.asIntN(32, call.args[0]!)));
    const target = monitor instanceof ProcStatusMonitor ? this.processOf(monitor.target) : undefined;
    const own = target && this.own.get(target);
    if (!own) return;
    const text = task.readMem(call.args[1]!, Number(result)).toString('latin1');
    const hidden = ProcStatusMonitor.hide(text, {
      Seccomp: () => Number(own.seccomp),
      NoNewPrivs: () => (own.noNewPrivs ? 1 : 0),
      // tsrr's filter is one of them.
      Seccomp_filters: (shown) => shown - (this.ownFilter ? 1 : 0),
    });
    if (hidden !== text) task.writeMem(call.args[1]!, Buffer.from(hidden, 'latin1'));
  }

  /** Installs a filter of the program's own in `task` (see core/seccompFilters.ts): rewritten,
   * and kept as written in its settings (with SECCOMP_FILTER_FLAG_TSYNC, all its process's
   * threads'). Its process stops buffering calls: they must all meet the filter. */
  private installProgramFilter(task: Task, prog: Buffer, flags: bigint): bigint {
    const result = installRewritten(task, prog, flags);
    if (result !== 0n) return result;
    const own = this.own.get(task)!;
    own.filters.push(prog);
    if ((flags & SECCOMP_FILTER_FLAG_TSYNC) !== 0n) {
      for (const t of this.tasks.values()) if (t.tgid === task.tgid) this.own.get(t)!.filters = [...own.filters];
    }
    if (!this.mayBuffer(task)) stopBuffering(task);
    return result;
  }

  override sharedFileOf(m: Mapping, task: Task): { identity: string; path: string } | undefined {
    if (m.kind !== 'file' || this.sharedFiles.size === 0) return undefined;
    const identity = identityOfObject(m.object);
    if (!this.sharedFiles.has(identity)) return undefined;
    return { identity, path: mappedFilePath(task.tid, m) };
  }

  /** The file an mmap mapped: its copy in the trace (none for /dev/zero, whose mappings are
   * anonymous memory) and its identity. A file mapped shared, or through an fd open for
   * writing (the program may change what a private mapping of it has not copied yet), has its
   * fds watched from then on (core/MmappedFileMonitor.ts). */
  private mappedFile(task: Task, args: readonly bigint[]): MappedFile {
    const fd = Number(BigInt.asIntN(32, args[4]!));
    const fdPath = `/proc/${task.tid}/fd/${fd}`;
    const path = readLink(fdPath);
    const st = statSync(fdPath);
    const identity = identityOfStats(st);
    if (st.isCharacterDevice() && st.rdev === DEV_ZERO) return { path, copy: '', identity, watched: false };
    const copy = this.writer.copyFile(fdPath, path);
    const writable = (Number.parseInt(/^flags:\s*(\d+)/m.exec(readIfThere(`/proc/${task.tid}/fdinfo/${fd}`))?.[1] ?? '0', 8) & O_ACCMODE) !== 0;
    if (((args[3]! & MAP_SHARED) !== 0n || writable) && !this.sharedFiles.has(identity)) {
      this.sharedFiles.add(identity);
      this.watchSharedFile(identity);
    }
    return { path, copy, identity, watched: this.sharedFiles.has(identity) };
  }

  /** Puts a monitor on every fd of every process that refers to file `identity`. */
  private watchSharedFile(identity: string): void {
    const tables = new Map<FdTable, Task>();
    for (const t of this.tasks.values()) if (!tables.has(t.fds)) tables.set(t.fds, t);
    for (const [table, t] of tables) {
      for (const name of readdirSync(`/proc/${t.tid}/fd`)) {
        const fd = Number(name);
        if (fd < 0 || table.get(fd) || identityIfThere(`/proc/${t.tid}/fd/${fd}`) !== identity) continue;
        this.watchFd(t, fd, new MmappedFileMonitor(identity));
      }
    }
  }

  /** Monitors `fd` of `task`'s process (a file mapped shared, /proc/PID/mem): its calls are
   * no longer buffered. */
  private watchFd(task: Task, fd: number, monitor: FileMonitor): void {
    task.fds.set(fd, monitor);
    const bitsOf = this.fdBits.get(task.as);
    if (bitsOf) markFds(task, { first: fd, last: fd, closed: false }, bitsOf !== task.fds);
  }

  /** After a successful call: an fd opened on a file mapped shared or on a traced process's
   * /proc/PID/mem is watched (an open with O_TRUNC empties the file), and a call that wrote
   * through a watched fd, or process_vm_writev, has what it wrote in its event. */
  private followFdMonitors(task: Task, call: PendingSyscall, result: bigint, data: Extract<EventData, { kind: 'syscall' }>): void {
    const flagsArg = OPEN_FLAGS_ARG.get(call.number);
    const received = receivedFds(task, call.number, call.args, result);
    for (const fd of flagsArg !== undefined ? [Number(result)] : received) {
      const fdPath = `/proc/${task.tid}/fd/${fd}`;
      const link = readlinkIfThere(fdPath);
      const target = ProcMemMonitor.targetOf(link);
      if (target !== undefined && this.processOf(target)) {
        this.watchFd(task, fd, new ProcMemMonitor(target));
        continue;
      }
      const statusOf = ProcStatusMonitor.targetOf(link);
      if (statusOf !== undefined && this.processOf(statusOf)) {
        this.watchFd(task, fd, new ProcStatusMonitor(statusOf));
        continue;
      }
      const identity = this.sharedFiles.size > 0 ? identityIfThere(fdPath) : undefined;
      if (!identity || !this.sharedFiles.has(identity)) continue;
      this.watchFd(task, fd, new MmappedFileMonitor(identity));
      const flags = flagsArg === undefined ? 0n : call.number === NR.creat ? O_TRUNC : call.number === NR.openat2 ? task.readU64(call.args[2]!) : call.args[flagsArg]!;
      if ((flags & O_TRUNC) !== 0n) data.fileChange = { identity, size: BigInt(statSync(fdPath).size), offset: 0n, data: Buffer.alloc(0) };
    }
    if (flagsArg !== undefined || received.length > 0) return;
    if (call.number === NR.process_vm_writev) {
      const regions = iovecRegions((a) => task.readU64(a), call.args[3]!, Number(call.args[4]!), Number(result));
      data.remoteWrites = this.remoteWrites(Number(BigInt.asIntN(32, call.args[0]!)), regions);
      return;
    }
    const fd = writtenFd(call.number, call.args);
    const monitor = fd === undefined ? undefined : task.fds.get(fd);
    const fdInfo = `/proc/${task.tid}/fdinfo/${fd}`;
    if (monitor instanceof MmappedFileMonitor) {
      data.fileChange = fileChangeOf(monitor.identity, `/proc/${task.tid}/fd/${fd}`, fdInfo, call.number, call.args, result, (a) => task.readU64(a));
    } else if (monitor instanceof ProcMemMonitor && result > 0n) {
      const at = writtenAt(call.number, call.args, result, () => fdPosition(fdInfo), (a) => task.readU64(a));
      data.remoteWrites = this.remoteWrites(monitor.target, [[BigInt.asUintN(64, at), Number(result)]]);
    }
  }

  /** What `regions` of traced process `target` hold now (undefined for an untraced one). */
  private remoteWrites(target: number, regions: readonly Region[]): RemoteWrites | undefined {
    const t = this.processOf(target);
    return t && { tid: t.rec, writes: regions.map(([addr, len]) => ({ addr, data: t.readMemPartial(addr, len) })) };
  }

  /** -EINVAL for a call tsrr cannot record faithfully, which says so once per reason. */
  private refused(nr: number, args: readonly bigint[]): bigint | undefined {
    const why = syscallSpec(nr)?.refuse?.(args);
    if (!why) return undefined;
    if (!this.refusals.has(why)) writeAll(2, `tsrr: ${why}; the program got EINVAL\n`);
    this.refusals.add(why);
    return -22n;
  }

  /** Follows what the program set of the settings tsrr hides; a seccomp filter installed with
   * SECCOMP_FILTER_FLAG_TSYNC is every thread's. */
  private ownSettingsChanged(task: Task, call: PendingSyscall, result: bigint): void {
    const tsync = call.number === NR.seccomp && call.args[0] === SECCOMP_SET_MODE_FILTER && (call.args[1]! & SECCOMP_FILTER_FLAG_TSYNC) !== 0n;
    const tasks = tsync && result === 0n ? [...this.tasks.values()].filter((t) => t.tgid === task.tgid) : [task];
    for (const t of tasks) this.own.get(t)?.afterCall(call.number, call.args, result);
  }

  /** The library registers a thread's buffer, or leaves a buffered call while tsrr held
   * signals back for it: they are sent now, to come when the call returns. */
  private bufferCall(task: Task, args: bigint[]): void {
    if (args[0] === PRCTL_REGISTER) {
      this.registerBuffer(task, args[1]!);
      if (!this.fdBits.has(task.as)) {
        markFds(task);
        this.fdBits.set(task.as, task.fds);
      }
      if (!this.mayBuffer(task)) stopBuffering(task);
      return;
    }
    const buffer = this.syscallBuffers.get(task.rec);
    if (buffer !== undefined) askForUnlock(task, buffer, false);
    for (const signo of this.heldSignals.get(task) ?? []) tkill(task.tid, signo);
    this.heldSignals.delete(task);
  }

  private capture(task: Task, call: PendingSyscall, [addr, len]: Region): MemWrite {
    if (len < 0 || len > MAX_REGION) {
      throw new TsrrError('INTERNAL', `${syscallName(call.number)}: implausible output region of ${len} bytes`, { syscall: call.number });
    }
    return { addr, data: task.readMemPartial(addr, len) };
  }

  private onEvent(task: Task, st: Extract<WaitStatus, { kind: 'event' }>): void {
    switch (st.event) {
      case PTRACE_EVENT.EXEC:
        this.onExec(task);
        if (this.programTracing.execed(task)) return;
        break;
      case PTRACE_EVENT.EXIT:
        // Asked for by a program tracer (PTRACE_O_TRACEEXIT).
        if (this.programTracing.wantsExit(task)) {
          this.programTracing.exitStop(task, task.eventMessage());
          return;
        }
        break;
      case PTRACE_EVENT.FORK:
      case PTRACE_EVENT.VFORK:
      case PTRACE_EVENT.CLONE:
        if (this.programTracing.forked(task, this.onFork(task), st.event)) return;
        break;
      case PTRACE_EVENT.VFORK_DONE:
        if (this.programTracing.vforkDone(task, task.eventMessage())) return;
        break;
      case PTRACE_EVENT.STOP:
        // The end of an interrupt that caught the task at another stop, a SIGCONT's notice, or
        // a group-stop: no user code ran since the last stop.
        this.interruptPending.delete(task);
        if (this.programTracing.traces(task) && this.programTracing.groupOrInterruptStop(task, st.signal)) return;
        if (st.signal !== SIG.TRAP) {
          this.groupStop(task, st.signal);
          return;
        }
        break;
      case PTRACE_EVENT.SECCOMP: {
        // A filter's stop, at a syscall's entry: the entry stop of a task resumed with
        // PTRACE_CONT, or right after the one of a task resumed with PTRACE_SYSCALL. The
        // program's own filters stop with a marker (core/seccompFilters.ts).
        const marker = task.eventMessage();
        if (marker === COMPAT_CALL_MARKER) {
          const r = task.getRegs();
          throw new TsrrError('UNSUPPORTED', `task ${task.rec} made a 32-bit syscall (int 0x80, number ${r.syscallNumber}) at 0x${(r.rip - 2n).toString(16)}: tsrr records the x86-64 syscall interface only`, { tid: task.rec });
        }
        const filtered = marker === PROGRAM_FILTER_MARKER;
        if (!task.inSyscall) {
          this.syscallEntry(task, filtered);
          return;
        }
        if (filtered) {
          this.hiddenResults.set(task, this.filterOutcome(task, this.pending.get(task.tid)!));
          task.getRegs().origRax = -1n;
          task.setRegs();
        }
        task.resume(PTRACE.SYSCALL);
        return;
      }
    }
    this.proceed(task);
  }

  /** A stop signal stopped the task's process: it stays stopped (PTRACE_LISTEN) until a
   * SIGCONT or SIGKILL wakes it, which its next stop reports; others run meanwhile. Replay
   * needs no event for it: the delivery of the stop signal stops the task there too, until
   * its next event. */
  private groupStop(task: Task, signo: number): void {
    task.state = 'group-stop';
    this.stopSignals.set(task, signo);
    if (this.current === task) this.current = undefined;
    ptrace(PTRACE.LISTEN, task.tid);
  }

  /** The task that made the exec `stopped` reports: `stopped` itself, or another thread of its
   * process, which has the main thread's id from now on (the main thread is gone). */
  private execer(stopped: Task): Task {
    const former = stopped.eventMessage();
    if (former === stopped.tid) return stopped;
    const execer = this.tasks.get(former);
    if (!execer) throw new TsrrError('TRACEE_FAILED', `task ${former}, unknown, made an exec as task ${stopped.tid}`, { tid: former });
    this.pending.delete(former);
    this.pending.delete(stopped.tid);
    this.entryRecorded.delete(stopped);
    this.replacing.set(execer, stopped);
    execer.tid = stopped.tid;
    return execer;
  }

  private onExec(task: Task): void {
    this.pending.delete(task.tid);
    this.entryRecorded.delete(task);
    this.syscallBuffers.delete(task.rec);
    // The other threads of the process are gone or going.
    for (const t of this.tasks.values()) if (t !== task && t.tgid === task.tgid) t.state = 'exiting';
    this.setUpExec(task);
    const leader = this.replacing.get(task);
    this.replacing.delete(task);
    this.recordExec(task, leader?.rec);
    if (leader) this.tookOver(task, leader);
  }

  /** The task, inside a fork, vfork, clone or clone3, created a task: the new task. */
  private onFork(task: Task): Task {
    const tid = task.eventMessage();
    const call = this.pending.get(task.tid);
    if (!call || !isForkCall(call.number)) throw new TsrrError('TRACEE_FAILED', `task ${task.tid} created task ${tid} outside a fork or clone`, { tid: task.tid });
    const args = cloneArgs(task, call.number, call.args);
    const child = this.adoptChild(task, tid, tid, args.flags);
    this.own.set(child, this.own.get(task)!.copy());
    // A forked process has its copy of the fd bits. Two processes that share one fd table
    // would have to follow each other's changes: neither buffers fd calls.
    if (this.fdBits.has(task.as) && child.as !== task.as) {
      if (child.fds !== task.fds) {
        this.fdBits.set(child.as, child.fds);
      } else {
        for (const t of [task, child]) {
          clearFds(t);
          this.fdBits.delete(t.as);
        }
      }
    }
    const early = this.earlyStops.get(tid);
    this.earlyStops.delete(tid);
    const first = early !== undefined ? decodeStatus(early) : this.waitFor(child, false);
    if (first.kind !== 'event' && first.kind !== 'signal') {
      throw new TsrrError('TRACEE_FAILED', `new task ${tid}: expected its first stop, got ${JSON.stringify(first)}`, { tid });
    }
    // The ids the kernel wrote are the new task's in its PID namespaces (the child's own is
    // written before its first stop).
    const ids = {
      ...(args.parentTid !== 0n && { parentTidValue: task.readU32(args.parentTid) }),
      ...(args.childTid !== 0n && { childTidValue: child.readU32(args.childTid) }),
    };
    this.record(task, { kind: 'fork', child: tid, ...args, ...ids });
    this.entryRecorded.add(task);
    child.state = 'stopped';
    return child;
  }

  /** `becomes`: the id the task takes over (an exec by a thread other than the main one). */
  private recordExec(task: Task, becomes?: number): void {
    const regs = task.getRegs().clone();
    const stack = task.as.find('stack');
    if (!stack) throw new TsrrError('TRACEE_FAILED', `task ${task.tid} has no stack after exec`, { tid: task.tid });
    const path = readLink(`/proc/${task.tid}/exe`);
    this.record(task, {
      kind: 'exec',
      path,
      copy: this.writer.copyFile(`/proc/${task.tid}/exe`, path),
      argv: procWords(`/proc/${task.tid}/cmdline`),
      envp: procWords(`/proc/${task.tid}/environ`),
      regs: regs.buf,
      stack: task.readMem(regs.rsp, Number(stack.end - regs.rsp)),
      ...(becomes !== undefined && { becomes }),
    });
  }

  /** A signal stopped the task: emulates trapped rdtsc/rdtscp/cpuid, and records anything
   * else, to be delivered when the task goes on. */
  private onSignal(task: Task, signo: number): void {
    // A SIGSYS or SIGCHLD tsrr sent for the program's filters or tracer says what the kernel's would.
    const made = signo === SIG.SYS ? this.sigsys.get(task)?.info : signo === SIG.CHLD ? this.programTracing.takeSigchld(task) : undefined;
    if (signo === SIG.SYS) this.sigsys.delete(task);
    if (made) task.setSiginfo(made);
    let siginfo = made ?? task.siginfo();
    const code = siginfo.readInt32LE(8);
    const r = task.getRegs();
    // A program that asked for SIGSEGV at rdtsc gets it (tsrr traps rdtsc to emulate it anyway).
    const trapped = trappedInstruction(task, signo, code);
    const insn = trapped === 'cpuid' || !this.own.get(task)?.rdtscFaults ? trapped : undefined;
    if (trapped && !insn && signo === SIG.ILL) {
      siginfo = rdtscFaultInfo();
      task.setSiginfo(siginfo);
      signo = SIG.SEGV;
    }
    // Emulated before the event is recorded: hooks (a checkpoint) see the task after it.
    if (insn === 'rdtsc' || insn === 'rdtscp') {
      const value = rdtsc();
      const aux = this.opts.cpu < 0 ? 0 : this.opts.cpu;
      const ip = r.rip;
      emulateRdtsc(task, insn, value, aux);
      undoForcedSignal(task, signo);
      this.record(task, { kind: 'rdtsc', value, ip, aux });
    } else if (insn === 'cpuid') {
      const leaf = Number(r.get('rax') & 0xffffffffn);
      const subleaf = Number(r.get('rcx') & 0xffffffffn);
      const [eax, ebx, ecx, edx] = cpuid(leaf, subleaf);
      emulateCpuid(task, eax, ebx, ecx, edx);
      undoForcedSignal(task, signo);
      this.record(task, { kind: 'cpuid', leaf, subleaf, eax, ebx, ecx, edx });
    } else if (!isSynchronous(signo, code) && this.holdSignal(task, signo)) {
      // Held until the buffered call it came in ends. The task keeps its turn till then: a
      // snapshot of another thread would catch its memory in the middle of the call.
      if (task === this.current) {
        this.resume(task);
        return;
      }
    } else {
      if (signo === SIG.INT) this.sigintSeen = Date.now();
      // An asynchronous signal that came in the middle of user code: replay cannot stop there,
      // so it gets the task's state.
      // Without a counter of instructions: its registers changed, it made buffered calls, or
      // time enough passed for a loop to come back to the same registers with memory changed
      // (a signal already pending when it went on comes at once).
      const ranUserCode = !isSynchronous(signo, code) && (crc32(r.buf) !== this.resumedCrc.get(task) || process.hrtime.bigint() - (this.resumedAt.get(task) ?? 0n) > AT_ONCE_NS);
      const snapshot = ranUserCode ? takeSnapshot(task, this.xsaveSize, this.knownPages) : undefined;
      const toTracer = signo !== SIG.KILL && this.programTracing.traces(task);
      this.record(task, { kind: 'signal', signo, code, regs: Buffer.from(r.buf), siginfo, ...(snapshot && { snapshot }), ...(toTracer && { toTracer }) });
      if (toTracer) {
        this.programTracing.signalStop(task, signo, siginfo);
        return;
      }
      if (isSynchronous(signo, code) && this.diesUntraced(task, signo)) {
        ptrace(PTRACE.DETACH, task.tid, 0, 0);
        this.onExit(task, signo);
        return;
      }
      task.deliver = signo;
    }
    this.proceed(task);
  }

  /** An asynchronous signal that came inside a buffered call waits until the call ends (the
   * library then makes PRCTL_UNLOCKED): replay could not start in the middle of one. */
  private holdSignal(task: Task, signo: number): boolean {
    if (!this.inBufferedCall(task)) return false;
    this.heldSignals.set(task, [...(this.heldSignals.get(task) ?? []), signo]);
    askForUnlock(task, this.syscallBuffers.get(task.rec)!, true);
    return true;
  }

  private onExit(task: Task, status: number): void {
    // It ended inside a call it had entered (a kill of its own process, another thread's
    // exit_group): replay runs it to that call before it ends, so that what it did on the way
    // (buffered calls, memory it shares) happens there too.
    const call = this.pending.get(task.tid);
    if (task.inSyscall && call && !this.entryRecorded.has(task)) this.record(task, { kind: 'syscallEntry', number: call.number });
    this.record(task, { kind: 'exit', status });
    this.removeTask(task);
    this.pending.delete(task.tid);
    this.entryRecorded.delete(task);
    this.resumedCrc.delete(task);
    this.resumedAt.delete(task);
    this.heldSignals.delete(task);
    this.own.delete(task);
    this.hiddenResults.delete(task);
    if (task.tid === this.rootTgid) this.rootStatus = status;
    if (this.current === task) this.current = undefined;
    this.releasedAtEntry.delete(task);
    this.programTracing.ended(task, status);
    this.hooks.taskExited.call(task, status);
    if (task.tgid === this.rootTgid && !this.opts.waitForAll && ![...this.tasks.values()].some((t) => t.tgid === this.rootTgid)) {
      // As rr: the recording ends with the program's first process; what it left running (a
      // daemon, a stopped child) is killed, and the trace has those ends.
      for (const t of this.tasks.values()) kill(t.tid, SIG.KILL);
    }
  }

  /** The user stopped the recording: mark where, and end the tracees. */
  private interrupt(): number {
    const task = this.current ?? this.tasks.values().next().value;
    if (task) this.record(task, { kind: 'interrupted' });
    this.end({ reason: 'stopped', frame: this.frame });
    this.killAll();
    return 128 + SIG.INT;
  }
}
