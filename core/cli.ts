#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/**
 * The tsrr command. The work happens in a worker thread, which owns the tracees (ptrace is per
 * thread, and a synchronous waitpid must not block this thread's signal handling). This thread
 * turns SIGINT/SIGTERM/SIGHUP into a stop request and wakes the worker by stopping the tracee.
 */
import { Worker } from 'node:worker_threads';
import { Control } from './control.js';

const control = new Control();
const worker = new Worker(new URL('./engine.js', import.meta.url), {
  argv: process.argv.slice(2),
  workerData: { control: control.buffer },
});

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    const tracee = control.requestStop(sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1);
    if (tracee > 0) {
      try {
        process.kill(tracee, 'SIGSTOP');
      } catch {
        // already gone
      }
    }
  });
}

worker.on('error', (e) => {
  process.stderr.write(`tsrr: internal error: ${e.stack ?? e}\n`);
  process.exitCode = 70;
});
worker.on('exit', (code) => {
  if (process.exitCode === undefined) process.exitCode = code;
});
