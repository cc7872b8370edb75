// SPDX-License-Identifier: MIT
/**
 * A Task is a Linux task under ptrace, the unit of scheduling: threads and processes look the
 * same here. It owns the register cache and gives access to the tracee's memory, and it can
 * make the tracee run a syscall of tsrr's choosing ("remote syscall"). All of it must run on
 * the thread that attached the tracee.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { PTRACE, SIG, decodeStatus, type WaitStatus, WAIT, NT_X86_XSTATE } from '../native/ptrace.js';
import { ptrace, ptraceRegset, ptraceWithBuffer, readProcessMemory, strerror, tkill, waitpid } from '../native/libc.js';
import { Registers } from '../native/regs.js';
import { decodeBytes } from '../native/byteString.js';
import type { AddressSpace, Watchpoint } from './AddressSpace.js';
import type { FdTable } from './FdTable.js';
import { TsrrError } from '../native/TsrrError.js';
import { SignalHandlers } from './SignalHandlers.js';
import { isSynchronous } from './signals.js';

/** Where a task is, for the scheduler: stopped by tsrr and runnable ('stopped'), running user
 * code ('user'), inside a syscall that has not returned ('kernel'), stopped by a stop signal
 * until a SIGCONT or SIGKILL ('group-stop'), stopped for a tracer of the program's own until
 * it lets it go ('traced', core/PtraceEmulator.ts), or on its way out. */
export type TaskState = 'stopped' | 'user' | 'kernel' | 'group-stop' | 'traced' | 'exiting';

/** offsetof(struct user, u_debugreg): DR0-DR7 for PTRACE_PEEKUSER/POKEUSER. */
const DEBUG_REGS = 848;

export class Task {
  /** Registers as last read or written; valid while the task is stopped. */
  readonly regs = new Registers();
  /** Whether the task is between a syscall-entry stop and its exit stop. */
  inSyscall = false;
  /** Whether the task is stopped at a PTRACE_SYSEMU syscall entry (whose call is skipped). */
  atSysemuEntry = false;
  state: TaskState = 'stopped';
  /** The signal to deliver when the task is next resumed. */
  deliver = 0;
  /** The signals it blocks and its process's actions, as tsrr follows them
   * (core/signalState.ts). */
  blocked = 0n;
  sighand = new SignalHandlers();
  /** Replay: its robust futex list's head, as it last set it (core/robustFutexes.ts). */
  robustList = 0n;
  /** Whether `regs` holds the registers of the current stop. */
  regsValid = false;
  private memFd = -1;

  constructor(
    /** The kernel's id of this task. */
    public tid: number,
    public as: AddressSpace,
    public fds: FdTable,
    /** Its id in the trace: the recording's tid (the same as `tid` while recording). */
    public rec: number = tid,
    /** The trace id of its process (thread group). */
    readonly tgid: number = rec,
  ) {}

  getRegs(): Registers {
    ptraceWithBuffer(PTRACE.GETREGS, this.tid, 0, this.regs.buf);
    this.regsValid = true;
    return this.regs;
  }

  setRegs(r: Registers = this.regs): void {
    if (r !== this.regs) r.buf.copy(this.regs.buf);
    ptraceWithBuffer(PTRACE.SETREGS, this.tid, 0, this.regs.buf);
    this.regsValid = true;
  }

  /** crc32 of the register file, for cheap divergence checks. */
  regsCrc(): number {
    return crc32(this.regs.buf);
  }

  /** The xsave area (x87, SSE, AVX, ... as the machine enables them). */
  getXstate(size: number): Buffer {
    const buf = Buffer.alloc(size);
    return buf.subarray(0, ptraceRegset(PTRACE.GETREGSET, this.tid, NT_X86_XSTATE, buf));
  }

  setXstate(xstate: Buffer): void {
    ptraceRegset(PTRACE.SETREGSET, this.tid, NT_X86_XSTATE, xstate);
  }

  /** PTRACE_GETEVENTMSG: the new task's tid at a fork event, the former tid at exec, a
   * seccomp filter's RET_DATA at a seccomp stop. */
  eventMessage(): number {
    const msg = Buffer.alloc(8);
    ptraceWithBuffer(PTRACE.GETEVENTMSG, this.tid, 0, msg);
    return Number(msg.readBigUInt64LE(0));
  }

  siginfo(): Buffer {
    const buf = Buffer.alloc(128);
    ptraceWithBuffer(PTRACE.GETSIGINFO, this.tid, 0, buf);
    return buf;
  }

  setSiginfo(info: Buffer): void {
    ptraceWithBuffer(PTRACE.SETSIGINFO, this.tid, 0, info);
  }

  resume(request: number = PTRACE.SYSCALL, signal = 0): void {
    this.regsValid = false;
    ptrace(request, this.tid, 0, signal);
  }

  /** Resumes with the pending signal, if any, delivered. */
  continue(request: number = PTRACE.SYSCALL): void {
    const signal = this.deliver;
    this.deliver = 0;
    if (signal !== 0) this.blocked |= this.sighand.delivered(signal);
    this.resume(request, signal);
  }

  wait(): WaitStatus {
    const [pid, status] = waitpid(this.tid, WAIT.WALL);
    if (pid < 0) throw new TsrrError('TRACEE_FAILED', `waitpid(${this.tid}) failed: ${strerror(-pid)}`, { tid: this.tid });
    return decodeStatus(status);
  }

  readMem(addr: bigint, len: number): Buffer {
    const buf = Buffer.alloc(len);
    if (len === 0) return buf;
    let n = readProcessMemory(this.tid, addr, buf, len);
    if (n !== len) n = this.readMemSlow(addr, buf); // crosses into unreadable pages: use /proc/PID/mem
    if (n !== len) {
      throw new TsrrError('TRACEE_FAILED', `cannot read ${len} bytes of task ${this.tid} at 0x${addr.toString(16)}`, { tid: this.tid });
    }
    return buf;
  }

  /** Reads what is readable at `addr`, stopping at the first unreadable byte. */
  readMemPartial(addr: bigint, len: number): Buffer {
    const buf = Buffer.alloc(len);
    const n = readProcessMemory(this.tid, addr, buf, len);
    return buf.subarray(0, n === len ? len : Math.max(0, this.readMemSlow(addr, buf)));
  }

  readU64(addr: bigint): bigint {
    return this.readMem(addr, 8).readBigUInt64LE(0);
  }

  readU32(addr: bigint): number {
    return this.readMem(addr, 4).readUInt32LE(0);
  }

  /** The NUL-terminated string at `addr` (at most `max` bytes): a name, as byteString.ts has them. */
  readCString(addr: bigint, max = 4096): string {
    const buf = this.readMemPartial(addr, max);
    const end = buf.indexOf(0);
    return decodeBytes(buf.subarray(0, end < 0 ? buf.length : end));
  }

  /** Writes through /proc/PID/mem, which also works on read-only pages. */
  writeMem(addr: bigint, data: Uint8Array): void {
    if (data.length === 0) return;
    const n = writeSync(this.mem(), data, 0, data.length, Number(addr));
    if (n !== data.length) {
      throw new TsrrError('TRACEE_FAILED', `cannot write ${data.length} bytes to task ${this.tid} at 0x${addr.toString(16)}`, { tid: this.tid });
    }
  }

  /** Makes the stopped task run syscall `nr` at the address space's syscall instruction and
   * returns its result; registers are restored afterwards. The task must be at a syscall-exit,
   * signal or event stop. */
  remoteSyscall(nr: number, ...args: (bigint | number)[]): bigint {
    if (this.atSysemuEntry) this.leaveSysemuEntry();
    const saved = this.getRegs().clone();
    const r = saved.clone();
    r.rip = this.as.syscallInsn;
    r.rax = BigInt(nr);
    r.origRax = -1n;
    args.forEach((a, i) => r.setArg(i, BigInt(a)));
    this.setRegs(r);
    // Signals that come meanwhile (a child's SIGCHLD) are sent again once the call is done.
    const signals: number[] = [];
    for (const phase of ['entry', 'exit']) {
      let st: WaitStatus;
      for (;;) {
        this.resume(PTRACE.SYSCALL);
        st = this.wait();
        if (st.kind === 'signal' && isSynchronous(st.signal, this.siginfo().readInt32LE(8))) {
          // The call cannot run there (no syscall instruction where the address space has it):
          // resumed, it would fault again forever.
          throw new TsrrError('TRACEE_FAILED', `remote syscall ${nr} in task ${this.tid}: signal ${st.signal} at 0x${this.getRegs().rip.toString(16)}`, { tid: this.tid });
        }
        if (st.kind === 'signal') signals.push(st.signal);
        else if (st.kind !== 'event') break; // events: a remote clone's PTRACE_EVENT_CLONE stop
      }
      if (st.kind !== 'syscall') {
        throw new TsrrError('TRACEE_FAILED', `remote syscall ${nr} in task ${this.tid}: expected its ${phase} stop, got ${JSON.stringify(st)}`, { tid: this.tid });
      }
    }
    const result = this.getRegs().result;
    this.setRegs(saved);
    for (const signo of signals) tkill(this.tid, signo);
    return result;
  }

  /** At the seccomp stop of a call through the vsyscall page, skipped (orig_rax -1): lets the
   * kernel return to the caller, stopping the task there (a breakpoint at the return address)
   * before the caller's next instruction. The kernel kills a task whose rip or syscall number
   * changed at that stop, so nothing else (a remote syscall, a checkpoint) may happen there. */
  returnFromVsyscall(): void {
    const ret = this.readU64(this.getRegs().rsp);
    const byte = this.readMem(ret, 1);
    const signals: number[] = [];
    this.writeMem(ret, Buffer.from([0xcc]));
    try {
      for (;;) {
        this.resume(PTRACE.CONT);
        const st = this.wait();
        if (st.kind === 'signal' && st.signal === SIG.TRAP && this.getRegs().rip === ret + 1n) break;
        if (st.kind !== 'signal') throw new TsrrError('TRACEE_FAILED', `task ${this.tid}: expected the return from a vsyscall, got ${JSON.stringify(st)}`, { tid: this.tid });
        signals.push(st.signal);
      }
    } finally {
      this.writeMem(ret, byte);
    }
    this.regs.rip = ret;
    this.setRegs();
    for (const signo of signals) tkill(this.tid, signo);
  }

  /** From a SYSEMU entry stop, PTRACE_SYSCALL stops again at the skipped call's exit before
   * any user code runs; from there a remote syscall behaves as from any exit stop. */
  leaveSysemuEntry(): void {
    const regs = this.getRegs().clone();
    this.resume(PTRACE.SYSCALL);
    const st = this.wait();
    if (st.kind !== 'syscall') {
      throw new TsrrError('TRACEE_FAILED', `task ${this.tid}: expected the exit of an emulated syscall, got ${JSON.stringify(st)}`, { tid: this.tid });
    }
    this.atSysemuEntry = false;
    this.setRegs(regs);
  }

  /** Runs `fn` with `bytes` placed on the stack below the red zone, then puts the old bytes back. */
  withScratch<T>(bytes: Buffer, fn: (addr: bigint) => T): T {
    const rsp = (this.regsValid ? this.regs : this.getRegs()).rsp;
    const addr = (rsp - 128n - BigInt(bytes.length)) & ~15n;
    const old = this.readMem(addr, bytes.length);
    this.writeMem(addr, bytes);
    try {
      return fn(addr);
    } finally {
      this.writeMem(addr, old);
    }
  }

  /** Whether a single step of the stopped task would run a `syscall` instruction (not a
   * signal handler's first one: a signal is to be delivered). */
  stepsIntoSyscall(): boolean {
    if (this.deliver) return false;
    const insn = this.readMemPartial((this.regsValid ? this.regs : this.getRegs()).rip, 2);
    return insn.length === 2 && insn[0] === 0x0f && insn[1] === 0x05;
  }

  /** Puts the address space's watchpoints into this task's debug registers. */
  programWatchpoints(): void {
    ptrace(PTRACE.POKEUSER, this.tid, DEBUG_REGS + 7 * 8, 0);
    let dr7 = 0n;
    this.as.watchpoints.forEach((w, i) => {
      ptrace(PTRACE.POKEUSER, this.tid, DEBUG_REGS + i * 8, w.addr);
      const rw = w.access === 'execute' ? 0n : w.access === 'write' ? 1n : 3n; // x86 cannot watch reads alone
      const len = w.access === 'execute' ? 0n : { 1: 0n, 2: 1n, 4: 3n, 8: 2n }[w.len];
      dr7 |= (1n << BigInt(2 * i)) | (rw << BigInt(16 + 4 * i)) | (len << BigInt(18 + 4 * i));
    });
    if (dr7 !== 0n) ptrace(PTRACE.POKEUSER, this.tid, DEBUG_REGS + 7 * 8, dr7);
  }

  /** The watchpoint whose access stopped the task (with a SIGTRAP), if one did; the debug
   * status is cleared for the next. */
  triggeredWatchpoint(): Watchpoint | undefined {
    const dr6 = ptrace(PTRACE.PEEKUSER, this.tid, DEBUG_REGS + 6 * 8);
    const slot = [0, 1, 2, 3].find((i) => (dr6 & (1 << i)) !== 0);
    if (slot === undefined) return undefined;
    ptrace(PTRACE.POKEUSER, this.tid, DEBUG_REGS + 6 * 8, 0);
    return this.as.watchpoints[slot];
  }

  /** Forgets the memory file: after exec it refers to the old address space. */
  execed(as: AddressSpace): void {
    this.as = as;
    this.sighand = this.sighand.execed();
    this.closeMem();
  }

  closeMem(): void {
    if (this.memFd >= 0) closeSync(this.memFd);
    this.memFd = -1;
  }

  private mem(): number {
    if (this.memFd < 0) this.memFd = openSync(`/proc/${this.tid}/mem`, 'r+');
    return this.memFd;
  }

  private readMemSlow(addr: bigint, buf: Buffer): number {
    let done = 0;
    while (done < buf.length) {
      try {
        const n = readSync(this.mem(), buf, done, Math.min(4096 - Number((addr + BigInt(done)) % 4096n), buf.length - done), Number(addr) + done);
        if (n <= 0) break;
        done += n;
      } catch {
        break;
      }
    }
    return done;
  }
}
