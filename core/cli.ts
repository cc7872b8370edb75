#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/**
 * The tsrr command. The work happens in a worker thread, which owns the tracees (ptrace is per
 * thread, and a synchronous waitpid must not block this thread's signal handling). This thread
 * turns SIGINT/SIGTERM/SIGHUP into a stop request, which the worker polls.
 */
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Control } from './control.js';

const control = new Control();
// stdout/stderr: true keeps this thread from making fds 1 and 2 streams, which would turn on
// O_NONBLOCK on descriptions the tracees share; the worker writes to them directly.
const worker = new Worker(new URL('./engine.js', import.meta.url), {
  argv: process.argv.slice(2),
  workerData: { control: control.buffer },
  stdout: true,
  stderr: true,
});

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => control.requestStop(sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
}

worker.on('error', (e) => {
  writeSync(2, `tsrr: internal error: ${e.stack ?? e}\n`);
  process.exitCode = 70;
});
worker.on('exit', (code) => {
  if (process.exitCode === undefined) process.exitCode = code;
});
