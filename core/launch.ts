// SPDX-License-Identifier: MIT
/**
 * Starts a tracee without child_process (libuv would reap its ptrace stops): posix_spawn of
 * native/build/tsrr-launch, which dies with the tracer thread, disables ASLR, pins itself to
 * one CPU and stops; then PTRACE_SEIZE and run it to the exec of the program.
 */
import { getLimit, kill, pinThread, ptrace, setLimit, spawn, strerror, trapOwnTsc, waitpid } from '../native/libc.js';
import { PTRACE, PTRACE_EVENT, PTRACE_O, SIG, WAIT, decodeStatus } from '../native/ptrace.js';
import { REPLAYED_LIMITS, RLIMIT_NAMES } from '../native/syscalls.js';
import { TsrrError } from '../native/TsrrError.js';
import { builtFile } from '../native/built.js';
import type { ResourceLimit } from './TraceHeader.js';
import { patchOwnVdso } from './vdso.js';

export const LAUNCHER = builtFile('tsrr-launch');

export const TRACE_OPTIONS =
  PTRACE_O.TRACESYSGOOD | PTRACE_O.TRACEEXEC | PTRACE_O.TRACECLONE | PTRACE_O.TRACEFORK | PTRACE_O.TRACEVFORK | PTRACE_O.TRACESECCOMP | PTRACE_O.EXITKILL;

/** The tracer thread runs on the tracees' CPU (they take turns, never run at once) and traps
 * rdtsc as they do, so switching between them costs no CR4 update (native/cpu.c). */
function prepareTracerThread(cpu: number): void {
  if (cpu >= 0) pinThread(cpu);
  patchOwnVdso();
  trapOwnTsc();
}

const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;
const limitText = (v: bigint) => (v === RLIM_INFINITY ? 'unlimited' : String(v));

/** Spawns `path` with `argv`/`envp` pinned to `cpu` (-1: not pinned), with fds 0-2 and `fds`
 * and resource limits `limits` (before the exec: RLIMIT_STACK shapes its address space), and
 * returns its pid, stopped at its PTRACE_EVENT_EXEC stop. */
export function launch(path: string, argv: string[], envp: string[], cpu: number, fds: readonly number[] = [], limits: readonly ResourceLimit[] = []): number {
  prepareTracerThread(cpu);
  const pid = spawn(LAUNCHER, [LAUNCHER, String(cpu), path, ...argv], envp, [0, 1, 2, ...fds]);
  const [, status] = waitpid(pid, WAIT.WUNTRACED | WAIT.WALL);
  const first = decodeStatus(status);
  if (first.kind !== 'signal' || first.signal !== SIG.STOP) {
    throw new TsrrError('TRACEE_FAILED', `the launcher did not start (${JSON.stringify(first)})`, { pid });
  }
  for (const { resource, soft, hard } of limits) {
    const r = setLimit(pid, resource, soft, hard);
    if (r === 0) continue;
    kill(pid, SIG.KILL);
    waitpid(pid, WAIT.WALL);
    const name = `RLIMIT_${RLIMIT_NAMES[resource] ?? resource}`;
    throw new TsrrError('UNSUPPORTED', `cannot give the program the ${name} it was recorded with (soft ${limitText(soft)}, hard ${limitText(hard)}): ${strerror(-r)}`, { resource: name });
  }
  ptrace(PTRACE.SEIZE, pid, 0, TRACE_OPTIONS);
  kill(pid, SIG.CONT);
  let signal = 0;
  for (;;) {
    ptrace(PTRACE.CONT, pid, 0, signal);
    const [r, raw] = waitpid(pid, WAIT.WALL);
    const st = decodeStatus(raw);
    if (r < 0) throw new TsrrError('TRACEE_FAILED', `waiting for the launcher failed: ${strerror(-r)}`, { pid });
    if (st.kind === 'event' && st.event === PTRACE_EVENT.EXEC) return pid;
    if (st.kind === 'exited' && st.code >= 128) {
      throw new TsrrError('PROGRAM_NOT_FOUND', `cannot run ${path}: ${strerror(st.code - 128)}`, { path });
    }
    if (st.kind === 'killed') {
      throw new TsrrError('PROGRAM_NOT_FOUND', `${path} could not be executed: killed by signal ${st.signal} before its exec completed (a damaged executable?)`, { path, status: st });
    }
    if (st.kind === 'exited') throw new TsrrError('PROGRAM_NOT_FOUND', `${path} could not be executed`, { path, status: st });
    // Group-stop and SIGCONT stops of the seize dance: resume without delivering anything.
    // Any other signal is delivered: an exec that failed past its point of no return (a
    // truncated ELF file) faults, and resumed without it would fault again forever.
    signal = st.kind === 'signal' && st.signal !== SIG.STOP && st.signal !== SIG.CONT ? st.signal : 0;
  }
}

/** Of `limits`, those replay gives the program as recorded (native/syscalls.ts). */
export const replayedLimits = (limits: readonly ResourceLimit[]): ResourceLimit[] => limits.filter((l) => REPLAYED_LIMITS.has(l.resource));

/** Process `pid`'s resource limits, all of them. */
export function limitsOf(pid: number): ResourceLimit[] {
  return RLIMIT_NAMES.map((_, resource) => {
    const [soft, hard] = getLimit(pid, resource);
    return { resource, soft, hard };
  });
}
