// SPDX-License-Identifier: MIT
/**
 * A gdb remote-protocol server on a replay: gdb reads registers and memory of the replayed
 * tasks, sets breakpoints, and continues or steps, which replays the trace on until a
 * breakpoint, the end of a step, a recorded signal or the end. Threads are the recording's
 * tids (`pTGID.TID`). Memory and registers are read-only: the replay must stay the recording.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { Registers, TsrrError, WATCHPOINT_SLOTS, isTsrrError, type ReplaySession, type ReplayStop, type Task, type Watchpoint } from '../../core/index.js';
import { GdbConnection, INTERRUPT } from './GdbConnection.js';
import type { GdbHooks } from './hooks.js';
import { RegisterFile } from './registers.js';
import { gdbSignal } from './signals.js';

const XSAVE_MAX = 1 << 14;
const PACKET_SIZE = 0x4000;
const hex = (n: number | bigint) => n.toString(16);

/** A place in the replay, found again in a replay from the start: the frame, the task that
 * stopped, and its registers. */
interface Position {
  readonly frame: number;
  readonly rec: number;
  readonly regs: Buffer;
}

const EFLAGS = 144;
/** The trap and resume flags say how the task was last resumed, not where it is. */
const HOW_RESUMED = 0x100 | 0x10000;

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
  /** gdb's breakpoints, put into every replay made to go back. */
  private readonly breakpoints = new Set<bigint>();
  private done = false;

  constructor(
    public session: ReplaySession,
    private readonly conn: GdbConnection,
    private readonly hooks: GdbHooks,
    /** A replay started from the beginning again, for going backwards. */
    private readonly fresh: () => ReplaySession,
  ) {
    const first = [...session.tasks.values()][0];
    this.selected = first;
    this.regs = new RegisterFile(first !== undefined && first.getXstate(XSAVE_MAX).length > 576 + 256);
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
    if (p.startsWith('qSupported')) return `PacketSize=${hex(PACKET_SIZE)};QStartNoAckMode+;multiprocess+;swbreak+;vContSupported+;qXfer:features:read+;qXfer:exec-file:read+;qXfer:auxv:read+;ReverseStep+;ReverseContinue+`;
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
    if (p[0] === 'G' || p[0] === 'P' || p[0] === 'M' || p[0] === 'X') return 'E01'; // a replay cannot change
    if (p.startsWith('Z0,') || p.startsWith('z0,')) return this.breakpoint(p[0] === 'Z', p.slice(3));
    if (/^[Zz][234],/.test(p)) return this.watchpoint(p[0] === 'Z', WATCH_KINDS[Number(p[1]) - 2]!, p.slice(3));
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    if (p.startsWith('vCont;')) return this.resume(p.slice(6).split(';'));
    if (p[0] === 'c' || p[0] === 'C') return this.resume(['c']);
    if (p[0] === 's' || p[0] === 'S') return this.resume(['s']);
    if (p === 'bc') return this.reverseContinue();
    if (p === 'bs') return this.reverseStep();
    if (p.startsWith('qXfer:')) return this.transfer(p.slice(6));
    if (p.startsWith('qRcmd,')) return this.monitor(Buffer.from(p.slice(6), 'hex').toString());
    if (p === 'D' || p.startsWith('D;') || p.startsWith('vKill')) {
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
    return [...this.session.tasks.values()].filter((t) => t.state !== 'exiting');
  }

  private taskOf(id: string): Task | undefined {
    const m = /^(?:p(-?[0-9a-f]+)\.)?(-?[0-9a-f]+)$/.exec(id);
    if (!m) return undefined;
    const tid = parseInt(m[2]!, 16);
    if (tid <= 0) return this.selected ?? this.liveTasks()[0]; // 0: any, -1: all
    return this.session.tasks.get(tid);
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

  private readMemory(args: string): string {
    const [a, l] = args.split(',');
    const addr = hexArg(a);
    const len = Math.min(Number(hexArg(l)), PACKET_SIZE / 2);
    return this.withTask((t) => {
      const bytes = t.readMemPartial(addr, len);
      return bytes.length === 0 && len > 0 ? 'E14' : t.as.withoutBreakpoints(addr, bytes).toString('hex');
    });
  }

  private breakpoint(insert: boolean, args: string): string {
    const addr = hexArg(args.split(',')[0]);
    return this.withTask((t) => {
      try {
        if (insert) t.as.addBreakpoint(t, addr);
        else t.as.removeBreakpoint(t, addr);
        if (insert) this.breakpoints.add(addr);
        else this.breakpoints.delete(addr);
        return 'OK';
      } catch {
        return 'E01';
      }
    });
  }

  /** Z2/Z3/Z4 (write, read, access watchpoints): the range goes into aligned pieces of up to
   * 8 bytes, one debug register each, programmed into every task of the process. */
  private watchpoint(insert: boolean, access: Watchpoint['access'], args: string): string {
    const [a, l] = args.split(',');
    const len = Number(hexArg(l));
    if (len > 64) return 'E01';
    const pieces = alignedPieces(hexArg(a), len).map((p) => ({ ...p, access }));
    return this.withTask((t) => {
      const list = t.as.watchpoints;
      if (insert) {
        if (pieces.length === 0 || list.length + pieces.length > WATCHPOINT_SLOTS) return 'E01';
        list.push(...pieces);
      } else {
        for (const p of pieces) {
          const i = list.findIndex((w) => w.addr === p.addr && w.len === p.len && w.access === p.access);
          if (i >= 0) list.splice(i, 1);
        }
      }
      for (const other of this.liveTasks()) if (other.as === t.as) other.programWatchpoints();
      return 'OK';
    });
  }

  /** vCont actions (`s:TID`, `c`, ...): steps the thread an `s` names (the selected one if it
   * names none) while the others go on; `c` alone continues. Signals gdb passes are the
   * recorded ones, which replay delivers by itself. */
  private resume(actions: string[]): string {
    if (this.last && isEnd(this.last)) return this.stopReply(this.last);
    let step: Task | undefined;
    for (const a of actions) {
      if (a[0] !== 's' && a[0] !== 'S') continue;
      const colon = a.indexOf(':');
      step = colon < 0 ? this.selected : this.taskOf(a.slice(colon + 1));
      break;
    }
    return this.stopped(this.session.debugContinue({ step, interrupted: () => this.conn.interrupted() }));
  }

  private stopped(stop: ReplayStop): string {
    this.last = stop;
    if ('task' in stop) {
      this.selected = stop.task;
      this.position = { frame: stop.frame, rec: stop.task.rec, regs: Buffer.from(stop.task.getRegs().buf) };
    }
    return this.stopReply(stop);
  }

  /** A replay from the start, its first process with gdb's breakpoints (and `extra`) if asked
   * for, and its tasks' watchpoints: the same set the first replay had. */
  private restart(withBreakpoints: boolean, extra?: bigint): void {
    const watchpoints = this.selected?.as.watchpoints ?? [];
    this.session.killAll();
    this.session = this.fresh();
    const first = [...this.session.tasks.values()][0]!;
    this.selected = first;
    // Breakpoints in libraries not mapped yet go in after the syscalls that map them.
    const pending = new Set(withBreakpoints ? this.breakpoints : []);
    if (extra !== undefined) pending.add(extra);
    const place = (task: Task) => {
      for (const addr of pending) {
        if (!task.as.at(addr)) continue;
        task.as.addBreakpoint(task, addr);
        pending.delete(addr);
      }
    };
    place(first);
    this.session.hooks.afterSyscall.tap('gdbserver', (task) => pending.size > 0 && task.as === first.as && place(task));
    first.as.watchpoints.push(...watchpoints);
    if (watchpoints.length > 0) first.programWatchpoints();
  }

  private at(stop: ReplayStop, p: Position): boolean {
    return 'task' in stop && stop.frame === p.frame && stop.task.rec === p.rec && samePlace(stop.task.getRegs().buf, p.regs);
  }

  /** bc: back to the latest breakpoint hit or watchpoint trigger before here, found by
   * replaying from the start with a breakpoint here too, then replaying to it. */
  private reverseContinue(): string {
    const here = this.position;
    if (!here) return 'E01';
    const rip = new Registers(Buffer.from(here.regs)).rip;
    const extra = this.breakpoints.has(rip) ? undefined : rip;
    this.restart(true, extra);
    let latest = -1;
    let s: ReplayStop | undefined;
    for (let i = 0; ; i++) {
      s = this.onward(s);
      if (this.at(s, here)) break;
      if (!('task' in s)) throw new TsrrError('INTERNAL', `going back from event ${here.frame}: a replay from the start did not get there`);
      if (s.kind === 'watchpoint' || (s.kind === 'breakpoint' && this.breakpoints.has(s.task.getRegs().rip))) latest = i;
    }
    this.restart(true, extra);
    if (latest < 0) return this.beginning(extra);
    let stop: ReplayStop | undefined;
    for (let i = 0; i <= latest; i++) stop = this.onward(stop);
    if (extra !== undefined) this.selected!.as.removeBreakpoint(this.selected!, extra);
    return this.stopped(stop!);
  }

  /** Lets a replay made to go back run on from `prev`, first stepping over the breakpoint it
   * stands on, as gdb does. */
  private onward(prev: ReplayStop | undefined): ReplayStop {
    if (prev?.kind === 'breakpoint') {
      const t = prev.task;
      const rip = t.getRegs().rip;
      t.as.removeBreakpoint(t, rip);
      const s = this.session.debugContinue({ step: t });
      t.as.addBreakpoint(t, rip);
      if (s.kind !== 'step' || s.task !== t) return s;
    }
    return this.session.debugContinue({});
  }

  /** bs: back one instruction of the stopped task: from the event before here, the task is
   * single-stepped to here, counting; a replay from the start then takes one step fewer. */
  private reverseStep(): string {
    const here = this.position;
    if (!here) return 'E01';
    for (let from = here.frame; from >= 1; from--) {
      const steps = this.stepsTo(here, from);
      if (steps === undefined) break;
      if (steps === 0) continue; // here is where event `from` left the task: look earlier
      this.restart(false);
      let stop = this.session.debugContinue({ until: from });
      for (let i = 0; i < steps - 1; i++) stop = this.session.debugContinue({ step: this.session.tasks.get(here.rec) });
      // With no step taken, the stop is `until`'s: report it as the task's step.
      if (!('task' in stop)) stop = { kind: 'step', frame: this.session.frame, task: this.session.tasks.get(here.rec)! };
      for (const addr of this.breakpoints) this.selected!.as.addBreakpoint(this.selected!, addr);
      return this.stopped(stop);
    }
    this.restart(true);
    return this.beginning();
  }

  /** Single steps of task `p.rec` from event `from` to `p`, in a replay from the start;
   * undefined if the task does not get there. */
  private stepsTo(p: Position, from: number): number | undefined {
    this.restart(false);
    const reached = this.session.debugContinue({ until: from });
    const task = this.session.tasks.get(p.rec);
    if (reached.kind !== 'reached' || !task) return undefined;
    if (this.session.frame === p.frame && samePlace(task.getRegs().buf, p.regs)) return 0;
    for (let n = 1; n <= MAX_STEPS; n++) {
      const s = this.session.debugContinue({ step: task });
      if (this.at(s, p)) return n;
      if (!('task' in s) || this.session.frame > p.frame) return undefined;
    }
    return undefined;
  }

  /** Going back reached the start of the replay. */
  private beginning(extra?: bigint): string {
    const first = this.selected!;
    if (extra !== undefined) first.as.removeBreakpoint(first, extra);
    this.last = undefined;
    this.position = { frame: this.session.frame, rec: first.rec, regs: Buffer.from(first.getRegs().buf) };
    return `T05thread:${threadId(first)};replaylog:begin;`;
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
      case 'signal':
        return `T${hex2(gdbSignal(stop.signo))}thread:${threadId(stop.task)};`;
      case 'watchpoint': {
        const name = { write: 'watch', read: 'rwatch', access: 'awatch' }[stop.watchpoint.access];
        return `T05thread:${threadId(stop.task)};${name}:${hex(stop.watchpoint.addr)};`;
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
      data = object === 'auxv' ? readFileSync(`/proc/${task.tid}/auxv`) : Buffer.from(readlinkSync(`/proc/${task.tid}/exe`));
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
const WATCH_KINDS: Watchpoint['access'][] = ['write', 'read', 'access'];

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
