// SPDX-License-Identifier: MIT
/** ptrace requests, options, events and wait-status decoding for x86-64 Linux. */

export const PTRACE = {
  PEEKDATA: 2,
  PEEKUSER: 3,
  POKEDATA: 5,
  POKEUSER: 6,
  CONT: 7,
  KILL: 8,
  SINGLESTEP: 9,
  GETREGS: 12,
  SETREGS: 13,
  GETFPREGS: 14,
  SETFPREGS: 15,
  DETACH: 17,
  SYSCALL: 24,
  SETOPTIONS: 0x4200,
  GETEVENTMSG: 0x4201,
  GETSIGINFO: 0x4202,
  SETSIGINFO: 0x4203,
  GETREGSET: 0x4204,
  SETREGSET: 0x4205,
  SEIZE: 0x4206,
  INTERRUPT: 0x4207,
  LISTEN: 0x4208,
  GET_SYSCALL_INFO: 0x420e,
  SYSEMU: 31,
  SYSEMU_SINGLESTEP: 32,
} as const;

export const PTRACE_O = {
  TRACESYSGOOD: 1,
  TRACEFORK: 1 << 1,
  TRACEVFORK: 1 << 2,
  TRACECLONE: 1 << 3,
  TRACEEXEC: 1 << 4,
  TRACEVFORKDONE: 1 << 5,
  TRACEEXIT: 1 << 6,
  TRACESECCOMP: 1 << 7,
  EXITKILL: 1 << 20,
} as const;

export const PTRACE_EVENT = { FORK: 1, VFORK: 2, CLONE: 3, EXEC: 4, VFORK_DONE: 5, EXIT: 6, SECCOMP: 7, STOP: 128 } as const;

export const NT_X86_XSTATE = 0x202;

export const WAIT = { WNOHANG: 1, WUNTRACED: 2, WNOTHREAD: 0x20000000, WALL: 0x40000000 } as const;

export const SIG = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11,
  USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, SYS: 31,
} as const;

/** si_code of a fault raised by the kernel itself (trapped rdtsc or cpuid). */
export const SI_KERNEL = 0x80;

/** A decoded wait status. */
export type WaitStatus =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: number; core: boolean }
  | { kind: 'syscall' }
  | { kind: 'event'; event: number; signal: number }
  | { kind: 'signal'; signal: number };

/** The raw wait status of a task's end. */
export function endStatus(st: Extract<WaitStatus, { kind: 'exited' | 'killed' }>): number {
  return st.kind === 'exited' ? st.code << 8 : st.signal;
}

export function decodeStatus(status: number): WaitStatus {
  const low = status & 0x7f;
  if (low === 0) return { kind: 'exited', code: (status >> 8) & 0xff };
  if (low !== 0x7f) return { kind: 'killed', signal: low, core: (status & 0x80) !== 0 };
  const sig = (status >> 8) & 0xff;
  const event = (status >> 16) & 0xff;
  if (sig === (SIG.TRAP | 0x80)) return { kind: 'syscall' };
  if (event !== 0) return { kind: 'event', event, signal: sig };
  return { kind: 'signal', signal: sig };
}
