// SPDX-License-Identifier: MIT
/**
 * waitTimed (native/wait.c) gives up after its time limit, however short: a timer that expires
 * before waitpid blocks must not leave the wait without a limit (the scheduler would hang).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { waitTimed } from '../../native/libc.js';
import { WAIT } from '../../native/ptrace.js';

test('a thousand 1 µs waits for a child that does not change state all time out', { timeout: 60_000 }, () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const started = process.hrtime.bigint();
    // Most of these timers expire before waitpid blocks; the timer's next expiry (1 ms later)
    // ends the wait.
    for (let i = 0; i < 1000; i++) {
      const [pid] = waitTimed(child.pid!, WAIT.WALL, 1_000);
      assert.equal(pid, 0, `wait ${i} returned ${pid}`);
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < 10_000, `1000 waits of 1 µs took ${ms} ms`);
  } finally {
    child.kill('SIGKILL');
  }
});
