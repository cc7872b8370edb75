// SPDX-License-Identifier: MIT
/**
 * Starts a tracee without child_process (libuv would reap its ptrace stops): posix_spawn of
 * native/build/tsrr-launch, which dies with the tracer thread, disables ASLR, pins itself to
 * one CPU and stops; then PTRACE_SEIZE and run it to the exec of the program.
 */
import { fileURLToPath } from 'node:url';
import { kill, pinThread, ptrace, spawn, strerror, trapOwnTsc, waitpid } from '../native/libc.js';
import { PTRACE, PTRACE_EVENT, PTRACE_O, SIG, WAIT, decodeStatus } from '../native/ptrace.js';
import { TsrrError } from './TsrrError.js';
import { patchOwnVdso } from './vdso.js';

export const LAUNCHER = fileURLToPath(new URL('../../native/build/tsrr-launch', import.meta.url));

export const TRACE_OPTIONS =
  PTRACE_O.TRACESYSGOOD | PTRACE_O.TRACEEXEC | PTRACE_O.TRACECLONE | PTRACE_O.TRACEFORK | PTRACE_O.TRACEVFORK | PTRACE_O.TRACESECCOMP | PTRACE_O.EXITKILL;

/** The tracer thread runs on the tracees' CPU (they take turns, never run at once) and traps
 * rdtsc as they do, so switching between them costs no CR4 update (native/cpu.c). */
function prepareTracerThread(cpu: number): void {
  if (cpu >= 0) pinThread(cpu);
  patchOwnVdso();
  trapOwnTsc();
}

/** Spawns `path` with `argv`/`envp` pinned to `cpu` (-1: not pinned), with fds 0-2 and `fds`,
 * and returns its pid, stopped at its PTRACE_EVENT_EXEC stop. */
export function launch(path: string, argv: string[], envp: string[], cpu: number, fds: readonly number[] = []): number {
  prepareTracerThread(cpu);
  const pid = spawn(LAUNCHER, [LAUNCHER, String(cpu), path, ...argv], envp, [0, 1, 2, ...fds]);
  const [, status] = waitpid(pid, WAIT.WUNTRACED | WAIT.WALL);
  const first = decodeStatus(status);
  if (first.kind !== 'signal' || first.signal !== SIG.STOP) {
    throw new TsrrError('TRACEE_FAILED', `the launcher did not start (${JSON.stringify(first)})`, { pid });
  }
  ptrace(PTRACE.SEIZE, pid, 0, TRACE_OPTIONS);
  kill(pid, SIG.CONT);
  for (;;) {
    ptrace(PTRACE.CONT, pid, 0, 0);
    const [r, raw] = waitpid(pid, WAIT.WALL);
    const st = decodeStatus(raw);
    if (r < 0) throw new TsrrError('TRACEE_FAILED', `waiting for the launcher failed (errno ${-r})`, { pid });
    if (st.kind === 'event' && st.event === PTRACE_EVENT.EXEC) return pid;
    if (st.kind === 'exited' && st.code >= 128) {
      throw new TsrrError('PROGRAM_NOT_FOUND', `cannot run ${path}: ${strerror(st.code - 128)}`, { path });
    }
    if (st.kind === 'exited' || st.kind === 'killed') {
      throw new TsrrError('PROGRAM_NOT_FOUND', `${path} could not be executed`, { path, status: st });
    }
    // Group-stop and SIGCONT stops of the seize dance: resume without delivering anything.
  }
}
