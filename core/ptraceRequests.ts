// SPDX-License-Identifier: MIT
/**
 * A program's ptrace requests on a task tsrr traces (tsrr stays its real tracer; see
 * core/PtraceEmulator.ts): the requests that change the tracee are made on it by tsrr, in
 * record and in replay alike, with the bytes the program passed (read from its memory); the
 * ones that read the tracee fill the program's memory while recording (replay has those bytes
 * in the trace).
 */
import { ptrace, ptraceRegset, ptraceWithBuffer } from '../native/libc.js';
import { PTRACE } from '../native/ptrace.js';
import type { Task } from './Task.js';

export const REQ = {
  TRACEME: 0, PEEKTEXT: 1, PEEKDATA: 2, PEEKUSER: 3, POKETEXT: 4, POKEDATA: 5, POKEUSER: 6,
  CONT: 7, KILL: 8, SINGLESTEP: 9, GETREGS: 12, SETREGS: 13, GETFPREGS: 14, SETFPREGS: 15,
  ATTACH: 16, DETACH: 17, SYSCALL: 24, ARCH_PRCTL: 30, SYSEMU: 31, SYSEMU_SINGLESTEP: 32,
  SETOPTIONS: 0x4200, GETEVENTMSG: 0x4201, GETSIGINFO: 0x4202, SETSIGINFO: 0x4203,
  GETREGSET: 0x4204, SETREGSET: 0x4205, SEIZE: 0x4206, INTERRUPT: 0x4207, LISTEN: 0x4208,
  GETSIGMASK: 0x420a, SETSIGMASK: 0x420b,
} as const;

const USER_REGS = 27 * 8;
const FPREGS = 512;
const SIGINFO = 128;
const NT_PRSTATUS = 1;

/** Requests that change the tracee's state: [the request tsrr makes, the bytes it takes from
 * the program's memory at `data` (0: `data` is the value itself)]. */
const CHANGES = new Map<number, [request: number, bytes: number]>([
  [REQ.POKETEXT, [PTRACE.POKEDATA, 0]],
  [REQ.POKEDATA, [PTRACE.POKEDATA, 0]],
  [REQ.POKEUSER, [PTRACE.POKEUSER, 0]],
  [REQ.SETREGS, [PTRACE.SETREGS, USER_REGS]],
  [REQ.SETFPREGS, [PTRACE.SETFPREGS, FPREGS]],
  [REQ.SETSIGINFO, [PTRACE.SETSIGINFO, SIGINFO]],
  [REQ.SETSIGMASK, [REQ.SETSIGMASK, 8]],
]);

const ARCH_SET_GS = 0x1001n;
const ARCH_SET_FS = 0x1002n;
const ARCH_GET_FS = 0x1003n;
const ARCH_GET_GS = 0x1004n;
const BASES = new Map<bigint, 'fs_base' | 'gs_base'>([[ARCH_SET_FS, 'fs_base'], [ARCH_GET_FS, 'fs_base'], [ARCH_SET_GS, 'gs_base'], [ARCH_GET_GS, 'gs_base']]);

/** Whether a request changes the tracee (made on it in replay too). */
export const changesTracee = (request: number, data: bigint): boolean =>
  CHANGES.has(request) || request === REQ.SETREGSET || (request === REQ.ARCH_PRCTL && (data === ARCH_SET_FS || data === ARCH_SET_GS));

/** Makes the change a request asks for on stopped `tracee`; `program` is the task that asked,
 * whose memory holds what it passes. Returns the result the program gets. */
export function changeTracee(program: Task, tracee: Task, request: number, addr: bigint, data: bigint): bigint {
  try {
    if (request === REQ.ARCH_PRCTL) {
      // ARCH_SET_FS/GS: the base is `addr`.
      tracee.getRegs().set(BASES.get(data)!, addr);
      tracee.setRegs();
      return 0n;
    }
    if (request === REQ.SETREGSET) {
      const iov = program.readMem(data, 16);
      const bytes = program.readMem(iov.readBigUInt64LE(0), Number(iov.readBigUInt64LE(8)));
      ptraceRegset(PTRACE.SETREGSET, tracee.tid, Number(addr), bytes);
      return 0n;
    }
    const [req, bytes] = CHANGES.get(request)!;
    if (bytes === 0) ptrace(req, tracee.tid, addr, data);
    else ptraceWithBuffer(req, tracee.tid, addr, program.readMem(data, bytes));
    tracee.regsValid = false;
    return 0n;
  } catch (e) {
    return -BigInt((e as { context?: { errno?: number } }).context?.errno ?? 5); // EIO
  }
}

/** Makes a request that reads stopped `tracee` into the program's memory (`siginfo` and
 * `eventMsg`: what its stop was). Returns the result, undefined for other requests. */
export function readTracee(program: Task, tracee: Task, request: number, addr: bigint, data: bigint, siginfo: Buffer, eventMsg: bigint): bigint | undefined {
  const put = (bytes: Buffer) => program.writeMem(data, bytes);
  const word = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    put(b);
  };
  try {
    switch (request) {
      case REQ.PEEKTEXT:
      case REQ.PEEKDATA:
        word(tracee.readMem(addr, 8).readBigUInt64LE(0));
        return 0n;
      case REQ.PEEKUSER: {
        const b = Buffer.alloc(8);
        b.writeBigInt64LE(BigInt(ptrace(PTRACE.PEEKUSER, tracee.tid, addr)));
        put(b);
        return 0n;
      }
      case REQ.GETREGS:
        put(Buffer.from(tracee.getRegs().buf));
        return 0n;
      case REQ.GETFPREGS: {
        const b = Buffer.alloc(FPREGS);
        ptraceWithBuffer(PTRACE.GETFPREGS, tracee.tid, 0, b);
        put(b);
        return 0n;
      }
      case REQ.GETREGSET: {
        const iov = program.readMem(data, 16);
        const b = Buffer.alloc(Number(iov.readBigUInt64LE(8)));
        const n = addr === BigInt(NT_PRSTATUS) ? (tracee.getRegs().buf.copy(b), Math.min(b.length, USER_REGS)) : ptraceRegset(PTRACE.GETREGSET, tracee.tid, Number(addr), b);
        program.writeMem(iov.readBigUInt64LE(0), b.subarray(0, n));
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(BigInt(n));
        program.writeMem(data + 8n, len);
        return 0n;
      }
      case REQ.GETSIGINFO:
        put(siginfo);
        return 0n;
      case REQ.ARCH_PRCTL: {
        // ARCH_GET_FS/GS (`data`): the base goes to `addr`.
        const base = BASES.get(data);
        if (!base) return -22n;
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(tracee.getRegs().get(base));
        program.writeMem(addr, b);
        return 0n;
      }
      case REQ.GETEVENTMSG:
        word(eventMsg);
        return 0n;
      case REQ.GETSIGMASK: {
        const b = Buffer.alloc(8);
        ptraceWithBuffer(REQ.GETSIGMASK, tracee.tid, 8, b);
        put(b);
        return 0n;
      }
    }
  } catch (e) {
    return -BigInt((e as { context?: { errno?: number } }).context?.errno ?? 5);
  }
  return undefined;
}
