// SPDX-License-Identifier: MIT
/**
 * How tsrr starts and ends: SIGINT/SIGTERM during record stop it with exit status 130 and a
 * trace that replays exactly what the program printed before; kill -9 of tsrr (recording or
 * replaying) leaves no tracee behind, running or stopped; SIGINT during replay ends it quickly;
 * a program that computes for a long time without a syscall records and replays; a stop request
 * ends tsrr even when its tracer is stuck.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ptrace, waitTimed } from '../../native/libc.js';
import { PTRACE, WAIT } from '../../native/ptrace.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertNoneLeft, cleanup, describeRun, processesOf, setUp, start, tsrr, waitFor, within, type Started } from './helpers.js';


/** kill -9 of tsrr: it must die of it and, half a second later, have left no tracee. */
async function killNine(s: Started, needles: string[]): Promise<void> {
  s.child.kill('SIGKILL');
  const end = await within(s.exited, 5000);
  assert.ok(end, 'tsrr did not die of SIGKILL');
  assert.equal(end.signal, 'SIGKILL');
  await sleep(500);
  assertNoneLeft(needles, 0);
}

const SLEEPER_START = 'sleeper starts, 1000 iterations\n';

describe('lifecycle', () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    test(`${sig} during record stops it (exit 130) with a trace that replays what was printed`, async () => {
      const { program, dir } = setUp('sleeper');
      const rec = start(['record', '-o', dir, program]);
      try {
        const info = () => `stdout so far:\n${rec.stdout()}\nstderr so far:\n${rec.stderr()}`;
        await waitFor('the program to start', () => rec.stdout().toString().startsWith(SLEEPER_START), 15_000, info);
        await sleep(1000);
        assert.ok(rec.child.kill(sig), `could not send ${sig}`);
        const end = await within(rec.exited, 10_000);
        assert.ok(end, `tsrr record did not exit within 10 s of ${sig}\n${info()}`);
        assert.deepEqual({ code: end.code, signal: end.signal }, { code: 130, signal: null }, `tsrr record after ${sig}\n${info()}`);
        assert.ok(await within(rec.closed, 2000), `tsrr's stdout stayed open after it exited: something still holds it\n${info()}`);
        assertNoneLeft([program, dir]);

        const recorded = rec.stdout();
        const text = recorded.toString();
        assert.match(text, /^sleeper starts, 1000 iterations\n(tick \d+\n)+$/, `the recording printed:\n${text}`);
        assert.doesNotMatch(text, /sleeper done/, 'the program ran to its end: the signal did not stop the recording');
        assert.ok(text.includes('tick 5\n'), `the program printed too little before ${sig}:\n${text}`);

        const dump = tsrr(['dump', dir]);
        assert.equal(dump.status, 0, describeRun('dump', dump));
        const last = dump.stdout.toString().trimEnd().split('\n').at(-1)!;
        assert.match(last, /^\d+ tid \d+ interrupted$/, `the last event is not the interruption: ${last}`);

        const replay = tsrr(['replay', '-a', dir], { input: '', timeout: 30_000 });
        assert.equal(replay.status, 0, describeRun('replay -a', replay));
        assert.equal(replay.stdout.toString(), text, 'replay printed something else than the recording');
        assertNoneLeft([program, dir]);
      } finally {
        cleanup(rec);
      }
    });
  }

  test('a stop request ends tsrr even when its tracer is stuck, and the tracees with it', async () => {
    const { program, dir } = setUp('sleeper');
    const rec = start(['record', '-o', dir, program]);
    let tracer = 0;
    try {
      const info = () => `stdout so far:\n${rec.stdout()}\nstderr so far:\n${rec.stderr()}`;
      await waitFor('the program to start', () => rec.stdout().toString().includes('tick 2\n'), 15_000, info);
      // Freeze tsrr's tracer thread (a ptrace stop is per thread): it can no longer see the
      // stop request, as if stuck in a wait that never ends.
      const tracee = processesOf(program).find((p) => p.exe === program)!;
      tracer = Number(/^TracerPid:\s*(\d+)/m.exec(readFileSync(`/proc/${tracee.pid}/status`, 'utf8'))![1]);
      assert.equal(ptrace(PTRACE.SEIZE, tracer), 0, 'cannot seize the tracer thread');
      ptrace(PTRACE.INTERRUPT, tracer);
      rec.child.kill('SIGTERM');
      // Reaps the frozen thread once the process ends (its tracer, this test, must).
      const reap = setInterval(() => waitTimed(tracer, WAIT.WALL | WAIT.WNOHANG, 0), 50);
      const end = await within(rec.exited, 20_000).finally(() => clearInterval(reap));
      assert.ok(end, `tsrr did not end within 20 s of SIGTERM\n${info()}`);
      assert.equal(end.code, 130, info());
      assert.match(rec.stderr().toString(), /still running 10 s after SIGTERM: ending now/);
      await sleep(500);
      assertNoneLeft([program, dir], 0);
      const replay = tsrr(['replay', '-a', dir], { input: '', timeout: 30_000 });
      assert.equal(replay.status, 0, describeRun('replay -a of what was written', replay));
    } finally {
      cleanup(rec);
    }
  });

  test('kill -9 of tsrr during record leaves no tracee, running or stopped', async () => {
    const { program, dir } = setUp('sleeper');
    const rec = start(['record', '-o', dir, program]);
    try {
      const info = () => `stdout so far:\n${rec.stdout()}\nstderr so far:\n${rec.stderr()}`;
      await waitFor('the program to start', () => rec.stdout().toString().includes('tick 3\n'), 15_000, info);
      await sleep(300);
      await killNine(rec, [program, dir]);
    } finally {
      cleanup(rec);
    }
  });

  describe('a long replay', () => {
    let program: string;
    let dir: string;
    let expected: string;

    before(() => {
      // About 2-3 s of computing without a syscall: replay runs it for as long.
      ({ program, dir } = setUp('spin'));
      const r = tsrr(['record', '-o', dir, program, '1500000000'], { timeout: 60_000 });
      assert.equal(r.status, 0, describeRun('record', r));
      expected = r.stdout.toString();
      assert.match(expected, /^spin 1500000000 steps: [0-9a-f]{16}\n$/);
    });

    /** Starts `replay -a` of the long trace and returns once its tracee runs. */
    async function startReplay(): Promise<Started> {
      const rep = start(['replay', '-a', dir]);
      const info = () => `stderr so far:\n${rep.stderr()}`;
      try {
        // The replayed tracee runs the trace's copy of the program.
        await waitFor('the replayed tracee', () => processesOf(join(dir, 'files')).some((p) => p.exe.startsWith(dir)), 15_000, info);
      } catch (e) {
        cleanup(rep);
        throw e;
      }
      await sleep(300);
      assert.equal(rep.child.exitCode, null, `the replay ended too early to be interrupted\n${info()}`);
      return rep;
    }

    test('kill -9 of tsrr during replay -a leaves no tracee', async () => {
      const rep = await startReplay();
      try {
        await killNine(rep, [program, dir]);
        assert.equal(rep.stdout().length, 0, `the replay printed the result although it was killed first:\n${rep.stdout()}`);
      } finally {
        cleanup(rep);
      }
    });

    test('SIGINT during replay -a ends it quickly with a non-zero status and no tracee', async () => {
      const rep = await startReplay();
      try {
        const sent = Date.now();
        rep.child.kill('SIGINT');
        const end = await within(rep.exited, 5000);
        const info = `stdout: ${rep.stdout()}\nstderr: ${rep.stderr()}`;
        assert.ok(end, `replay did not exit within 5 s of SIGINT\n${info}`);
        assert.equal(end.signal, null, info);
        assert.notEqual(end.code, 0, `replay exited 0 after SIGINT\n${info}`);
        assert.ok(end.at - sent < 1500, `replay took ${end.at - sent} ms to stop after SIGINT\n${info}`);
        assert.equal(rep.stdout().length, 0, `the replay ran to the end although interrupted:\n${info}`);
        assert.doesNotMatch(rep.stderr(), /internal error|^\s+at /m, info);
        assertNoneLeft([program, dir]);
      } finally {
        cleanup(rep);
      }
    });

    test('the long computation itself replays', () => {
      const r = tsrr(['replay', '-a', dir], { input: '', timeout: 60_000 });
      assert.equal(r.status, 0, describeRun('replay -a', r));
      assert.equal(r.stdout.toString(), expected);
    });
  });

  test('a program that spins for a second without syscalls records and replays', async () => {
    const { program, dir } = setUp('spin');
    const native = spawnSync(program, [], { encoding: 'utf8' });
    assert.equal(native.status, 0);
    const rec = tsrr(['record', '-o', dir, program], { timeout: 60_000 });
    assert.equal(rec.status, 0, describeRun('record', rec));
    assert.equal(rec.stdout.toString(), native.stdout, 'the recording printed something else than a run without tsrr');
    const rep = tsrr(['replay', '-a', dir], { input: '', timeout: 60_000 });
    assert.equal(rep.status, 0, describeRun('replay -a', rep));
    assert.equal(rep.stdout.toString(), native.stdout, 'replay printed something else than the recording');
    assertNoneLeft([program, dir]);
  });
});
