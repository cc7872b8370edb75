#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/**
 * The tsrr command. The work happens in a worker thread, which owns the tracees (ptrace is per
 * thread, and a synchronous waitpid must not block this thread's signal handling). This thread
 * turns SIGINT/SIGTERM/SIGHUP into a stop request, which the worker polls.
 */
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Control, TICK_MS } from './control.js';
import { inheritedFds } from './inheritedFds.js';
import { isTsrrError } from '../native/TsrrError.js';
import { SIG } from '../native/ptrace.js';

const control = new Control();
// Before anything opens files: the fds tsrr was given, for the recorded program.
const fds = inheritedFds();
// stdout/stderr: true keeps this thread from making fds 1 and 2 streams, which would turn on
// O_NONBLOCK on descriptions the tracees share; the worker writes to them directly.
const worker = new Worker(new URL('./engine.js', import.meta.url), {
  argv: process.argv.slice(2),
  workerData: { control: control.buffer, fds },
  stdout: true,
  stderr: true,
});

/** A stop request always ends tsrr: a worker that has not ended this long after one (stuck in
 * a wait for a tracee that never comes) is ended with the process, and the tracees with it
 * (PTRACE_O_EXITKILL). The trace keeps what was written (core/TraceWriter.ts flushes every tick). */
const STOP_GRACE_MS = 10_000;

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    control.requestStop(SIG[sig.slice(3) as 'INT' | 'TERM' | 'HUP']);
    setTimeout(async () => {
      if (!control.interrupted()) return; // the debugger's Ctrl-C, or the tracees'
      writeSync(2, `tsrr: still running ${STOP_GRACE_MS / 1000} s after ${sig}: ending now\n`);
      (await import('../native/libc.js')).exitNow(130); // as an interrupted command (engine.ts)
    }, STOP_GRACE_MS).unref();
  });
}
// Signals a tracee may send its whole process group (kill(0, SIGABRT)) or a terminal sends
// it, which must not end or stop tsrr. Caught, not ignored: the tracees start with them at
// their defaults.
for (const sig of ['SIGABRT', 'SIGQUIT', 'SIGTRAP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH'] as const) process.on(sig, () => {});

setInterval(() => control.tick(), TICK_MS).unref();

worker.on('error', (e) => {
  // A TsrrError from loading the worker's modules (C parts not built) is the user's to fix.
  if (isTsrrError(e)) {
    writeSync(2, `tsrr: ${e.message.split('\n')[0]}\n`);
    process.exitCode = 1;
    return;
  }
  writeSync(2, `tsrr: internal error: ${e.stack ?? e}\n`);
  process.exitCode = 70;
});
worker.on('exit', (code) => {
  if (process.exitCode === undefined) process.exitCode = code;
});
