// SPDX-License-Identifier: MIT
/**
 * A ReplaySession re-runs a recorded program from its trace. Syscalls are skipped and their
 * recorded results and memory put back, except those that shape the address space or the set
 * of tasks, which run again (file mappings from the trace's copies). Events come in the order
 * the recording ran the tasks: replay runs the task of the next event, alone, until it gets
 * there, so every stretch of user code runs in the recorded order. Signals the kernel does not
 * raise again by itself are delivered by replay at their recorded points, and snapshots put
 * tasks into states met in the middle of user code. Every event is checked against the tracee
 * (syscall number, arguments, registers); any difference stops replay with a divergence report.
 */
import { basename, join } from 'node:path';
import { becomeSubreaper, kill, ptrace, strerror, tkill } from '../native/libc.js';
import { PTRACE, PTRACE_EVENT, SIG, endStatus, type WaitStatus } from '../native/ptrace.js';
import { Registers } from '../native/regs.js';
import { encodeBytes } from '../native/byteString.js';
import { ERESTART_RESTARTBLOCK, NR, replayPolicy, syscallName } from '../native/syscalls.js';
import type { ResourceLimit } from './TraceHeader.js';
import { dropUntraced, isForkCall } from './clone.js';
import type { Event, EventData, Snapshot } from './Event.js';
import { launch, replayedLimits } from './launch.js';
import { Session, type Divergence, type SessionEnd, type SessionOptions } from './Session.js';
import { SYS_SECCOMP, forceSignal, isSynchronous } from './signals.js';
import { applySnapshot } from './snapshot.js';
import { MAX_BUFFER, PRCTL_REGISTER, installFilter, isBufferCall, isWroteCall, markReplay, putRecords, unusedRecords } from './syscallBuffer.js';
import { isVsyscall, vsyscallFilter } from './vsyscall.js';
import type { AddressSpace, Watchpoint } from './AddressSpace.js';
import type { Task } from './Task.js';
import { SharedFiles } from './SharedFiles.js';
import { sparseCopy } from './sparseCopy.js';
import type { Mapping } from './AddressSpace.js';
import { REQ, changeTracee, changesTracee } from './ptraceRequests.js';
import { StdioMonitor } from './StdioMonitor.js';
import { LineMarks } from './LineMarks.js';
import { TraceReader } from './TraceReader.js';
import { REPLAYABLE_FORMAT_VERSION } from './traceFile.js';
import { TsrrError, isTsrrError } from '../native/TsrrError.js';
import { emulateCpuid, emulateRdtsc, rdtscFaultInfo, trappedInstruction } from './trappedInstruction.js';
import { undoForcedSignal } from './signalState.js';
import { cpuidFaultingAvailable, hardwareWatchpoints, rdtscTrapping } from './machine.js';
import type { PatchedInstruction } from './trapPatching.js';
import { markOwnerDied } from './robustFutexes.js';

const MAP_FIXED = 0x10n;
const MAP_ANONYMOUS = 0x20n;
const O_RDWR = 2;
const O_CLOEXEC = 0x80000;
const IPC_PRIVATE = 0n;
const IPC_CREAT = 0o1000n;
const SHM_RDONLY = 0o10000n;
const SHM_REMAP = 0o40000n;
const SHM_EXEC = 0o100000n;
const F_DUPFD_CLOEXEC = 1030;
/** Where replay's own fds in a tracee go: above those programs use. */
const HIGH_FD = 900;
const AT_FDCWD = -100n;
const PR_SET_NAME = 15;
/** Calls that run again on replay but return a tid, which differs from the recording's. */
const RETURNS_TID = new Set<number>([NR.set_tid_address, NR.fork, NR.vfork, NR.clone, NR.clone3]);
const EINTR = -4n;
const ERESTARTNOHAND = -514n;
/** Results that make the kernel run the call again unless a signal handler runs first. */
const RESTARTS = new Set([-512n, -513n, ERESTARTNOHAND, ERESTART_RESTARTBLOCK]);
/** Calls that block with a signal mask of their own (its argument), given when non-zero. */
const MASK_ARG = new Map<number, number>([[NR.rt_sigsuspend, 0], [NR.ppoll, 3], [NR.pselect6, 5], [NR.epoll_pwait, 4], [NR.epoll_pwait2, 4]]);

export interface ReplayOptions extends SessionOptions {
  readonly trace: TraceReader;
  readonly cpu: number;
  /** Stop once this frame has been replayed (default: the end of the trace). */
  readonly goto?: number;
  /** Whether the tracee's stdout and stderr output is reproduced (default: yes). */
  readonly echo?: boolean;
  /** Whether each line of it starts with `[tsrr PID EVENT]` (rr's -M). */
  readonly markStdio?: boolean;
  /** The latest frame replay may start from, when a plugin can start it later than frame 1
   * (from a checkpoint); default: `goto`. */
  readonly startLimit?: number;
}

/** How a replay ended. */
export type ReplayEnd =
  | { kind: 'exited'; frame: number; status: number }
  /** The trace ends here with tasks still alive: the user stopped the recording (an
   * `interrupted` event), or it was cut off (`cutOff` says how). */
  | { kind: 'interrupted-recording'; frame: number; cutOff?: string }
  | { kind: 'reached'; frame: number };

/** How `tsrr replay` without -a wants a debugger to serve a replay. */
export interface DebuggerOptions {
  /** Serve on this port and wait for a debugger to connect; without it, start gdb. */
  readonly port?: number;
  readonly host: string;
  /** Arguments for the debugger tsrr starts. */
  readonly debuggerArgs: readonly string[];
  /** The debugger program to start (-d); default: gdb in PATH. */
  readonly debugger?: string;
  /** True once tsrr should stop serving (SIGTERM, or Ctrl-C with no debugger in front). */
  readonly stop: () => boolean;
  /** A new replay of the same trace, not started yet (to go backwards): start() begins it at
   * the beginning, or a plugin's beforeLaunch puts a saved state in. The caller kills its
   * tasks when done with it. */
  readonly fresh: () => ReplaySession;
  /** The process to debug (its pid in the trace: -f/-p); default: the first. */
  readonly pid?: number;
  /** Start the debugger at the end of the replay (-e, rr's goto-exit). */
  readonly atEnd?: boolean;
}

/** What a debugger asks for when it lets replay go on. */
export interface DebugResume {
  /** Step this task by one instruction; a syscall instruction steps until its call is
   * replayed, and a task whose next event puts a recorded state in steps to that state. */
  readonly step?: Task;
  /** Stop once this frame has been replayed. */
  readonly until?: number;
  /** Polled while tasks run: true once the debugger wants replay stopped (gdb's Ctrl-C). */
  readonly interrupted?: () => boolean;
}

/** Where replay stopped for a debugger: a breakpoint (the task's rip is at it), the end of a
 * step, an interruption, a signal about to be delivered, the task whose exit ends the trace
 * at that call's entry (`end`, see debugEnd), or the end of replay. */
export type ReplayStop =
  | ReplayEnd
  | { kind: 'breakpoint' | 'step' | 'interrupt' | 'end'; frame: number; task: Task }
  | { kind: 'signal'; frame: number; task: Task; signo: number }
  | { kind: 'watchpoint'; frame: number; task: Task; watchpoint: Watchpoint };

type SyscallEvent = Event & { data: Extract<EventData, { kind: 'syscall' }> };

const fmtArgs = (args: readonly bigint[]) => args.map((a) => '0x' + a.toString(16)).join(', ');

export class ReplaySession extends Session {
  readonly mode = 'replay';
  private readonly current = new Map<Task, SyscallEvent>();
  /** Tasks resumed with PTRACE_SYSEMU, whose next syscall stop is an entry. */
  private readonly sysemu = new Set<Task>();
  /** Tasks whose next syscall stop is the empty exit of a call skipped at a SYSEMU entry. */
  private readonly spuriousExit = new Set<Task>();
  /** Where the debug registers do nothing: the bytes each watchpoint saw last. */
  private readonly watchedBytes = new Map<Watchpoint, Buffer>();
  /** Tasks held at a syscall entry that the recording saw block (a syscallEntry event), with
   * the call's number. */
  private readonly held = new Map<Task, number>();
  /** Tasks resumed ahead of their next event (an exec that ends the threads whose exits come
   * first), whose next stop runTo takes without resuming them. */
  private readonly running = new Set<Task>();
  /** Threads in an exec that replaces their process's main thread, with that thread. */
  private readonly becoming = new Map<Task, Task>();
  /** What to put back at the exit of a task's fork call (its flags without CLONE_UNTRACED). */
  private readonly atExit = new Map<Task, () => void>();
  /** The ends of tasks reaped before their exit events. */
  private readonly reaped = new Map<Task, WaitStatus>();
  /** Tasks inside a fork call whose fork event is replayed. */
  private readonly forks = new Set<Task>();
  /** Page contents of the snapshots replayed so far, by hash. */
  private readonly pages = new Map<bigint, Buffer>();
  /** Tasks whose last event is a syscall that returned a restart code: the kernel runs it
   * again (restart_syscall for some) unless a signal is delivered to them next. */
  private readonly restart = new Set<Task>();
  /** Each task's syscall, while it is the task's last event. */
  private readonly lastCall = new Map<Task, SyscallEvent>();
  private lastFrame = 0;
  /** Tasks stopped at a signal's delivery for a tracer of the program's own, and those it
   * single-steps (core/PtraceEmulator.ts). */
  private readonly tracerStops = new Set<Task>();
  private readonly tracerSteps = new Set<Task>();
  /** Per process, the files replay keeps open in it for mappings (see openedIn). */
  private readonly openFiles = new WeakMap<AddressSpace, Map<string, bigint>>();
  /** Replay's shared copies of the files the recording mapped shared. */
  readonly sharedFiles = new SharedFiles();
  private rootStatus = 0;
  /** The frame to stop after (run: opts.goto; a debugger: its `until`). */
  private goal: number | undefined;
  /** What the debugger asked for, while it lets replay go on. */
  private debug: DebugResume | undefined;
  /** A task stopped for the debugger on its way to `frame`, to be taken on from there. */
  private paused: { task: Task; frame: number } | undefined;
  /** The task of an `end` stop, at its exit's entry, whose event is replayed if it goes on. */
  private atEnd: { task: Task; nr: number; e: Event } | undefined;
  /** A stop to report to the debugger once the current stop or event is handled. */
  private report: ReplayStop | undefined;
  /** The records each task's buffer was given that it has not reached its next event with. */
  private readonly givenRecords = new Map<number, Buffer>();
  /** Whether the running task was asked to stop because the debugger interrupted. */
  private interrupting = false;
  /** Whether the tracee's stdout and stderr output is reproduced now (a debugger turns it off
   * while it replays only to find its way back). */
  echo: boolean;
  private readonly lineMarks = new LineMarks();
  /** A debugger's end of replay (TraceReader.endEvent's frame): when that event is the
   * syscallEntry of an exit or exit_group, a debugger's resume stops its task at that entry,
   * the call not made (an `end` stop, rr's exit stop), instead of replaying on to the exits. */
  debugEnd: number | undefined;

  constructor(readonly opts: ReplayOptions) {
    super(opts);
    const version = opts.trace.header.formatVersion;
    if (version < REPLAYABLE_FORMAT_VERSION) {
      throw new TsrrError('TRACE_TOO_OLD', `${opts.trace.dir} has trace format version ${version}, which this tsrr cannot replay exactly (it replays versions ${REPLAYABLE_FORMAT_VERSION} and later); record the program again`, { dir: opts.trace.dir, version });
    }
    this.goal = opts.goto;
    this.echo = opts.echo !== false;
    // A replayed child whose parent's wait was emulated stays a zombie when killAll kills the
    // parent: orphaned to tsrr, killAll reaps it instead of leaving it to init.
    becomeSubreaper();
    // What the recording patched is patched again; what it trapped but this machine cannot
    // trap is patched instead.
    const m = opts.trace.header.machine;
    this.cpuidFaulting = m.cpuidFaulting && cpuidFaultingAvailable();
    const rdtsc = rdtscTrapping() ? [] : (['rdtsc', 'rdtscp'] as const);
    this.patching = new Set<PatchedInstruction>([...m.patched, ...rdtsc, ...(m.cpuidFaulting && !this.cpuidFaulting ? (['cpuid'] as const) : [])]);
  }

  get trace(): TraceReader {
    return this.opts.trace;
  }

  /** The frame replayed last (0 before the first). */
  get frame(): number {
    return this.lastFrame;
  }

  /** Replay goes on after `frame`, whose state a plugin has put into the first task. */
  startFrom(frame: number): void {
    this.trace.forwardTo(frame + 1);
    this.lastFrame = frame;
  }

  /** How a checkpoint can hold `task` now, between events: 'ready' (its registers and memory
   * say everything), 'held' (at the entry of a syscall a later event completes), or undefined
   * while replay keeps state of its own for it (a signal or restart pending, an exit, a fork
   * or a real syscall under way). */
  checkpointPhase(task: Task): 'ready' | 'held' | undefined {
    if (task.deliver || task.state === 'exiting' || this.running.has(task) || this.forks.has(task) || this.restart.has(task) || this.current.has(task)) return undefined;
    const last = this.lastCall.get(task);
    if (last && interruptedMaskCall(last)) return undefined;
    return this.held.has(task) ? 'held' : 'ready';
  }

  /** Takes a held task out of its syscall for a while (to read or write its state): it stops
   * before the syscall instruction, with the call's number in rax; hold() enters it again. */
  release(task: Task): void {
    const r = task.getRegs();
    const before = r.clone();
    before.rax = before.origRax;
    before.rip -= 2n;
    before.origRax = -1n;
    r.origRax = -1n; // skipped: the kernel goes straight to the exit stop
    task.setRegs();
    task.resume(PTRACE.SYSCALL);
    const st = this.waitFor(task, false);
    if (st.kind !== 'syscall') this.diverge(task, 'the exit of a skipped syscall', JSON.stringify(st));
    task.setRegs(before);
    task.inSyscall = false;
  }

  /** Runs `task`, stopped before a syscall instruction (by release() or a restored checkpoint),
   * into that call's entry and holds it there until the event that completes it. */
  hold(task: Task): void {
    const nr = Number(task.getRegs().rax);
    task.resume(PTRACE.SYSCALL);
    const st = this.waitFor(task, false);
    if (st.kind !== 'syscall' || task.getRegs().syscallNumber !== nr) this.diverge(task, `the entry of ${syscallName(nr)}`, JSON.stringify(st));
    task.inSyscall = true;
    this.held.set(task, nr);
  }

  /** Replays to the end of the trace (or to `goto`) and returns how it ended. Throws a
   * DIVERGENCE error when the tracee stops matching the trace. */
  run(): ReplayEnd {
    // Without a debugger only an end stops it.
    const end = this.runToEnd(() => {
      this.start();
      return this.replay() as ReplayEnd;
    }, sessionEnd);
    this.killAll();
    return end;
  }

  override killAll(): void {
    super.killAll();
    this.sharedFiles.dispose();
    this.sysvSegments.dispose();
  }

  /** The limits the recording's first process started with that replay gives its first
   * process too (native/syscalls.ts REPLAYED_LIMITS). */
  startLimits(): ResourceLimit[] {
    return replayedLimits(this.trace.header.limits);
  }

  override sharedFileOf(m: Mapping): { identity: string; path: string } | undefined {
    const identity = this.sharedFiles.identityOf(m.path);
    return identity === undefined ? undefined : { identity, path: m.path };
  }

  /** Starts the program at frame 1, or lets a plugin put a later state in (beforeLaunch). */
  start(): void {
    if (this.hooks.beforeLaunch.call(this)) return;
    const first = this.trace.next();
    if (!first) throw new TsrrError('TRACE_TRUNCATED', `${this.trace.dir} has no events (the recording was cut off before any was written)`, { dir: this.trace.dir });
    if (first.data.kind !== 'exec') throw this.corrupt(1, 'the trace does not start with an exec event');
    this.replayExec(this.launchTask(this.trace.file(first.data.copy), first.data.argv, first.data.envp, this.startLimits(), first.tid), first, true);
  }

  /** Starts program `path` as task `rec` of process `tgid`, set up after its exec (setUpExec),
   * with the filter that stops its calls through the vsyscall page (core/vsyscall.ts). */
  launchTask(path: string, argv: string[], envp: string[], limits: readonly ResourceLimit[], rec: number, tgid = rec): Task {
    const task = this.adoptTask(launch(path, argv, envp, this.opts.cpu, [], limits), rec, tgid);
    this.setUpExec(task);
    installFilter(task, vsyscallFilter());
    return task;
  }

  /** Debugger: replays on, after start(), until a breakpoint, the end of a step, a signal, an
   * interruption, `until` or the end. Breakpoints are the address spaces'. */
  debugContinue(how: DebugResume): ReplayStop {
    this.debug = how;
    this.goal = how.until;
    try {
      const stop = this.replay();
      // The end of the trace ends the session; a debugger's goal (`until`) does not.
      if (stop.kind === 'exited' || stop.kind === 'interrupted-recording') this.end(sessionEnd(stop));
      return stop;
    } catch (e) {
      this.failed(e);
      throw e;
    } finally {
      this.debug = undefined;
      this.interrupting = false;
    }
  }

  private replay(): ReplayStop {
    for (;;) {
      const end = this.checkEnd();
      if (end) return end;
      const e = this.trace.peek();
      if (!e) return this.tasks.size === 0 ? { kind: 'exited', frame: this.lastFrame, status: this.rootStatus } : this.cutOff();
      try {
        if (this.paused) {
          const { task, frame } = this.paused;
          this.paused = undefined;
          if (this.atEnd?.task === task) this.enterBlocking(task, this.atEnd.nr, this.atEnd.e);
          this.atEnd = undefined;
          this.runTo(task, frame);
        } else {
          const task = this.tasks.get(e.tid);
          if (!task) throw this.corrupt(e.frame, `an event of task ${e.tid}, which does not exist at that point`);
          this.advance(task, e);
        }
      } catch (err) {
        if (isTsrrError(err) && err.code === 'TRACE_TRUNCATED') return this.cutOff();
        throw err;
      }
      const stop = this.report;
      this.report = undefined;
      if (stop) return stop;
      if (this.options.interrupted()) {
        this.end({ reason: 'stopped', frame: this.lastFrame });
        this.killAll();
        throw new TsrrError('INTERRUPTED', `replay interrupted at frame ${this.lastFrame}`, { frame: this.lastFrame });
      }
    }
  }

  /** Brings `task` to event `e` and reproduces it. */
  private advance(task: Task, e: Event): void {
    const d = e.data;
    const signalled = d.kind === 'signal' && !isSynchronous(d.signo, d.code);
    // A task that ends next does not run its call again.
    if (this.restart.delete(task) && !signalled && d.kind !== 'exit') this.restartCall(task);
    const lastCall = this.lastCall.get(task);
    this.lastCall.delete(task);
    if (d.kind === 'preempt') {
      this.putSnapshot(task, d.snapshot, e.frame);
      this.trace.next();
      this.replayed(e, task);
    } else if (d.kind === 'signal' && !isSynchronous(d.signo, d.code)) {
      this.deliverRecorded(task, e as Event & { data: typeof d }, lastCall);
    } else if (d.kind === 'buffered') {
      this.fillBuffer(task, e as Event & { data: typeof d });
    } else if (d.kind === 'exit') {
      this.releaseExec(task);
      this.awaitExit(task, e as Event & { data: typeof d });
    } else if (d.kind === 'syscall' && this.held.delete(task)) {
      // Held at the entry since its syscallEntry event: now it completes.
      this.syscallEntry(task, 'syscall');
      this.runTo(task, e.frame);
    } else if (d.kind === 'exec' && this.held.delete(task)) {
      this.redirectExec(task, task.getRegs().syscallNumber, d);
      this.runTo(task, e.frame);
    } else if (d.kind === 'syscall' && this.forks.has(task)) {
      this.finishFork(task);
    } else {
      this.runTo(task, e.frame);
    }
  }

  /** Runs `task` alone until `frame` is replayed, or until a stop the debugger is told of. */
  private runTo(task: Task, frame: number): void {
    while (this.lastFrame < frame) {
      // Where the debug registers do nothing, watchpoints are checked after every instruction.
      const watching = task.as.watchpoints.length > 0 && !hardwareWatchpoints();
      const debugStep = this.debug?.step === task;
      const stepping = (debugStep || watching) && !task.inSyscall && !task.stepsIntoSyscall();
      if (this.running.delete(task)) {
        // resumed already
      } else if (stepping) {
        if (watching) for (const w of task.as.watchpoints) if (!this.watchedBytes.has(w)) this.watchedBytes.set(w, task.readMemPartial(w.addr, w.len));
        // Out of a SYSEMU entry first: a step from there would trap at the skipped call's exit.
        if (task.atSysemuEntry) task.leaveSysemuEntry();
        this.spuriousExit.delete(task);
        task.continue(PTRACE.SINGLESTEP);
      } else this.resume(task);
      const st = this.waitFor(task);
      const trap = stepping && st.kind === 'signal' && st.signal === SIG.TRAP;
      if (trap && debugStep) this.report = this.stepped(task);
      else if (trap && !task.as.breakpoints.has(task.getRegs().rip - 1n)) {
        const watchpoint = this.triggered(task);
        if (watchpoint) this.report = { kind: 'watchpoint', frame: this.lastFrame, task, watchpoint };
      } else this.onStop(task, st);
      if (!this.report && this.interrupting) this.report = { kind: 'interrupt', frame: this.lastFrame, task };
      if (this.report) {
        this.interrupting = false;
        if (this.lastFrame < frame) this.paused = { task, frame };
        return;
      }
    }
  }

  /** The end of a single step: the step, or the watchpoint its instruction triggered (whose
   * debug status is then cleared, so it is not taken for the next trap's). */
  private stepped(task: Task): ReplayStop {
    const watchpoint = this.triggered(task);
    return watchpoint ? { kind: 'watchpoint', frame: this.lastFrame, task, watchpoint } : { kind: 'step', frame: this.lastFrame, task };
  }

  /** The watchpoint the instruction `task` just stepped over triggered, if any: by the debug
   * registers, or where they do nothing, an execute watchpoint at the new pc or watched bytes
   * that changed (so only writes are seen). */
  private triggered(task: Task): Watchpoint | undefined {
    if (task.as.watchpoints.length === 0) return undefined;
    if (hardwareWatchpoints()) return task.triggeredWatchpoint();
    const rip = task.getRegs().rip;
    let hit: Watchpoint | undefined;
    for (const w of task.as.watchpoints) {
      if (w.access === 'execute') {
        if (w.addr === rip) hit ??= w;
        continue;
      }
      const now = task.readMemPartial(w.addr, w.len);
      const before = this.watchedBytes.get(w);
      this.watchedBytes.set(w, now);
      if (before && !before.equals(now)) hit ??= w;
    }
    return hit;
  }

  /** While a debugger lets tasks run: its interruption stops the running task. */
  protected override polled(task: Task, interruptible: boolean): void {
    // Tasks that ended meanwhile (an exec or a PID namespace's end waits for their reaping):
    // their ends are kept for their exit events.
    this.reapEnded(task, (t, st) => this.reaped.set(t, st));
    if (!interruptible || this.interrupting || !this.debug?.interrupted?.()) return;
    this.interrupting = true;
    ptrace(PTRACE.INTERRUPT, task.tid);
  }

  private onStop(task: Task, st: WaitStatus): void {
    switch (st.kind) {
      case 'syscall':
        if (this.spuriousExit.delete(task)) return;
        if (!task.inSyscall && this.isBufferedWrite(task)) this.bufferedWrite(task, task.getRegs(), this.sysemu.has(task));
        else if (this.sysemu.has(task)) this.syscallEntry(task, 'sysemu');
        else if (task.inSyscall) this.syscallExit(task);
        else this.syscallEntry(task, 'syscall');
        return;
      case 'event':
        if (st.event === PTRACE_EVENT.EXEC) this.replayExec(task, this.expect(task, 'exec'));
        else if (st.event === PTRACE_EVENT.SECCOMP && isVsyscall(task.getRegs().rip)) this.syscallEntry(task, 'vsyscall');
        else if (st.event === PTRACE_EVENT.FORK || st.event === PTRACE_EVENT.VFORK || st.event === PTRACE_EVENT.CLONE) this.replayFork(task);
        else if (st.event !== PTRACE_EVENT.STOP && st.event !== PTRACE_EVENT.VFORK_DONE) this.diverge(task, 'no ptrace event', `ptrace event ${st.event}`);
        return;
      case 'signal':
        this.onSignal(task, st.signal);
        return;
      case 'exited':
      case 'killed':
        this.diverge(task, describe(this.trace.peek()), `its end (${st.kind === 'exited' ? `exit status ${st.code}` : `killed by signal ${st.signal}`})`);
    }
  }

  /** Resumes with PTRACE_SYSEMU when the next event is a syscall replay only emulates: the
   * task then stops once, at its entry, instead of at entry and exit. */
  private resume(task: Task): void {
    const next = this.trace.peek();
    // A task inside a syscall that runs for real needs PTRACE_SYSCALL to stop at its exit.
    const sysemu = !task.inSyscall && next?.tid === task.rec && next.data.kind === 'syscall' && emulatedOnly(next.data);
    // A task the program's tracer single-steps steps, but into a syscall (whose entry a step
    // does not stop at).
    const stepping = this.tracerSteps.has(task) && !task.inSyscall && !task.stepsIntoSyscall();
    const request = stepping ? PTRACE.SINGLESTEP : sysemu ? PTRACE.SYSEMU : PTRACE.SYSCALL;
    // After a SYSEMU entry stop, PTRACE_SYSCALL makes the kernel report an exit stop for the
    // skipped call; it carries nothing.
    if (task.atSysemuEntry && request === PTRACE.SYSCALL) this.spuriousExit.add(task);
    task.atSysemuEntry = false;
    if (request === PTRACE.SYSEMU) this.sysemu.add(task);
    else this.sysemu.delete(task);
    task.continue(request);
    // In an exec that replaces its process's main thread, it stops with that thread's id.
    const leader = this.becoming.get(task);
    if (leader) task.tid = leader.tid;
  }

  /** Delivers the signal `task` has pending now, when a snapshot is about to replace its
   * state: a single step stops it in the handler before its first instruction, with the
   * kernel's side of the delivery (signal mask, alternate stack) done, or in the group-stop a
   * stop signal makes. */
  private settle(task: Task): void {
    if (task.atSysemuEntry) task.leaveSysemuEntry();
    this.spuriousExit.delete(task);
    if (!task.deliver) return;
    task.continue(PTRACE.SINGLESTEP);
    const st = this.waitFor(task);
    // A stop signal's delivery stops the process instead (a group-stop).
    const stopped = st.kind === 'event' && st.event === PTRACE_EVENT.STOP;
    if (st.kind !== 'signal' && !stopped) this.diverge(task, 'the delivery of a signal', JSON.stringify(st));
  }

  /** A signal the recording saw arrive from outside the task's own instructions: put the
   * task where it came (its snapshot, if it interrupted user code), send it, and deliver it
   * with the recorded siginfo. */
  private deliverRecorded(task: Task, e: Event & { data: Extract<EventData, { kind: 'signal' }> }, lastCall: SyscallEvent | undefined): void {
    const d = e.data;
    if (d.snapshot) this.putSnapshot(task, d.snapshot, e.frame);
    // A seccomp filter's SIGSYS comes by force (unblocked, not ignored), and a fatal one (the
    // recording saw the task end by it) as the default action.
    const after = this.trace.peekSecond();
    const fatal = after?.tid === task.rec && after.data.kind === 'exit' && (after.data.status & 0x7f) === d.signo;
    if (d.signo === SIG.SYS && d.code === SYS_SECCOMP) forceSignal(task, d.signo, fatal);
    if (lastCall && interruptedMaskCall(lastCall)) this.deliverWithCallMask(task, lastCall, d.signo, e.frame);
    else tkill(task.tid, d.signo);
    for (;;) {
      this.resume(task);
      const st = this.waitFor(task);
      if (st.kind === 'syscall' && this.spuriousExit.delete(task)) continue;
      // A group-stop or, for a SIGCONT, the notice the kernel gives before its delivery.
      if (st.kind === 'event' && st.event === PTRACE_EVENT.STOP) continue;
      if (st.kind !== 'signal') this.diverge(task, `signal ${d.signo}`, `no signal before ${JSON.stringify(st)}`, e.frame);
      // A signal of the same number the replay caused itself (a real child's SIGCHLD) merged
      // with the one sent; any other is dropped.
      if (st.signal !== d.signo) {
        if (isSynchronous(st.signal, task.siginfo().readInt32LE(8))) this.diverge(task, `signal ${d.signo}`, `signal ${st.signal}`, e.frame);
        continue;
      }
      if (d.siginfo.length === 128) task.setSiginfo(d.siginfo);
      this.stopFor(task, d);
      break;
    }
    this.trace.next();
    this.replayed(e, task);
  }

  /** The task stops at the delivery of a signal: delivered when it goes on, or, when a tracer
   * of the program's own had it stop there, what that tracer says when it lets it go on. */
  private stopFor(task: Task, d: { signo: number; toTracer?: boolean }): void {
    if (d.toTracer) this.tracerStops.add(task);
    else task.deliver = d.signo;
  }

  /** A ptrace call of the program's, replayed: the changes it made to its tracee are made
   * again, and the tracee goes on as it let it (its signal, single steps). */
  private tracerRequest(task: Task, d: SyscallEvent['data']): void {
    const request = Number(BigInt.asIntN(32, d.args[0]!));
    const tracee = this.processOf(Number(BigInt.asIntN(32, d.args[1]!)));
    if (!tracee || d.result < 0n) return;
    if (changesTracee(request, d.args[3]!)) {
      changeTracee(task, tracee, request, d.args[2]!, d.args[3]!);
    } else if (LETS_GO.has(request)) {
      tracee.deliver = this.tracerStops.delete(tracee) ? Number(d.args[3]!) : 0;
      if (request === REQ.SINGLESTEP || request === REQ.SYSEMU_SINGLESTEP) this.tracerSteps.add(tracee);
      else this.tracerSteps.delete(tracee);
    }
  }

  /** Sends `signo`, which came during a call that blocked with a mask of its own (`call`:
   * sigsuspend, ppoll, pselect6, epoll_pwait), so that the kernel delivers it as it did: with
   * that mask, the program's put back afterwards. The task blocks in rt_sigsuspend with the
   * call's mask at the call's instruction (the call's fds are not there to run it again), the
   * signal is sent once it is in, and the call's own registers are put back at its exit. */
  private deliverWithCallMask(task: Task, call: SyscallEvent, signo: number, frame: number): void {
    const exit = task.getRegs().clone();
    exit.rax = call.data.result;
    exit.origRax = BigInt(call.data.number);
    const maskArg = call.data.args[MASK_ARG.get(call.data.number)!]!;
    // pselect6's last argument points to {sigset pointer, size}.
    const mask = call.data.number === NR.pselect6 ? task.readU64(maskArg) : maskArg;
    this.restartCall(task);
    const r = task.regs;
    r.rax = BigInt(NR.rt_sigsuspend);
    r.setArg(0, mask);
    r.setArg(1, 8n);
    task.setRegs();
    this.toSyscallStop(task, 'the entry of rt_sigsuspend', frame);
    tkill(task.tid, signo);
    this.toSyscallStop(task, `the end of ${syscallName(call.data.number)} by signal ${signo}`, frame);
    task.setRegs(exit);
  }

  /** Resumes `task` to its next syscall stop; signals that replay caused itself (a replayed
   * child's SIGCHLD) are dropped on the way, as in onSignal. */
  private toSyscallStop(task: Task, what: string, frame: number): void {
    for (;;) {
      task.resume(PTRACE.SYSCALL);
      const st = this.waitFor(task);
      if (st.kind === 'syscall') return;
      if (st.kind !== 'signal' || isSynchronous(st.signal, task.siginfo().readInt32LE(8))) this.diverge(task, what, JSON.stringify(st), frame);
    }
  }

  /** Puts the recorded state of `task` in place of the code that led to it (`settle` first).
   * The snapshot's memory holds the other threads' syscall buffers as the recording had them,
   * in the middle of their stretches: they get back the results replay gave them, which they
   * have not taken yet (they run to their next events later). */
  private putSnapshot(task: Task, snapshot: Snapshot, frame: number): void {
    this.settle(task);
    applySnapshot(task, snapshot, this.pages, frame, (hash) => this.earlierPage(hash, frame));
    for (const [rec, records] of this.givenRecords) {
      const other = this.tasks.get(rec);
      const buffer = this.syscallBuffers.get(rec);
      if (other && other !== task && other.as === task.as && buffer !== undefined) this.putBuffered(other, buffer, records);
    }
  }

  /** Page contents from the snapshots before `frame`, for a replay that started after them. */
  private earlierPage(hash: bigint, frame: number): Buffer | undefined {
    const reader = TraceReader.open(this.trace.dir);
    try {
      for (const e of reader.events()) {
        if (e.frame >= frame) break;
        const s = e.data.kind === 'preempt' ? e.data.snapshot : e.data.kind === 'signal' ? e.data.snapshot : undefined;
        for (const c of s?.contents ?? []) this.pages.set(c.hash, c.data);
      }
    } finally {
      reader.close();
    }
    return this.pages.get(hash);
  }

  /** Makes the task run its last syscall again, as the kernel does after a restart code when
   * no handler runs. */
  private restartCall(task: Task): void {
    if (task.atSysemuEntry) task.leaveSysemuEntry();
    this.spuriousExit.delete(task);
    const r = task.getRegs();
    r.rax = r.result === ERESTART_RESTARTBLOCK ? BigInt(NR.restart_syscall) : r.origRax;
    r.rip -= 2n;
    r.origRax = -1n;
    task.setRegs();
  }

  /** The task ends here: by the exit it started, a signal it is delivered, or a SIGKILL. */
  private awaitExit(task: Task, e: Event & { data: Extract<EventData, { kind: 'exit' }> }): void {
    if (task.state !== 'exiting') {
      const signo = e.data.status & 0x7f;
      // A fatal signal another thread of the process is about to take ends this one too.
      const taker = [...this.tasks.values()].find((t) => t !== task && t.tgid === task.tgid && signo !== 0 && t.deliver === signo);
      this.ending(task, signo !== 0);
      if (signo !== 0 && task.deliver === signo && this.diesUntraced(task, signo)) {
        ptrace(PTRACE.DETACH, task.tid, 0, 0);
        this.reaped.set(task, { kind: 'killed', signal: signo, core: false });
      } else if (signo === SIG.KILL) {
        kill(task.tid, SIG.KILL);
        this.exiting(task, true);
      } else if (taker) {
        this.exiting(task, true);
        taker.continue(PTRACE.CONT);
      } else {
        task.continue(PTRACE.CONT);
      }
    }
    let st = this.reaped.get(task) ?? this.waitFor(task);
    this.reaped.delete(task);
    while (st.kind !== 'exited' && st.kind !== 'killed') {
      if (st.kind === 'syscall' && !task.inSyscall) {
        // On its way to an exit the trace of an older format did not mark.
        task.inSyscall = true;
      } else if (st.kind === 'signal' && !isSynchronous(st.signal, task.siginfo().readInt32LE(8))) {
        // dropped, as above
      } else if (st.kind !== 'event' && st.kind !== 'syscall') {
        this.diverge(task, describe(e), JSON.stringify(st), e.frame);
      }
      task.continue(PTRACE.SYSCALL);
      st = this.waitFor(task);
    }
    const status = endStatus(st);
    this.trace.next();
    if (e.data.status !== status) this.diverge(task, `exit status 0x${e.data.status.toString(16)}`, `exit status 0x${status.toString(16)}`, e.frame);
    // A fatal signal ends the whole process: its other threads are on their way out already.
    if ((status & 0x7f) !== 0) this.exiting(task, true);
    const buffer = this.syscallBuffers.get(task.rec);
    this.removeTask(task);
    // A task that shared its buffer (a raw clone) may have died before it took results it was
    // given, which the recording's took: the buffer is left empty, as the recording left it.
    const sharer = [...this.tasks.values()].find((t) => t.as === task.as && t.state !== 'exiting' && this.syscallBuffers.get(t.rec) === buffer);
    if (buffer !== undefined && sharer) unusedRecords(sharer, buffer);
    this.current.delete(task);
    this.held.delete(task);
    this.forks.delete(task);
    this.tracerStops.delete(task);
    this.tracerSteps.delete(task);
    if (task.rec === task.tgid && this.rootStatus === 0 && this.tasks.size === 0) this.rootStatus = status;
    this.hooks.taskExited.call(task, status);
    this.replayed(e, task);
  }

  /** `task`, alive, starts its end, or (`group`) its process's: the robust futexes of the
   * threads that end are marked as the kernel would. */
  private ending(task: Task, group: boolean): void {
    for (const t of this.tasks.values()) if (t.state !== 'exiting' && (t === task || (group && t.tgid === task.tgid))) markOwnerDied(t, task);
  }

  /** `task` ends in the exec of another thread of its process that the recording saw wait for
   * the process's other threads (held at its entry since): that exec runs now, and ends them. */
  private releaseExec(task: Task): void {
    const [execing, nr] = [...this.held].find(([t, nr]) => t.tgid === task.tgid && t !== task && t.state !== 'exiting' && isExec(nr)) ?? [];
    const exec = execing && this.trace.nextOf(execing.rec);
    if (!execing || exec?.data.kind !== 'exec') return;
    this.held.delete(execing);
    execing.getRegs();
    this.redirectExec(execing, nr!, exec.data);
    for (const t of this.tasks.values()) if (t !== execing && t.tgid === execing.tgid) t.state = 'exiting';
    this.resume(execing);
    this.running.add(execing);
  }

  private exiting(task: Task, group: boolean): void {
    for (const t of this.tasks.values()) if (t === task || (group && t.tgid === task.tgid)) t.state = 'exiting';
  }

  /** At the PTRACE_EVENT stop of a fork call: the new task joins the session as the trace
   * knows it, with the tid the recording saw where the program reads it (CLONE_PARENT_SETTID
   * and CLONE_CHILD_SETTID). */
  private replayFork(task: Task): void {
    const e = this.expect(task, 'fork');
    const d = e.data;
    const child = this.adoptChild(task, task.eventMessage(), d.child, d.flags);
    const first = this.waitFor(child);
    if (first.kind !== 'event' && first.kind !== 'signal') this.diverge(child, 'a new task', JSON.stringify(first), e.frame);
    if (child.as === task.as && task.as.watchpoints.length > 0) child.programWatchpoints();
    // The kernel wrote the new task's real tid at both places already.
    const id = (value: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(value);
      return b;
    };
    if (d.childTid !== 0n) child.writeMem(d.childTid, id(d.childTidValue ?? d.child));
    if (d.parentTid !== 0n) task.writeMem(d.parentTid, id(d.parentTidValue ?? d.child));
    this.forks.add(task);
    this.replayed(e, task);
  }

  /** The fork call of `task`, past its fork event, returns. */
  private finishFork(task: Task): void {
    this.forks.delete(task);
    for (;;) {
      task.continue(PTRACE.SYSCALL);
      const st = this.waitFor(task);
      if (st.kind === 'syscall') break;
      if (st.kind !== 'event') this.diverge(task, 'the end of a fork call', JSON.stringify(st));
    }
    this.atExit.get(task)?.();
    this.atExit.delete(task);
    const r = task.getRegs();
    const e = this.expect(task, 'syscall', `the end of ${syscallName(r.syscallNumber)}`);
    if (e.data.number !== r.syscallNumber) this.diverge(task, describe(e), `the end of ${syscallName(r.syscallNumber)}`, e.frame);
    task.inSyscall = false;
    this.complete(task, e as SyscallEvent, r);
  }

  /** Whether replay should stop before running further: the goal or a recording cut short. */
  /** The end of a trace whose recording did not end (killed, or out of space). */
  private cutOff(): ReplayEnd {
    return { kind: 'interrupted-recording', frame: this.lastFrame, cutOff: this.trace.cutOff ?? `${join(this.trace.dir, 'events')} ends before the recording did (it was killed, or could not write more)` };
  }

  private checkEnd(): ReplayEnd | undefined {
    if (this.goal !== undefined && this.lastFrame >= this.goal) return { kind: 'reached', frame: this.lastFrame };
    const next = this.trace.peek();
    if (next?.data.kind === 'interrupted') {
      this.trace.next();
      this.lastFrame = next.frame;
      return { kind: 'interrupted-recording', frame: next.frame };
    }
    return undefined;
  }

  /** The results of the buffered calls the task makes on its way to its next event: the
   * library takes them from its buffer. */
  private fillBuffer(task: Task, e: Event & { data: { kind: 'buffered'; records: Buffer } }): void {
    const buffer = this.syscallBuffers.get(task.rec);
    if (buffer === undefined) throw this.corrupt(e.frame, `buffered calls of task ${task.rec}, which registered no syscall buffer`);
    this.putBuffered(task, buffer, e.data.records);
    this.givenRecords.set(task.rec, e.data.records);
    this.trace.next();
    this.replayed(e, task);
  }

  /** Puts records in the task's buffer; the library tells of the writes a monitor watches. */
  private putBuffered(task: Task, buffer: bigint, records: Buffer): void {
    putRecords(task, buffer, records, (fd) => this.writeMonitor(task, fd) !== undefined);
  }

  /** Whether the task, stopped at a syscall's entry, is telling of a buffered write: its
   * library's PRCTL_WROTE, not a prctl the program made itself (which the trace then has). */
  private isBufferedWrite(task: Task): boolean {
    const r = task.getRegs();
    if (!isWroteCall(r.syscallNumber, r.get('rdi')) || !this.syscallBuffers.has(task.rec)) return false;
    const next = this.trace.peek();
    return !(next?.tid === task.rec && next.data.kind === 'syscall' && isWroteCall(next.data.number, next.data.args[0]));
  }

  /** The library took a buffered write to a watched fd: prctl(PRCTL_WROTE, fd, data, len),
   * made in replay only, so it is skipped. */
  private bufferedWrite(task: Task, r: Registers, sysemu: boolean): void {
    const [, fd, data, len] = r.args();
    // At most a buffer's worth: the library wrote that much at the most.
    if (len! <= BigInt(MAX_BUFFER)) this.writeMonitor(task, Number(fd))?.(task.readMem(data!, Number(len)));
    if (sysemu) {
      task.atSysemuEntry = true;
      return;
    }
    r.origRax = -1n;
    task.setRegs();
    this.spuriousExit.add(task);
  }

  private replayed(e: Event, task: Task): void {
    if (e.data.kind !== 'buffered') this.givenRecords.delete(task.rec);
    const buffer = this.syscallBuffers.get(task.rec);
    if (buffer !== undefined && e.data.kind !== 'buffered' && e.data.kind !== 'exit' && task.state !== 'exiting') {
      // The recording emptied the buffer here; it took every result it was given.
      const unused = unusedRecords(task, buffer);
      if (unused !== 0) this.diverge(task, `${describe(e)} after its buffered calls`, `${describe(e)} with ${unused} bytes of buffered results unused`, e.frame);
    }
    this.lastFrame = e.frame;
    this.tellCalls(e, task);
    this.hooks.eventReplayed.call(e, task);
    if (!this.debug || e.data.kind === 'buffered') return;
    if (e.data.kind === 'signal') this.report = { kind: 'signal', frame: e.frame, task, signo: e.data.signo };
    else if (this.debug.step === task) this.report = { kind: 'step', frame: e.frame, task };
  }

  /** The next event, which must be of `kind`; anything else is a divergence. */
  private expect<K extends EventData['kind']>(task: Task, kind: K, what: string = kind): Event & { data: Extract<EventData, { kind: K }> } {
    const e = this.trace.next();
    if (!e) {
      throw new TsrrError('TRACE_TRUNCATED', `the trace ends at frame ${this.trace.frameCount} but the program went on (${what})`, { frame: this.trace.frameCount });
    }
    if (e.data.kind !== kind) this.diverge(task, describe(e), what, e.frame);
    return e as Event & { data: Extract<EventData, { kind: K }> };
  }

  /** At the entry of a syscall: a syscall stop, a PTRACE_SYSEMU one, or the seccomp stop of a
   * call through the vsyscall page (core/vsyscall.ts). */
  private syscallEntry(task: Task, stop: 'syscall' | 'sysemu' | 'vsyscall'): void {
    const r = task.getRegs();
    const nr = r.syscallNumber;
    this.hooks.beforeSyscall.call(task, nr);
    task.inSyscall = true;
    const next = this.trace.peek();
    if (this.debug && next !== undefined && next.frame === this.debugEnd && next.tid === task.rec && (nr === NR.exit || nr === NR.exit_group)) {
      this.report = { kind: 'end', frame: this.lastFrame, task };
      this.atEnd = { task, nr, e: next };
      return;
    }
    if (next?.data.kind === 'syscallEntry') {
      this.enterBlocking(task, nr, next);
      return;
    }
    if (next?.data.kind === 'fork' && isForkCall(nr)) {
      // Its PTRACE_EVENT stop comes next; it runs as it did in the recording.
      const undo = dropUntraced(task, nr, r.args());
      if (undo) this.atExit.set(task, undo);
      return;
    }
    if (nr === NR.exit_group || nr === NR.exit) return; // the exit event is checked when it happens
    if (isExec(nr) && next?.data.kind === 'exec') {
      this.redirectExec(task, nr, next.data);
      return;
    }
    const e = this.expect(task, 'syscall', `syscall ${syscallName(nr)}(${fmtArgs(r.args())})`);
    const d = e.data;
    const args = r.args();
    if (d.number !== nr || d.args.some((a, i) => a !== args[i])) {
      this.diverge(task, `syscall ${syscallName(d.number)}(${fmtArgs(d.args)})`, `syscall ${syscallName(nr)}(${fmtArgs(args)})`, e.frame);
    }
    if (d.ip !== r.rip || d.sp !== r.rsp || d.regsCrc !== task.regsCrc()) {
      this.diverge(task, `registers at ${syscallName(nr)}: rip 0x${d.ip.toString(16)} rsp 0x${d.sp.toString(16)} crc 0x${d.regsCrc.toString(16)}`,
        `rip 0x${r.rip.toString(16)} rsp 0x${r.rsp.toString(16)} crc 0x${task.regsCrc().toString(16)}`, e.frame);
    }
    if (stop !== 'syscall') {
      // Skipped by the kernel already, or skipped as the vsyscall leaves the stop: complete it
      // here, there is no exit stop.
      task.inSyscall = false;
      if (stop === 'sysemu') task.atSysemuEntry = true;
      else {
        r.origRax = -1n;
        task.setRegs();
        task.returnFromVsyscall();
      }
      this.complete(task, e as SyscallEvent, task.getRegs());
      return;
    }
    this.current.set(task, e as SyscallEvent);
    if (d.mappedFile || emulatedOnly(d)) {
      r.origRax = -1n;
      task.setRegs();
    }
  }

  /** A syscallEntry event: the recording saw the call block (or end the task) here. */
  private enterBlocking(task: Task, nr: number, e: Event): void {
    const d = e.data as Extract<EventData, { kind: 'syscallEntry' }>;
    if (d.number !== nr) this.diverge(task, `syscall ${syscallName(d.number)}`, `syscall ${syscallName(nr)}`, e.frame);
    this.trace.next();
    // Hooks see the task at the entry, alive.
    this.replayed(e, task);
    if (nr === NR.exit || nr === NR.exit_group) {
      this.ending(task, nr === NR.exit_group);
      this.exiting(task, nr === NR.exit_group);
      task.resume(PTRACE.SYSCALL);
    } else {
      this.held.set(task, nr);
    }
  }

  private syscallExit(task: Task): void {
    task.inSyscall = false;
    const e = this.current.get(task);
    if (!e) this.diverge(task, describe(this.trace.peek()), `the end of syscall ${syscallName(task.getRegs().syscallNumber)}`);
    this.current.delete(task);
    this.complete(task, e, task.getRegs());
  }

  /** Puts the recorded outcome of syscall event `e` into the task (or checks it, for calls
   * that ran again). `r` holds the task's registers. */
  private complete(task: Task, e: SyscallEvent, r: Registers): void {
    const d = e.data;
    if (d.number === NR.prctl && d.args[0] === PRCTL_REGISTER && d.result === 0n) {
      this.registerBuffer(task, d.args[1]!);
      markReplay(task);
    }
    const real = !emulatedOnly(d) && !d.mappedFile;
    if (real && RETURNS_TID.has(d.number)) {
      r.rax = d.result;
      task.setRegs();
      // A pidfd (CLONE_PIDFD): the recording's number, and replay's own fd closed.
      for (const w of d.writes) {
        task.remoteSyscall(NR.close, task.readU32(w.addr));
        task.writeMem(w.addr, w.data);
      }
    } else if (real) {
      if (r.result !== d.result) this.diverge(task, `${syscallName(d.number)} returning ${d.result}`, `it returned ${r.result}`, e.frame);
    } else {
      if (d.mappedFile && d.result >= 0n) this.mapFile(task, d);
      if (d.number === NR.shmget && d.result >= 0n) this.sysvSegments.created(d.result, d.args[1]!);
      if (d.number === NR.shmat && d.result >= 0n) this.attachShm(task, d);
      if (d.fileChange) this.sharedFiles.apply(d.fileChange);
      if (d.number === NR.ptrace) this.tracerRequest(task, d);
      const target = d.remoteWrites && this.processOf(d.remoteWrites.tid);
      for (const w of target ? d.remoteWrites!.writes : []) target!.writeMem(w.addr, w.data);
      for (const w of d.writes) task.writeMem(w.addr, w.data);
      r.rax = d.result;
      task.setRegs();
      if (d.result > 0n && (d.number === NR.write || d.number === NR.writev)) this.replayWrite(task, d);
    }
    if (RESTARTS.has(d.result)) {
      // What the kernel looks at to restart the call: its number and the restart code.
      r.origRax = BigInt(d.number);
      r.rax = d.result;
      task.setRegs();
      this.restart.add(task);
    }
    this.lastCall.set(task, e);
    this.followCall(task, d.number, d.args, d.result);
    if (d.number === NR.set_robust_list && d.result === 0n) task.robustList = d.args[0]!;
    this.hooks.afterSyscall.call(task, e);
    this.replayed(e, task);
  }

  /** What hands a monitor the data the task writes to `fd`, if a monitor watches it. */
  private writeMonitor(task: Task, fd: number): ((data: Buffer) => void) | undefined {
    const monitor = task.fds.get(fd);
    if (!monitor?.replayedWrite || (monitor.kind === StdioMonitor.KIND && !this.echo)) return undefined;
    if (this.opts.markStdio && monitor instanceof StdioMonitor) {
      // The event being replayed is the one after the last replayed.
      return (data) => monitor.replayedWrite(task, this.lineMarks.mark(monitor.target, data, task.tgid, this.lastFrame + 1));
    }
    return (data) => monitor.replayedWrite!(task, data);
  }

  /** Output the tracee wrote to a monitored fd (stdout, stderr) is reproduced from its memory. */
  private replayWrite(task: Task, d: SyscallEvent['data']): void {
    const monitor = this.writeMonitor(task, Number(BigInt.asIntN(32, d.args[0]!)));
    if (!monitor) return;
    let left = Number(d.result);
    if (d.number === NR.write) {
      monitor(task.readMem(d.args[1]!, left));
      return;
    }
    for (let i = 0n; i < d.args[2]! && left > 0; i++) {
      const base = task.readU64(d.args[1]! + i * 16n);
      const len = Math.min(left, Number(task.readU64(d.args[1]! + i * 16n + 8n)));
      monitor(task.readMem(base, len));
      left -= len;
    }
  }

  /** Maps where the recording mapped a file: the trace's copy of it, privately; or, for a file
   * some tracee maps shared, replay's shared copy (core/SharedFiles.ts) with the recorded
   * flags; or, for /dev/zero, anonymous memory. */
  private mapFile(task: Task, d: SyscallEvent['data']): void {
    const m = d.mappedFile!;
    const [, len, prot, flags, , offset] = d.args;
    let got: bigint;
    if (m.copy === '') {
      got = task.remoteSyscall(NR.mmap, d.result, len!, prot!, flags! | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    } else {
      const shadowed = m.watched;
      const file = shadowed ? this.sharedFiles.pathFor(m.identity, (path) => sparseCopy(this.trace.file(m.copy), path)) : this.trace.file(m.copy);
      got = task.remoteSyscall(NR.mmap, d.result, len!, prot!, flags! | MAP_FIXED, this.openedIn(task, file, shadowed, m.path), offset!);
    }
    if (got !== d.result) this.diverge(task, `mmap of ${m.path} at 0x${d.result.toString(16)}`, `mmap returned ${got}`);
  }

  /** Attaches replay's own System V segment for the recording's (made on first use, with the
   * size its shmget asked for) where the recording's shmat put it: processes that attach one
   * segment share its memory, as the recording's did. */
  private attachShm(task: Task, d: SyscallEvent['data']): void {
    const [recorded, , flags] = d.args;
    const got = this.attachSysv(task, recorded!, d.result, flags!);
    if (got === undefined) this.diverge(task, `shmat of segment ${recorded}, made by shmget in the trace`, `a segment the trace does not create`);
    if (got !== d.result) this.diverge(task, `shmat at 0x${d.result.toString(16)}`, `shmat returned ${got}`);
  }

  /** Attaches replay's segment for the recording's `recorded` (made on first use, of the size
   * its shmget asked for) at `addr` in `task` with shmat `flags`: shmat's result, or undefined
   * if the trace made no such segment. */
  attachSysv(task: Task, recorded: bigint, addr: bigint, flags: bigint): bigint | undefined {
    const id = this.sysvSegments.idFor(recorded, (size) => {
      const made = task.remoteSyscall(NR.shmget, IPC_PRIVATE, size, IPC_CREAT | 0o600n);
      if (made < 0n) throw new TsrrError('TRACEE_FAILED', `shmget of ${size} bytes for replay failed: ${strerror(Number(-made))}`, { size });
      return made;
    });
    return id === undefined ? undefined : task.remoteSyscall(NR.shmat, id, addr, (flags & (SHM_RDONLY | SHM_EXEC)) | SHM_REMAP);
  }

  /** An fd of `task`'s process open on `file` (read-write for a shared copy, which a shared
   * mapping may write), kept open (close-on-exec, out of the program's way) for its later
   * mappings of the same file: the kernel merges adjacent mappings only of one open file, as
   * the recording's were. */
  private openedIn(task: Task, file: string, writable: boolean, original: string): bigint {
    const opened = this.openFiles.get(task.as) ?? new Map<string, bigint>();
    this.openFiles.set(task.as, opened);
    const known = opened.get(file);
    if (known !== undefined) return known;
    const fd = task.withScratch(Buffer.from(file + '\0'), (addr) => task.remoteSyscall(NR.openat, AT_FDCWD, addr, (writable ? O_RDWR : 0) | O_CLOEXEC));
    if (fd < 0n) throw new TsrrError('TRACE_CORRUPT', `cannot open ${file} (the copy of ${original}): ${strerror(Number(-fd))}`, { file });
    const high = task.remoteSyscall(NR.fcntl, fd, F_DUPFD_CLOEXEC, HIGH_FD);
    task.remoteSyscall(NR.close, fd);
    const kept = high >= 0n ? high : fd;
    opened.set(file, kept);
    return kept;
  }

  /** Points a replayed execve at the trace's copy of the executable. The path goes below the
   * red zone and is not put back: exec replaces the memory anyway. */
  private redirectExec(task: Task, nr: number, exec: { copy: string; becomes?: number }): void {
    if (exec.becomes !== undefined) {
      const leader = this.tasks.get(exec.becomes);
      if (!leader || leader.tgid !== task.tgid) throw this.corrupt(this.trace.peek()!.frame, `task ${task.rec}'s exec takes over task ${exec.becomes}, not a thread of its process`);
      this.becoming.set(task, leader);
    }
    const r = task.regs;
    const path = Buffer.from(this.trace.file(exec.copy) + '\0');
    const addr = (r.rsp - 128n - BigInt(path.length)) & ~15n;
    task.writeMem(addr, path);
    if (nr === NR.execveat) {
      r.setArg(0, AT_FDCWD);
      r.setArg(1, addr);
    } else r.setArg(0, addr);
    task.setRegs();
  }

  /** `launched`: by launchTask, which set it up. */
  private replayExec(task: Task, e: Event, launched = false): void {
    if (e.data.kind !== 'exec') throw this.corrupt(e.frame, 'expected an exec event');
    const leader = this.becoming.get(task);
    this.becoming.delete(task);
    this.current.delete(task);
    this.syscallBuffers.delete(task.rec); // the program that had it is gone
    task.inSyscall = false;
    for (const t of this.tasks.values()) if (t !== task && t.tgid === task.tgid) t.state = 'exiting';
    if (!launched) this.setUpExec(task);
    // The copy's file name would be the task's name; give it the recorded program's.
    const name = Buffer.concat([encodeBytes(basename(e.data.path)).subarray(0, 15), Buffer.of(0)]);
    task.getRegs();
    task.withScratch(name, (addr) => task.remoteSyscall(NR.prctl, PR_SET_NAME, addr));
    const regs = new Registers(Buffer.from(e.data.regs));
    task.writeMem(regs.rsp, e.data.stack);
    task.setRegs(regs);
    this.replayed(e, task);
    if (leader) {
      this.held.delete(leader);
      this.current.delete(leader);
      this.tookOver(task, leader);
    }
  }

  /** A signal stopped the task on its way to the next event: a trapped instruction, a fault
   * the recording saw too, or a signal replay caused itself (dropped). */
  private onSignal(task: Task, signo: number): void {
    const code = task.siginfo().readInt32LE(8);
    const r = task.getRegs();
    const watchpoint = signo === SIG.TRAP && task.as.watchpoints.length > 0 ? task.triggeredWatchpoint() : undefined;
    if (watchpoint) {
      this.report = { kind: 'watchpoint', frame: this.lastFrame, task, watchpoint };
      return;
    }
    if (signo === SIG.TRAP && task.as.breakpoints.has(r.rip - 1n)) {
      // A breakpoint the debugger put in: back to its address, and not delivered.
      r.rip -= 1n;
      task.setRegs();
      this.report = { kind: 'breakpoint', frame: this.lastFrame, task };
      return;
    }
    // The trace has a signal here when the program asked for SIGSEGV at rdtsc (PR_SET_TSC).
    const insn = trappedInstruction(task, signo, code);
    if (insn && this.trace.peek()?.data.kind !== 'signal') {
      if (insn === 'rdtsc' || insn === 'rdtscp') {
        const e = this.expect(task, 'rdtsc', `${insn} at 0x${r.rip.toString(16)}`);
        if (e.data.ip !== r.rip) this.diverge(task, `rdtsc at 0x${e.data.ip.toString(16)}`, `rdtsc at 0x${r.rip.toString(16)}`, e.frame);
        emulateRdtsc(task, insn, e.data.value, e.data.aux);
        undoForcedSignal(task, signo);
        this.replayed(e, task);
        return;
      }
      if (insn === 'cpuid') {
        const e = this.expect(task, 'cpuid', `cpuid at 0x${r.rip.toString(16)}`);
        emulateCpuid(task, e.data.eax, e.data.ebx, e.data.ecx, e.data.edx);
        undoForcedSignal(task, signo);
        this.replayed(e, task);
        return;
      }
    }
    if (!isSynchronous(signo, code)) return; // e.g. SIGCHLD from a replayed child's real end
    if ((insn === 'rdtsc' || insn === 'rdtscp') && signo === SIG.ILL) {
      // A patched rdtsc where the program asked for SIGSEGV: it got one.
      task.setSiginfo(rdtscFaultInfo());
      signo = SIG.SEGV;
    }
    const e = this.expect(task, 'signal', `signal ${signo} at 0x${r.rip.toString(16)}`);
    if (e.data.signo !== signo || !Buffer.from(e.data.regs).equals(r.buf)) {
      const rec = new Registers(Buffer.from(e.data.regs));
      this.diverge(task, `signal ${e.data.signo} at 0x${rec.rip.toString(16)}`, `signal ${signo} at 0x${r.rip.toString(16)} (differs in ${rec.diff(r).join(', ') || 'signal number'})`, e.frame);
    }
    this.stopFor(task, e.data);
    this.replayed(e, task);
  }

  private diverge(task: Task, expected: string, actual: string, frame = this.lastFrame + 1): never {
    const d: Divergence = { frame, tid: task.tid, expected, actual };
    this.hooks.divergence.call(d);
    throw new TsrrError('DIVERGENCE', `replay diverged at frame ${frame} (task ${task.tid}): the trace has ${expected}, the tracee did ${actual}`, { ...d });
  }

  private corrupt(frame: number, why: string): TsrrError {
    return new TsrrError('TRACE_CORRUPT', `${this.trace.dir}: frame ${frame}: ${why}`, { frame });
  }
}

/** How the session ends at replay's end `end`. */
function sessionEnd(end: ReplayEnd): SessionEnd {
  if (end.kind === 'exited') return { reason: 'exited', frame: end.frame, status: end.status };
  if (end.kind === 'reached') return { reason: 'reached', frame: end.frame };
  return { reason: 'end-of-trace', frame: end.frame, ...(end.cutOff !== undefined && { cutOff: end.cutOff }) };
}

/** Whether the call blocked with a signal mask of its own (sigsuspend, ppoll, ...) and a
 * signal ended it: the kernel delivers that signal with the call's mask. */
function interruptedMaskCall(e: SyscallEvent): boolean {
  const maskArg = MASK_ARG.get(e.data.number);
  return maskArg !== undefined && (maskArg === 0 || e.data.args[maskArg] !== 0n) && (e.data.result === EINTR || e.data.result === ERESTARTNOHAND);
}

/** A syscall that replay reproduces without running it or anything else in the tracee. */
function emulatedOnly(d: SyscallEvent['data']): boolean {
  return !d.mappedFile && (replayPolicy(d.number, d.args) !== 'real' || failed(d) || isBufferCall(d.number, d.args) || d.skipped === true);
}

/** ptrace requests that let the tracee go on. */
const LETS_GO = new Set<number>([REQ.CONT, REQ.SYSCALL, REQ.SINGLESTEP, REQ.SYSEMU, REQ.SYSEMU_SINGLESTEP, REQ.DETACH]);

/** Calls over a range of pages that may have changed some of them when they fail (ENOMEM for
 * a hole in the range): they run again on replay even then. */
const PARTIAL_ON_FAILURE = new Set<number>([NR.mprotect, NR.pkey_mprotect, NR.madvise, NR.mlock, NR.mlock2, NR.munlock]);

/** Whether the call failed and so changed nothing. rt_sigreturn returns the interrupted
 * code's rax, which may look like an error. */
function failed(d: SyscallEvent['data']): boolean {
  return d.result < 0n && d.number !== NR.rt_sigreturn && !PARTIAL_ON_FAILURE.has(d.number);
}

function describe(e: Event | undefined): string {
  if (!e) return 'the end of the trace';
  const d = e.data;
  if (d.kind === 'syscall') return `syscall ${syscallName(d.number)}(${fmtArgs(d.args)})`;
  if (d.kind === 'signal') return `signal ${d.signo}`;
  if (d.kind === 'exit') return `exit with status 0x${d.status.toString(16)}`;
  return d.kind;
}

function isExec(nr: number): boolean {
  return nr === NR.execve || nr === NR.execveat;
}
