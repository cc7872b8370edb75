// SPDX-License-Identifier: MIT
/**
 * `tsrr replay` with gdb: the replay is started (and run to -g's event), a server listens,
 * and gdb is started attached to it in this terminal, or, with -s PORT, tsrr waits for one
 * to connect. tsrr ends when gdb does.
 */
import { TsrrError, writeAll, type DebuggerOptions, type ReplaySession, type ReplayStop } from '../../core/index.js';
import { findProgram } from '../../core/commands/record.js';
import { closeFd, memoryFile, spawn, waitTimed } from '../../native/libc.js';
import { WAIT } from '../../native/ptrace.js';
import { TcpListener, type TcpConnection } from '../../native/socket.js';
import { initScript } from './commands.js';
import { GdbConnection } from './GdbConnection.js';
import { GdbServer } from './GdbServer.js';
import type { GdbHooks } from './hooks.js';

const POLL_MS = 50;
const POLL_NS = POLL_MS * 1_000_000;

export function serveReplay(session: ReplaySession, opts: DebuggerOptions, hooks: GdbHooks): void {
  const listener = TcpListener.listen(opts.host, opts.port ?? 0);
  const target = `target extended-remote ${opts.host}:${listener.port}`;
  // The init script is a file in memory, named through this process: even a SIGKILL of tsrr
  // leaves no file behind.
  const scriptFd = memoryFile('tsrr.gdb', initScript(hooks.gdbCommands.call([])));
  const script = `/proc/${process.pid}/fd/${scriptFd}`;
  // gdb is started before any tracee: this thread then pins itself and traps rdtsc, which
  // children it starts would inherit. gdb asks the server for the program's file.
  const gdb = opts.port === undefined ? startGdb(opts.debugger ?? 'gdb', ['-q', '-l', '10000', '-ix', script, '-ex', 'set sysroot /', '-ex', target, ...opts.debuggerArgs]) : undefined;
  let gdbEnded = false;
  try {
    session.start();
    if (session.opts.goto !== undefined) session.debugContinue({ until: session.opts.goto });
    const end = opts.atEnd ? toEnd(session) : undefined;
    if (session.tasks.size === 0) throw new TsrrError('BAD_ARGUMENT', `the program has ended by event ${session.frame}: nothing to debug there`);
    if (gdb === undefined) writeAll(2, `tsrr: listening on ${opts.host}:${listener.port}; connect with:\n  gdb -ix ${script} -ex '${target}'\n`);
    const socket = accept(listener, opts, gdb);
    if (!socket) return;
    const conn = new GdbConnection(socket);
    const server = new GdbServer(session, conn, hooks, opts.fresh, opts.pid, end);
    try {
      hooks.serverStarted.call(server);
      server.serve(() => opts.stop() || (gdb !== undefined && (gdbEnded ||= ended(gdb))));
    } finally {
      conn.close();
      server.session.killAll(); // a replay made to go back, if there is one
      server.timeline.dropAll();
    }
  } finally {
    listener.close();
    closeFd(scriptFd);
    if (gdb !== undefined && !gdbEnded) while (!ended(gdb, POLL_NS) && !opts.stop());
  }
}

/** -e: replays on to the end stop (ReplaySession.debugEnd), or to the signal the last
 * process dies of. */
function toEnd(session: ReplaySession): ReplayStop {
  const end = session.trace.endEvent();
  session.debugEnd = end?.frame;
  for (;;) {
    const stop = session.debugContinue({});
    if (stop.kind === 'end' || (stop.kind === 'signal' && stop.frame === end?.frame)) return stop;
    if (!('task' in stop)) throw new TsrrError('BAD_ARGUMENT', `-e: the trace ends with no task left to stop at (${stop.kind} at event ${stop.frame})`);
  }
}

function startGdb(program: string, args: string[]): number {
  let path: string;
  try {
    path = findProgram(program);
  } catch (e) {
    if (program !== 'gdb') throw new TsrrError('PROGRAM_NOT_FOUND', `-d ${program}: ${(e as Error).message}`);
    throw new TsrrError('PROGRAM_NOT_FOUND', 'cannot find gdb in PATH; install it, or serve with tsrr replay -s PORT and connect a debugger yourself');
  }
  return spawn(path, [program, ...args], Object.entries(process.env).map(([k, v]) => `${k}=${v}`), [0, 1, 2]);
}

/** Whether the gdb tsrr started has ended (reaping it), waiting up to `timeoutNs`. */
function ended(pid: number, timeoutNs = 0): boolean {
  const [r] = waitTimed(pid, timeoutNs > 0 ? 0 : WAIT.WNOHANG, timeoutNs);
  return r !== 0;
}

/** The debugger's connection; undefined if tsrr was asked to stop. */
function accept(listener: TcpListener, opts: DebuggerOptions, gdb: number | undefined): TcpConnection | undefined {
  for (;;) {
    const socket = listener.accept(POLL_MS);
    if (socket) return socket;
    if (opts.stop()) return undefined;
    if (gdb !== undefined && ended(gdb)) throw new TsrrError('BAD_ARGUMENT', 'gdb ended before it connected to the replay');
  }
}
