// SPDX-License-Identifier: MIT
/**
 * A gdb remote-protocol server on a replay: gdb reads registers and memory of the replayed
 * tasks, sets breakpoints, and continues or steps, which replays the trace on until a
 * breakpoint, the end of a step, a recorded signal or the end. Threads are the recording's
 * tids (`pTGID.TID`). Memory and registers are read-only: the replay must stay the recording.
 * Going back restores a checkpoint (or starts again) and replays forward to the last stop
 * before where it was.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { Registers, TsrrError, WATCHPOINT_SLOTS, hardwareWatchpoints, isTsrrError, writeAll, type DebugResume, type ReplaySession, type ReplayStop, type Task, type Watchpoint } from '../../core/index.js';
import { SIG } from '../../native/ptrace.js';
import { GdbConnection, INTERRUPT } from './GdbConnection.js';
import type { GdbHooks } from './hooks.js';
import { RegisterFile } from './registers.js';
import { gdbSignal } from './signals.js';
import { Timeline, atEvent, type Checkpoint, type Position, type SavedState } from './Timeline.js';

const NAME = 'gdbserver';
const XSAVE_MAX = 1 << 14;
const PACKET_SIZE = 0x4000;
const hex = (n: number | bigint) => n.toString(16);
const NO_REGS = Buffer.alloc(0);
/** Replay time between automatic checkpoints. */
const AUTO_INTERVAL_MS = 250;
/** The fewest steps before its end a walk to a step keeps a checkpoint at. */
const STEP_CHECKPOINT_MIN = 16;

const EFLAGS = 144;
const RF = 0x10000;
/** The trap and resume flags say how the task was last resumed, not where it is. */
const HOW_RESUMED = 0x100 | RF;

/** Whether two register files are the same place in a task's run. */
function samePlace(a: Buffer, b: Buffer): boolean {
  if ((a.readUInt32LE(EFLAGS) & ~HOW_RESUMED) !== (b.readUInt32LE(EFLAGS) & ~HOW_RESUMED)) return false;
  return a.subarray(0, EFLAGS).equals(b.subarray(0, EFLAGS)) && a.subarray(EFLAGS + 8).equals(b.subarray(EFLAGS + 8));
}

/** Most single steps a reverse step replays through inside one stretch of a task's code. */
const MAX_STEPS = 200_000;

export class GdbServer {
  private readonly regs: RegisterFile;
  /** The thread gdb reads registers and memory of (Hg). */
  private selected: Task | undefined;
  private last: ReplayStop | undefined;
  /** Where the last stop left the replay. */
  private position: Position | undefined;
  /** gdb's breakpoints and watchpoints, put into every replay made to go back. */
  private readonly breakpoints = new Set<bigint>();
  private watchpoints: Watchpoint[] = [];
  /** Breakpoints of a replay made to go back whose code is not mapped yet. */
  private readonly pending = new Set<bigint>();
  readonly timeline = new Timeline();
  /** The event the replay started at (-g), where `run` goes back to. */
  private readonly startFrame: number;
  /** A `run` put the replay in place: the resume gdb sends next stops at once. */
  private justRun = false;
  /** When the last checkpoint was taken (performance.now()). */
  private lastSaved = performance.now();
  private done = false;
  /** The process gdb debugs (the first one, or -f/-p's): other processes replay along unseen. */
  private readonly tgid: number;
  /** The end of replay for gdb (TraceReader.endEvent's frame, ReplaySession.debugEnd). */
  private readonly endFrame: number | undefined;

  constructor(
    public session: ReplaySession,
    private readonly conn: GdbConnection,
    private readonly hooks: GdbHooks,
    /** A new replay of the trace, not started, for going backwards. */
    private readonly fresh: () => ReplaySession,
    /** The process gdb debugs (its pid in the trace); default: the first. */
    pid?: number,
    /** Where the replay stopped before gdb came (-e's end stop). */
    start?: ReplayStop,
  ) {
    const first = (pid !== undefined ? [...session.tasks.values()].find((t) => t.tgid === pid) : undefined) ?? [...session.tasks.values()][0];
    this.tgid = first?.tgid ?? 0;
    this.selected = session.tasks.get(this.tgid) ?? first;
    this.regs = new RegisterFile(first !== undefined && first.getXstate(XSAVE_MAX).length > 576 + 256);
    this.position = this.atEventPosition();
    if (start) this.stopped(start);
    this.startFrame = session.frame;
    this.endFrame = session.trace.endEvent()?.frame;
    this.instrument(session);
  }

  /** Answers gdb until it detaches, kills, goes away, or `stop()` says so. */
  serve(stop: () => boolean): void {
    while (!this.done) {
      const packet = this.conn.read(stop);
      if (packet === undefined) return;
      if (packet === INTERRUPT) continue; // gdb interrupts only a running replay
      let reply: string | undefined;
      try {
        reply = this.handle(packet);
      } catch (e) {
        if (!isTsrrError(e) || e.code !== 'BAD_PACKET') throw e;
        reply = 'E01';
      }
      if (reply !== undefined && !this.conn.write(reply)) return;
      if (packet === 'QStartNoAckMode') this.conn.noAcks();
    }
  }

  /** The reply to one packet ('' for packets this server does not know). */
  handle(p: string): string | undefined {
    const custom = this.hooks.packet.call(p, this);
    if (custom !== undefined) return custom;
    if (p === '?') return this.stopReply(this.last);
    if (p.startsWith('qSupported')) return `PacketSize=${hex(PACKET_SIZE)};QStartNoAckMode+;multiprocess+;swbreak+;hwbreak+;vContSupported+;qXfer:features:read+;qXfer:exec-file:read+;qXfer:auxv:read+;ReverseStep+;ReverseContinue+`;
    if (p === 'QStartNoAckMode' || p.startsWith('qSymbol')) return 'OK';
    if (p.startsWith('qAttached')) return '1';
    if (p === 'qfThreadInfo') return 'm' + this.liveTasks().map(threadId).join(',');
    if (p === 'qsThreadInfo') return 'l';
    if (p === 'qC') return this.selected ? `QC${threadId(this.selected)}` : 'E01';
    if (p[0] === 'H') return this.select(p.slice(2));
    if (p[0] === 'T') return this.taskOf(p.slice(1)) ? 'OK' : 'E01';
    if (p === 'g') return this.withTask((t) => this.regs.all(t, t.getXstate(XSAVE_MAX)).toString('hex'));
    if (p[0] === 'p') return this.withTask((t) => this.regs.one(t, t.getXstate(XSAVE_MAX), Number(hexArg(p.slice(1))))?.toString('hex') ?? 'E01');
    if (p[0] === 'm') return this.readMemory(p.slice(1));
    if (p[0] === 'P') return this.writeRegister(p.slice(1));
    if (p[0] === 'G' || p[0] === 'M' || p[0] === 'X') return 'E01'; // a replay cannot change
    if (p.startsWith('Z0,') || p.startsWith('z0,')) return this.breakpoint(p[0] === 'Z', p.slice(3));
    if (/^[Zz][1234],/.test(p)) return this.watchpoint(p[0] === 'Z', WATCH_KINDS[Number(p[1]) - 1]!, p.slice(3));
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    if (p.startsWith('vCont;')) return this.resume(p.slice(6).split(';'));
    if (p[0] === 'c' || p[0] === 'C') return this.resume(['c']);
    if (p[0] === 's' || p[0] === 'S') return this.resume(['s']);
    if (p === 'bc') return this.reverseContinue();
    if (p === 'bs') return this.reverseStep();
    if (p.startsWith('qXfer:')) return this.transfer(p.slice(6));
    if (p.startsWith('qRcmd,')) return this.monitor(Buffer.from(p.slice(6), 'hex').toString());
    if (p.startsWith('vRun;')) return this.run(p.split(';').slice(2));
    if (p.startsWith('vKill')) return 'OK'; // before a `run`: the replay stays for it to move
    if (p === 'D' || p.startsWith('D;')) {
      this.done = true;
      return 'OK';
    }
    if (p === 'k') {
      this.done = true;
      return undefined;
    }
    return '';
  }

  /** Writes text to gdb's console (an `O` packet), while a monitor command runs. */
  console(text: string): void {
    this.conn.write('O' + Buffer.from(text).toString('hex'));
  }

  private liveTasks(): Task[] {
    return [...this.session.tasks.values()].filter((t) => t.state !== 'exiting' && t.tgid === this.tgid);
  }

  /** A task of the debugged process: its main thread while it lives. */
  private mainTask(): Task | undefined {
    return this.session.tasks.get(this.tgid) ?? this.liveTasks()[0];
  }

  private taskOf(id: string): Task | undefined {
    const m = /^(?:p(-?[0-9a-f]+)\.)?(-?[0-9a-f]+)$/.exec(id);
    if (!m) return undefined;
    const tid = parseInt(m[2]!, 16);
    if (tid <= 0) return this.selected ?? this.liveTasks()[0]; // 0: any, -1: all
    const task = this.session.tasks.get(tid);
    return task?.tgid === this.tgid ? task : undefined;
  }

  private select(id: string): string {
    const task = this.taskOf(id);
    if (!task) return 'E01';
    this.selected = task;
    return 'OK';
  }

  private withTask(fn: (t: Task) => string): string {
    const t = this.selected;
    if (!t || t.state === 'exiting' || !this.session.tasks.has(t.rec)) return 'E01';
    return fn(t);
  }

  /** P: a replay's registers cannot change; gdb writing a value they have (its `run` writes
   * the pc) is fine, and orig_rax is the kernel's, which replay keeps itself. */
  private writeRegister(args: string): string {
    const [n, value] = args.split('=');
    const r = Number(hexArg(n));
    if (this.regs.registers[r]?.name === 'orig_rax') return 'OK';
    return this.withTask((t) => (this.regs.one(t, t.getXstate(XSAVE_MAX), r)?.toString('hex') === value?.toLowerCase() ? 'OK' : 'E01'));
  }

  private readMemory(args: string): string {
    const [a, l] = args.split(',');
    const addr = hexArg(a);
    const len = Math.min(Number(hexArg(l)), PACKET_SIZE / 2);
    return this.withTask((t) => {
      const bytes = t.readMemPartial(addr, len);
      return bytes.length === 0 && len > 0 ? 'E14' : t.as.asProgramHas(addr, bytes).toString('hex');
    });
  }

  /** Z0/z0: an int3 in the program's code (elsewhere it would change data the replay needs). */
  private breakpoint(insert: boolean, args: string): string {
    const addr = hexArg(args.split(',')[0]);
    return this.withTask((t) => {
      if (insert && (!t.as.at(addr)?.prot.includes('x') || this.tsrrCode(t, addr))) return 'E01';
      try {
        if (insert) t.as.addBreakpoint(t, addr);
        else t.as.removeBreakpoint(t, addr);
      } catch (e) {
        if (!isTsrrError(e) || e.code !== 'TRACEE_FAILED') throw e;
        return 'E01'; // memory the kernel does not let tsrr write
      }
      if (insert) this.breakpoints.add(addr);
      else this.breakpoints.delete(addr);
      return 'OK';
    });
  }

  /** Whether `addr` is the syscall instruction tsrr runs its own calls at. */
  private tsrrCode(t: Task, addr: bigint): boolean {
    return t.as.syscallInsn !== 0n && addr >= t.as.syscallInsn && addr < t.as.syscallInsn + 2n;
  }

  /** Z1 (hardware breakpoints) and Z2/Z3/Z4 (write, read, access watchpoints): a watched range
   * goes into aligned pieces of up to 8 bytes; each piece or breakpoint takes a debug register
   * in every task of the process. One the kernel refuses (an address outside user space) is
   * an error reply, and the debug registers stay as they were. */
  private watchpoint(insert: boolean, access: Watchpoint['access'], args: string): string {
    const [a, l] = args.split(',');
    const addr = hexArg(a);
    const len = Number(hexArg(l));
    // Without working debug registers, replay sees writes (bytes that change) but not reads.
    if (len > 64 || addr + BigInt(len) > 1n << 64n || ((access === 'read' || access === 'access') && !hardwareWatchpoints())) return 'E01';
    const pieces = access === 'execute' ? [{ addr, len: 1 as const, access }] : alignedPieces(addr, len).map((p) => ({ ...p, access }));
    return this.withTask((t) => {
      const list = t.as.watchpoints;
      const before = [...list];
      if (insert) {
        if (pieces.length === 0 || list.length + pieces.length > WATCHPOINT_SLOTS || (access === 'execute' && this.tsrrCode(t, addr))) return 'E01';
        list.push(...pieces);
      } else {
        for (const p of pieces) {
          const i = list.findIndex((w) => w.addr === p.addr && w.len === p.len && w.access === p.access);
          if (i >= 0) list.splice(i, 1);
        }
      }
      const tasks = this.liveTasks().filter((other) => other.as === t.as);
      try {
        for (const other of tasks) other.programWatchpoints();
      } catch (e) {
        if (!isTsrrError(e) || e.code !== 'TRACEE_FAILED') throw e;
        list.splice(0, list.length, ...before);
        for (const other of tasks) other.programWatchpoints();
        return 'E01';
      }
      this.watchpoints = [...list];
      return 'OK';
    });
  }

  /** vCont actions (`s:TID`, `c`, ...): steps the thread an `s` names (the selected one if it
   * names none) while the others go on; `c` alone continues. Signals gdb passes are the
   * recorded ones, which replay delivers by itself. */
  private resume(actions: string[]): string {
    // At the end the replay stays (the end of another process's task, below, it goes on from).
    if (this.last && (isEnd(this.last) || this.last.kind === 'end')) return this.stopReply(this.last);
    // The signal the last process dies of: its end is there.
    if (this.last?.kind === 'signal' && this.last.frame === this.endFrame) return this.stopReply((this.last = { ...this.last, kind: 'end' }));
    // gdb's `run` continues the program it started: the replay stays where `run` put it.
    if (this.justRun) {
      this.justRun = false;
      return `T00thread:${threadId(this.selected!)};`;
    }
    let step: Task | undefined;
    for (const a of actions) {
      if (a[0] !== 's' && a[0] !== 'S') continue;
      const colon = a.indexOf(':');
      step = colon < 0 ? this.selected : this.taskOf(a.slice(colon + 1));
      if (!step) return 'E01';
      break;
    }
    const before = this.position;
    this.session.echo = true;
    const how = { step, interrupted: () => this.conn.interrupted() };
    let stop = this.proceed(how, before && this.session.tasks.get(before.rec));
    while ('task' in stop && stop.task.tgid !== this.tgid) stop = this.session.debugContinue(how);
    // A step of the task that stopped last takes its walk from the last event one step on.
    const stepped = (stop.kind === 'step' || stop.kind === 'watchpoint') && stop.task === step;
    const walk = stepped && before?.walk && before.rec === step?.rec ? { from: before.walk.from, steps: before.walk.steps + 1 } : undefined;
    return this.stopped(stop, walk);
  }

  private stopped(stop: ReplayStop, walk?: Position['walk']): string {
    this.last = stop;
    if ('task' in stop) {
      this.selected = stop.task;
      this.position = { frame: this.session.frame, rec: stop.task.rec, regs: Buffer.from(stop.task.getRegs().buf), walk };
    }
    return this.stopReply(stop);
  }

  /** Where the replay is now, right after its last event (at the start or after -g). */
  private atEventPosition(): Position | undefined {
    const t = this.selected;
    if (!t || !this.session.tasks.has(t.rec)) return undefined;
    const frame = this.session.frame;
    return { frame, rec: t.rec, regs: Buffer.from(t.getRegs().buf), walk: { from: frame, steps: 0 } };
  }

  /** Takes automatic checkpoints as `session` replays, at events some time apart. */
  private instrument(session: ReplaySession): void {
    session.debugEnd = this.endFrame;
    session.hooks.eventReplayed.tap(NAME, (e, task) => {
      if (!e.canCheckpointAt() || performance.now() - this.lastSaved < AUTO_INTERVAL_MS || this.timeline.hasEvent(e.frame)) return;
      this.save({ frame: e.frame, rec: task.rec, regs: NO_REGS, walk: { from: e.frame, steps: 0 } }, false);
    });
  }

  /** Keeps the replay's state as a checkpoint at `place`, or says why it cannot. */
  save(place: Position, user: boolean): Checkpoint | string {
    this.lastSaved = performance.now();
    let saved: SavedState | string | undefined;
    try {
      saved = this.hooks.saveState.call(this.session, !atEvent(place));
    } catch (e) {
      if (!isTsrrError(e) || e.code === 'INTERRUPTED') throw e;
      return e.message; // the replay goes on without it
    }
    if (saved === undefined) return 'no plugin saves replay states (pcp, a default plugin, is turned off)';
    if (typeof saved === 'string') return saved;
    return this.timeline.add(place, saved, user);
  }

  /** Adds a saved state from after event `frame` (right after it, or part way to the next)
   * as a checkpoint; a user one is numbered for gdb. */
  addCheckpoint(saved: SavedState, frame: number, how: { user: boolean; partWay: boolean }): Checkpoint {
    return this.timeline.add({ frame, rec: 0, regs: NO_REGS, walk: how.partWay ? undefined : { from: frame, steps: 0 } }, saved, how.user);
  }

  /** A new replay from `cp` (or the start), with gdb's watchpoints in its first process and,
   * if asked for, its breakpoints (and `extra`); the old one is ended. */
  private restoreTo(cp: Checkpoint | undefined, withBreakpoints: boolean, extra?: bigint): void {
    this.session.killAll();
    const session = this.fresh();
    if (cp) session.hooks.beforeLaunch.tap({ name: NAME, stage: -100 }, () => cp.saved.restore(session));
    session.echo = false;
    this.session = session;
    this.instrument(session);
    session.start();
    const mine = session.tasks.get(cp?.place.rec ?? -1);
    this.selected = mine?.tgid === this.tgid ? mine : this.mainTask();
    const first = this.mainTask()!;
    this.pending.clear();
    // Breakpoints in libraries not mapped yet go in after the syscalls that map them.
    session.hooks.afterSyscall.tap(NAME, (task) => this.pending.size > 0 && task.as === first.as && this.placePending(task));
    if (withBreakpoints) this.armBreakpoints();
    if (extra !== undefined) this.pending.add(extra);
    this.placePending(first);
    // Hardware breakpoints are breakpoints: not there while walking by single steps.
    first.as.watchpoints.push(...this.watchpoints.filter((w) => withBreakpoints || w.access !== 'execute'));
    for (const t of session.tasks.values()) if (t.as === first.as) t.programWatchpoints();
  }

  /** Puts gdb's breakpoints into the first process of a replay made to go back. */
  private armBreakpoints(): void {
    for (const addr of this.breakpoints) this.pending.add(addr);
    this.placePending(this.mainTask()!);
  }

  private placePending(task: Task): void {
    for (const addr of this.pending) {
      if (!task.as.at(addr)) continue;
      task.as.addBreakpoint(task, addr);
      this.pending.delete(addr);
    }
  }

  private at(stop: ReplayStop, p: Position): boolean {
    return 'task' in stop && this.session.frame === p.frame && stop.task.rec === p.rec && samePlace(stop.task.getRegs().buf, p.regs);
  }

  /** bc: back to the latest breakpoint hit or watchpoint trigger before here. Each stretch
   * between checkpoints (the latest first) is replayed with a breakpoint here too, listing
   * its stops; the stretch that has one is replayed again to the last. */
  private reverseContinue(): string {
    const here = this.position ?? this.atEventPosition();
    if (!here) return 'E01';
    const rip = new Registers(Buffer.from(here.regs)).rip;
    const hardware = this.watchpoints.some((w) => w.access === 'execute' && w.addr === rip);
    const extra = atEvent(here) || hardware || this.breakpoints.has(rip) ? undefined : rip;
    let end = here;
    for (const start of [...this.timeline.eventsBefore(here), undefined]) {
      const until = atEvent(end) ? end.frame : end.frame + 1;
      this.restoreTo(start, true, extra);
      const latest = this.lastStopBefore(end, until);
      if (latest >= 0) {
        this.restoreTo(start, true, extra);
        let stop: ReplayStop | undefined;
        for (let i = 0; i <= latest; i++) stop = this.onward(stop, until);
        if (extra !== undefined) this.selected!.as.removeBreakpoint(this.selected!, extra);
        if (stop!.kind !== 'watchpoint' || stop!.watchpoint.access === 'execute') return this.stopped(stop!);
        // Going back, a watchpoint stops before the instruction that wrote, as gdb expects.
        this.stopped(stop!);
        const back = this.stepBack(this.position!);
        if (!back) return this.beginning();
        return this.stopped({ ...stop!, frame: back.stop.frame, task: back.stop.task }, back.walk);
      }
      if (!start) break;
      end = start.place;
    }
    return this.beginning();
  }

  /** Replays on from the start of a stretch to `end` (stopping at `until` at the latest):
   * the index of the last breakpoint hit or watchpoint trigger on the way, -1 if none. */
  private lastStopBefore(end: Position, until: number): number {
    let latest = -1;
    let s: ReplayStop | undefined;
    for (let i = 0; ; i++) {
      if (atEvent(end) && this.session.frame >= end.frame) return latest;
      s = this.onward(s, until);
      // A watchpoint stop where the replay is was the write of the instruction just before:
      // going back undoes that one first.
      if (atEvent(end) ? s.kind === 'reached' : this.at(s, end)) return s.kind === 'watchpoint' && s.watchpoint.access !== 'execute' ? i : latest;
      if (!('task' in s)) throw new TsrrError('INTERNAL', `going back from event ${end.frame}: a replay did not get there again (${s.kind} at event ${s.frame})`);
      if (s.kind === 'watchpoint' || (s.kind === 'breakpoint' && this.breakpoints.has(s.task.getRegs().rip))) latest = i;
    }
  }

  /** Lets a replay made to go back run on from `prev`, as gdb's resume does from there. */
  private onward(prev: ReplayStop | undefined, until: number): ReplayStop {
    this.checkStop();
    return this.proceed({ until }, prev && 'task' in prev ? prev.task : undefined);
  }

  /** Lets the replay go on as `how` says. The task gdb saw stop (`standing`) and the one to
   * step, if at a breakpoint, first run the instruction there: gdb took their stop there for
   * the breakpoint's, and the int3 is not the program's. */
  private proceed(how: DebugResume, standing: Task | undefined): ReplayStop {
    for (const t of new Set([standing, how.step])) {
      if (!t || !this.atBreakpoint(t)) continue;
      const s = this.stepOver(t, how);
      if (t === how.step || s.kind !== 'step' || s.task !== t) return s;
    }
    return this.session.debugContinue(how);
  }

  /** Whether live task `t` stands at a breakpoint, software or hardware. */
  private atBreakpoint(t: Task): boolean {
    if (this.session.tasks.get(t.rec) !== t || t.state === 'exiting') return false;
    const pc = t.getRegs().rip;
    return t.as.breakpoints.has(pc) || t.as.watchpoints.some((w) => w.access === 'execute' && w.addr === pc);
  }

  /** One step of `t` with the int3 at its pc out, and the resume flag set, which lets a
   * hardware breakpoint there pass; the int3 goes back while the process lives. */
  private stepOver(t: Task, how: DebugResume): ReplayStop {
    const as = t.as;
    const r = t.getRegs();
    const pc = r.rip;
    const soft = as.breakpoints.has(pc);
    if (soft) as.removeBreakpoint(t, pc);
    r.buf.writeUInt32LE(r.buf.readUInt32LE(EFLAGS) | RF, EFLAGS);
    t.setRegs();
    const stop = this.session.debugContinue({ ...how, step: t });
    const host = soft ? [...this.session.tasks.values()].find((o) => o.as === as && o.state !== 'exiting') : undefined;
    if (host) as.addBreakpoint(host, pc);
    return stop;
  }

  /** Going back can take long: a request to stop tsrr (SIGTERM) ends it. */
  private checkStop(): void {
    if (this.session.opts.interrupted()) throw new TsrrError('INTERRUPTED', `going back interrupted at event ${this.session.frame}`);
  }

  /** bs: back one instruction of the task that stopped. */
  private reverseStep(): string {
    const here = this.position ?? this.atEventPosition();
    if (!here) return 'E01';
    const back = this.stepBack(here);
    if (!back) return this.beginning();
    this.armBreakpoints();
    return this.stopped(back.stop, back.walk);
  }

  /** Puts the replay one step of `p`'s task before `p`, found as the number of single steps
   * from an event before it; undefined if `p` is the first place of the task replay knows. */
  private stepBack(p: Position): { stop: ReplayStop & { task: Task }; walk: NonNullable<Position['walk']> } | undefined {
    for (let from = p.walk?.from ?? p.frame; from >= 1; from--) {
      const steps = p.walk?.from === from ? p.walk.steps : this.countSteps(p, from);
      if (steps === undefined) return undefined;
      if (steps === 0) continue; // p is where event `from` left the task: look earlier
      const walk = { from, steps: steps - 1 };
      const stop = this.goTo(p.rec, walk);
      return stop && { stop, walk };
    }
    return undefined;
  }

  /** Single steps of `p`'s task from right after event `from` to `p`; undefined if they do
   * not get there. */
  private countSteps(p: Position, from: number): number | undefined {
    const task = this.goTo(p.rec, { from, steps: 0 })?.task;
    if (!task) return undefined;
    if (this.session.frame === p.frame && samePlace(task.getRegs().buf, p.regs)) return 0;
    for (let n = 1; n <= MAX_STEPS; n++) {
      this.checkStop();
      const s = this.session.debugContinue({ step: task });
      if (this.at(s, p)) return n;
      if (!('task' in s) || this.session.frame > p.frame) return undefined;
    }
    return undefined;
  }

  /** Replays (without breakpoints) to `walk`: `steps` single steps of task `rec` from right
   * after event `from`, starting from the latest checkpoint before it and keeping new ones
   * on the way, at 16, 32, 64, ... steps before the end, for the next steps back. Returns the
   * stop there; undefined if the task does not exist then. */
  private goTo(rec: number, walk: NonNullable<Position['walk']>): (ReplayStop & { task: Task }) | undefined {
    const target: Position = { frame: walk.from, rec, regs: NO_REGS, walk };
    const cp = this.timeline.latest(target, false);
    this.restoreTo(cp, false);
    const w = cp?.place.walk;
    let done = w && w.from === walk.from && (w.steps === 0 || cp!.place.rec === rec) ? w.steps : 0;
    // A stop at event `from` (a recorded signal's) is right after it too.
    const at = this.replayTo(walk.from);
    if (at.kind !== 'reached' && !('task' in at)) return undefined;
    const task = this.session.tasks.get(rec);
    if (!task || this.session.frame !== walk.from && done === 0) return undefined;
    let stop: ReplayStop & { task: Task } = { kind: 'step', frame: this.session.frame, task };
    for (; done < walk.steps; done++) {
      const left = walk.steps - done;
      if (left >= STEP_CHECKPOINT_MIN && (left & (left - 1)) === 0) {
        this.save({ frame: this.session.frame, rec, regs: Buffer.from(task.getRegs().buf), walk: { from: walk.from, steps: done } }, false);
      }
      this.checkStop();
      const s = this.session.debugContinue({ step: task });
      if (!('task' in s)) return undefined;
      stop = s;
    }
    return stop;
  }

  /** vRun (gdb's `run ARG`): to checkpoint N for `cN`, right after event N for `fN`, else
   * back to where the replay started; a problem is told on stderr and the replay stays. */
  private run(args: string[]): string {
    const arg = args[0] ? Buffer.from(args[0], 'hex').toString('latin1') : '';
    const m = /^([cf])(\d+)$/.exec(arg);
    const problem = m?.[1] === 'c' ? this.restart(Number(m[2])) : this.seekFrame(m ? Number(m[2]) : this.startFrame);
    if (problem) writeAll(2, problem);
    this.justRun = this.last === undefined;
    return this.stopReply(this.last);
  }

  /** `checkpoint`: a numbered checkpoint where the replay is. */
  checkpoint(): string {
    const here = this.position ?? this.atEventPosition();
    if (!here || (this.last && isEnd(this.last))) return 'The program is not being run.\n';
    if (this.last?.kind === 'end') return 'tsrr: cannot checkpoint at the end of the replay; go back first\n';
    const cp = this.save(here, true);
    if (typeof cp === 'string') return `tsrr: cannot checkpoint here: ${cp}\n`;
    return `Checkpoint ${cp.id} at event ${here.frame}.\n`;
  }

  /** `restart N`: back (or on) to checkpoint N. */
  restart(id: number): string {
    const cp = this.timeline.byId(id);
    if (!cp) return `tsrr: no checkpoint ${id} (info checkpoints lists them)\n`;
    this.restoreTo(cp, true);
    this.last = undefined;
    const t = this.selected!;
    // A checkpoint from disk knows its event only.
    this.position = cp.place.regs.length > 0 ? cp.place : { ...cp.place, frame: this.session.frame, rec: t.rec, regs: Buffer.from(t.getRegs().buf) };
    return '';
  }

  /** `seek-frame N`: to the state right after event N. */
  seekFrame(frame: number): string {
    const count = this.session.trace.frameCount;
    if (!Number.isInteger(frame) || frame < 1 || frame > count) return `tsrr: seek-frame takes an event from 1 to ${count}\n`;
    this.restoreTo(this.timeline.latest({ frame, rec: 0, regs: NO_REGS, walk: { from: frame, steps: 0 } }, false), false);
    const stop = this.replayTo(frame);
    if (stop.kind !== 'reached') {
      this.last = stop;
      return `tsrr: the replay ended at event ${stop.frame}, before event ${frame}\n`;
    }
    this.armBreakpoints();
    if (!this.selected || !this.session.tasks.has(this.selected.rec)) this.selected = this.mainTask();
    this.last = undefined;
    this.position = this.atEventPosition();
    return '';
  }

  /** `info checkpoints` */
  describeCheckpoints(): string {
    const rows = this.timeline.numbered().map((cp) => {
      const p = cp.place;
      const where = atEvent(p) ? 'right after it' : p.regs.length === 0 ? 'part way to the next' : `thread ${hex(p.rec)}, pc 0x${hex(new Registers(Buffer.from(p.regs)).rip)}`;
      return `${cp.id}\tevent ${p.frame}\t${where}\n`;
    });
    return rows.length === 0 ? 'No checkpoints.\n' : rows.join('');
  }

  /** `delete checkpoint N` */
  deleteCheckpoint(id: number): string {
    const cp = this.timeline.byId(id);
    if (!cp) return `tsrr: no checkpoint ${id}\n`;
    this.timeline.remove(cp);
    return '';
  }

  /** Replays on to right after event `frame`, through watchpoint and signal stops. */
  private replayTo(frame: number): ReplayStop {
    let stop: ReplayStop = { kind: 'reached', frame: this.session.frame };
    while (this.session.frame < frame && (stop = this.session.debugContinue({ until: frame })) && 'task' in stop);
    return stop;
  }

  /** Going back reached the start of the replay. */
  private beginning(): string {
    this.restoreTo(undefined, true);
    this.last = undefined;
    this.position = this.atEventPosition();
    return `T05thread:${threadId(this.selected!)};replaylog:begin;`;
  }

  private stopReply(stop: ReplayStop | undefined): string {
    if (!stop) return this.selected ? `T05thread:${threadId(this.selected)};` : 'W00';
    switch (stop.kind) {
      case 'exited': {
        const signal = stop.status & 0x7f;
        return signal ? `X${hex2(gdbSignal(signal))}` : `W${hex2((stop.status >> 8) & 0xff)}`;
      }
      case 'interrupted-recording':
        return `X${hex2(gdbSignal(9))}`;
      case 'reached':
        return this.selected ? `T05thread:${threadId(this.selected)};` : 'W00';
      case 'breakpoint':
        return `T05thread:${threadId(stop.task)};swbreak:;`;
      case 'step':
        return `T05thread:${threadId(stop.task)};`;
      case 'interrupt':
        return `T02thread:${threadId(stop.task)};`;
      case 'end':
        // rr's exit stop: gdb shows the program killed, stopped where it exits.
        return `T${hex2(gdbSignal(SIG.KILL))}thread:${threadId(stop.task)};`;
      case 'signal':
        return `T${hex2(gdbSignal(stop.signo))}thread:${threadId(stop.task)};`;
      case 'watchpoint': {
        const w = stop.watchpoint;
        if (w.access === 'execute') return `T05thread:${threadId(stop.task)};hwbreak:;`;
        return `T05thread:${threadId(stop.task)};${{ write: 'watch', read: 'rwatch', access: 'awatch' }[w.access]}:${hex(w.addr)};`;
      }
    }
  }

  /** qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH */
  private transfer(args: string): string {
    const m = /^([a-z-]+):read:([^:]*):([0-9a-f]+),([0-9a-f]+)$/.exec(args);
    if (!m) return '';
    const [, object, annex, off, len] = m;
    let data: Buffer;
    if (object === 'features' && annex === 'target.xml') data = Buffer.from(this.regs.targetXml);
    else if (object === 'exec-file' || object === 'auxv') {
      const task = annex ? this.session.tasks.get(parseInt(annex, 16)) : this.selected;
      if (!task) return 'E01';
      try {
        data = object === 'auxv' ? readFileSync(`/proc/${task.tid}/auxv`) : readlinkSync(`/proc/${task.tid}/exe`, { encoding: 'buffer' });
      } catch {
        return 'E01'; // the process is gone
      }
    } else return '';
    const start = parseInt(off!, 16);
    const part = data.subarray(start, start + Math.min(parseInt(len!, 16), PACKET_SIZE - 16));
    return (start + part.length >= data.length ? 'l' : 'm') + part.toString('latin1');
  }

  private monitor(command: string): string {
    const words = command.trim().split(/\s+/);
    const out = this.hooks.monitorCommand.call(words, this);
    if (out === undefined) return Buffer.from(`tsrr: unknown monitor command "${command.trim()}"\n`).toString('hex');
    return out === '' ? 'OK' : Buffer.from(out).toString('hex');
  }
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** A hex number in a packet; anything else makes the packet malformed (an E01 reply). */
function hexArg(s: string | undefined): bigint {
  if (!s || !/^[0-9a-fA-F]{1,16}$/.test(s)) throw new TsrrError('BAD_PACKET', `not a hex number: ${s}`);
  return BigInt('0x' + s);
}
const WATCH_KINDS: Watchpoint['access'][] = ['execute', 'write', 'read', 'access'];

/** [addr, addr+len) as naturally aligned pieces of 8, 4, 2 or 1 bytes. */
function alignedPieces(addr: bigint, len: number): { addr: bigint; len: 1 | 2 | 4 | 8 }[] {
  const out: { addr: bigint; len: 1 | 2 | 4 | 8 }[] = [];
  const end = addr + BigInt(len);
  while (addr < end) {
    const size = ([8, 4, 2, 1] as const).find((n) => addr % BigInt(n) === 0n && addr + BigInt(n) <= end)!;
    out.push({ addr, len: size });
    addr += BigInt(size);
  }
  return out;
}
const threadId = (t: Task) => `p${hex(t.tgid)}.${hex(t.rec)}`;
const isEnd = (s: ReplayStop) => s.kind === 'exited' || s.kind === 'interrupted-recording';
