// SPDX-License-Identifier: MIT
/**
 * A RecordSession runs a program under ptrace and writes its trace. It stops the tracee at
 * every syscall entry and exit, saves results and the memory the kernel wrote, copies files the
 * tracee maps or executes, and traps rdtsc (and cpuid where the CPU can fault it).
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { rdtsc, cpuid } from '../native/libc.js';
import { PTRACE, PTRACE_EVENT, SIG, SI_KERNEL, type WaitStatus } from '../native/ptrace.js';
import { NR, syscallName, syscallSpec, type Region } from '../native/syscalls.js';
import type { EventData, MemWrite } from './Event.js';
import { machineInfo } from './machine.js';
import { launch } from './launch.js';
import { Session, type SessionOptions } from './Session.js';
import type { Task } from './Task.js';
import { TraceWriter } from './TraceWriter.js';
import { TRACE_FORMAT_VERSION } from './traceFile.js';
import { TsrrError } from './TsrrError.js';
import { TSRR_VERSION } from './version.js';
import { emulateCpuid, emulateRdtsc, trappedInstruction } from './trappedInstruction.js';

const MAP_ANONYMOUS = 0x20n;
const SI_USER = 0;
const SI_TKILL = -6;
/** Largest single region a syscall description may claim; anything bigger is a bad table entry. */
const MAX_REGION = 1 << 30;

export interface RecordOptions extends SessionOptions {
  /** The program as the user named it. */
  readonly program: string;
  /** Its absolute path. */
  readonly path: string;
  readonly argv: string[];
  readonly envp: string[];
  readonly dir: string;
  readonly cpu: number;
}

interface PendingSyscall {
  number: number;
  args: bigint[];
  ip: bigint;
  sp: bigint;
  regsCrc: number;
}

/** SIGINT, SIGTERM or SIGHUP sent to the tracee from outside (a terminal's Ctrl-C reaches the
 * whole process group): the user stopping the recording, like the same signal sent to tsrr. */
function isUserStop(task: Task, signo: number): boolean {
  if (signo !== SIG.INT && signo !== SIG.TERM && signo !== SIG.HUP) return false;
  const info = task.siginfo();
  const code = info.readInt32LE(8);
  const sender = info.readInt32LE(16);
  return code === SI_KERNEL || ((code === SI_USER || code === SI_TKILL) && sender !== task.tid);
}

export class RecordSession extends Session {
  readonly mode = 'record';
  private writer!: TraceWriter;
  private cpuidFaulting = true;
  private readonly pending = new Map<number, PendingSyscall>();

  constructor(readonly opts: RecordOptions) {
    super(opts);
  }

  get trace(): TraceWriter {
    return this.writer;
  }

  /** Records until the program exits or the user interrupts; returns tsrr's exit status. */
  run(): number {
    const { opts } = this;
    const tid = launch(opts.path, opts.argv, opts.envp, opts.cpu);
    const task = this.adoptTask(tid);
    this.cpuidFaulting = this.setUpExec(task, true);
    this.writer = TraceWriter.create(opts.dir, {
      formatVersion: TRACE_FORMAT_VERSION,
      tsrrVersion: TSRR_VERSION,
      uuid: randomUUID(),
      program: opts.program,
      executable: opts.path,
      argv: opts.argv,
      envp: opts.envp,
      cwd: process.cwd(),
      startTimeNs: BigInt(Date.now()) * 1_000_000n,
      machine: machineInfo(opts.cpu, this.cpuidFaulting),
    });
    try {
      this.recordExec(task);
      return this.loop(task);
    } finally {
      this.writer.close();
    }
  }

  private loop(task: Task): number {
    let signal = 0;
    for (;;) {
      task.resume(PTRACE.SYSCALL, signal);
      signal = 0;
      const st = task.wait();
      if (this.options.interrupted()) return this.interrupt(task);
      switch (st.kind) {
        case 'syscall':
          if (task.inSyscall) this.syscallExit(task);
          else this.syscallEntry(task);
          break;
        case 'event':
          this.onEvent(task, st);
          break;
        case 'signal':
          if (isUserStop(task, st.signal)) return this.interrupt(task);
          signal = this.onSignal(task, st.signal);
          break;
        case 'exited':
        case 'killed': {
          const status = st.kind === 'exited' ? st.code << 8 : st.signal;
          this.record(task, { kind: 'exit', status });
          this.tasks.delete(task.tid);
          task.closeMem();
          this.hooks.taskExited.call(task, status);
          return this.exitCode(status);
        }
      }
    }
  }

  private record(task: Task, data: EventData) {
    const e = this.writer.append(task.tid, data);
    this.hooks.eventRecorded.call(e, task);
    return e;
  }

  private syscallEntry(task: Task): void {
    const r = task.getRegs();
    const nr = r.syscallNumber;
    this.hooks.beforeSyscall.call(task, nr);
    this.pending.set(task.tid, { number: nr, args: r.args(), ip: r.rip, sp: r.rsp, regsCrc: task.regsCrc() });
    if (syscallSpec(nr)?.policy === 'deny') {
      r.origRax = -1n;
      task.setRegs();
    }
    task.inSyscall = true;
  }

  private syscallExit(task: Task): void {
    task.inSyscall = false;
    const call = this.pending.get(task.tid)!;
    const r = task.getRegs();
    const result = r.result;
    const spec = syscallSpec(call.number);
    const writes: MemWrite[] = [];
    if (result >= 0n && spec?.writes) {
      const mem = { u32: (a: bigint) => task.readU32(a), u64: (a: bigint) => task.readU64(a) };
      for (const region of spec.writes({ args: call.args, result, mem })) writes.push(this.capture(task, call, region));
    }
    const data: EventData = { kind: 'syscall', ...call, result, writes };
    if (call.number === NR.mmap && result >= 0n && (call.args[3]! & MAP_ANONYMOUS) === 0n) {
      const fd = Number(BigInt.asIntN(32, call.args[4]!));
      const path = readlinkSync(`/proc/${task.tid}/fd/${fd}`);
      data.mappedFile = { path, copy: this.writer.copyFile(`/proc/${task.tid}/fd/${fd}`, path) };
    }
    task.fds.afterSyscall(call.number, call.args, result);
    const e = this.record(task, data);
    this.hooks.afterSyscall.call(task, e);
  }

  private capture(task: Task, call: PendingSyscall, [addr, len]: Region): MemWrite {
    if (len < 0 || len > MAX_REGION) {
      throw new TsrrError('INTERNAL', `${syscallName(call.number)}: implausible output region of ${len} bytes`, { syscall: call.number });
    }
    return { addr, data: task.readMemPartial(addr, len) };
  }

  private onEvent(task: Task, st: Extract<WaitStatus, { kind: 'event' }>): void {
    if (st.event === PTRACE_EVENT.EXEC) {
      this.pending.delete(task.tid);
      this.setUpExec(task, this.cpuidFaulting);
      this.recordExec(task);
      return;
    }
    if (st.event === PTRACE_EVENT.STOP) return; // group-stop under PTRACE_SEIZE: resume
    throw new TsrrError('UNSUPPORTED', `the program started another process or thread (ptrace event ${st.event}); recording process trees is not supported yet`, { tid: task.tid });
  }

  private recordExec(task: Task): void {
    const regs = task.getRegs().clone();
    const stack = task.as.find('stack');
    if (!stack) throw new TsrrError('TRACEE_FAILED', `task ${task.tid} has no stack after exec`, { tid: task.tid });
    const path = readlinkSync(`/proc/${task.tid}/exe`);
    const split = (f: string) => readFileSync(`/proc/${task.tid}/${f}`).toString().split('\0').slice(0, -1);
    this.record(task, {
      kind: 'exec',
      path,
      copy: this.writer.copyFile(`/proc/${task.tid}/exe`, path),
      argv: split('cmdline'),
      envp: split('environ'),
      regs: regs.buf,
      stack: task.readMem(regs.rsp, Number(stack.end - regs.rsp)),
    });
  }

  /** A signal stopped the task: emulates trapped rdtsc/rdtscp/cpuid, records anything else and
   * returns the signal to deliver. */
  private onSignal(task: Task, signo: number): number {
    const code = task.siginfo().readInt32LE(8);
    const r = task.getRegs();
    if (signo === SIG.SEGV && code === SI_KERNEL) {
      const insn = trappedInstruction(task);
      if (insn === 'rdtsc' || insn === 'rdtscp') {
        const value = rdtsc();
        const aux = this.opts.cpu < 0 ? 0 : this.opts.cpu;
        this.record(task, { kind: 'rdtsc', value, ip: r.rip, aux });
        emulateRdtsc(task, insn, value, aux);
        return 0;
      }
      if (insn === 'cpuid') {
        const leaf = Number(r.get('rax') & 0xffffffffn);
        const subleaf = Number(r.get('rcx') & 0xffffffffn);
        const [eax, ebx, ecx, edx] = cpuid(leaf, subleaf);
        this.record(task, { kind: 'cpuid', leaf, subleaf, eax, ebx, ecx, edx });
        emulateCpuid(task, eax, ebx, ecx, edx);
        return 0;
      }
    }
    this.record(task, { kind: 'signal', signo, code, regs: Buffer.from(r.buf) });
    return signo;
  }

  /** The user stopped the recording: mark where, and end the tracees. */
  private interrupt(task: Task): number {
    this.record(task, { kind: 'interrupted' });
    this.killAll();
    return 128 + SIG.INT;
  }
}
