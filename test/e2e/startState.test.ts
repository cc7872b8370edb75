// SPDX-License-Identifier: MIT
/**
 * What a recorded program sees of how it was started is what it sees without tsrr: signal
 * dispositions and mask (Node ignores SIGPIPE and SIGXFSZ, posix_spawn glibc's internal
 * signals), no parent-death signal, the fds tsrr was given beyond 0-2, rlimits, umask, and its
 * environment in order (tsrr adds RUNNING_UNDER_TSRR and LD_PRELOAD). A pipeline whose reader
 * goes first ends quietly, by SIGPIPE, as in a shell. Replay gives the program the limits that
 * shape what it replays (RLIMIT_STACK, AS, ...) as recorded, whatever the shell's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, compile, describeRun, freshDir, runNative, tsrr } from './helpers.js';

/** tsrr's own additions to the environment. */
const ADDED = /^env (RUNNING_UNDER_TSRR|LD_PRELOAD)\n/gm;

for (const args of [[], ['exec']]) {
  test(`start state${args.length ? ' after the program execs itself' : ''}: as without tsrr, in record and replay`, () => {
    const program = compile('startstate');
    const dir = freshDir();
    const given = openSync(join(dir, 'fd3'), 'w');
    try {
      const stdio = ['ignore', 'pipe', 'pipe', given] as const;
      const env = { PATH: process.env.PATH, LANG: 'C', ZED: 'last', ALPHA: 'first' };
      const native = runNative([program, ...args], { stdio: [...stdio], env });
      assert.equal(native.status, 0, describeRun('native', native));
      assert.match(native.stdout.toString(), /^fd 3 .*fd3$/m);
      const rec = tsrr(['record', '-o', join(dir, 'trace'), program, ...args], { stdio: [...stdio], env });
      assert.equal(rec.status, 0, describeRun('record', rec));
      assert.equal(rec.stdout.toString().replace(ADDED, ''), native.stdout.toString());
      const rep = tsrr(['replay', '-a', join(dir, 'trace')]);
      assert.equal(rep.status, 0, describeRun('replay', rep));
      assert.ok(rep.stdout.equals(rec.stdout), `replay printed\n${rep.stdout}\nrecord printed\n${rec.stdout}`);
    } finally {
      closeSync(given);
    }
  });
}

for (const pipeline of ['yes | head -1', 'seq 1000000 | head -1']) {
  test(`sh -c '${pipeline}': as without tsrr (SIGPIPE ends the writer quietly), in record and replay`, () => {
    const native = runNative(['sh', '-c', pipeline]);
    assert.deepEqual([native.status, native.stdout.toString(), native.stderr], [0, pipeline.startsWith('yes') ? 'y\n' : '1\n', '']);
    const trace = join(freshDir(), 'trace');
    const rec = tsrr(['record', '-o', trace, 'sh', '-c', pipeline]);
    assert.deepEqual([rec.status, rec.stdout.toString(), rec.stderr], [native.status, native.stdout.toString(), native.stderr], describeRun('record', rec));
    const rep = tsrr(['replay', '-a', trace]);
    assert.deepEqual([rep.status, rep.stdout.toString(), rep.stderr], [0, native.stdout.toString(), ''], describeRun('replay', rep));
  });
}

test("resource limits: replay gives the program the recorded RLIMIT_STACK under another shell limit, and makes the program's own changes again", () => {
  const program = compile('limits');
  const trace = join(freshDir(), 'trace');
  const shell = (limit: string, argv: string[]) => runNative(['sh', '-c', `ulimit ${limit} && exec "$@"`, 'sh', ...argv]);
  const native = runNative([program]);
  assert.equal(native.status, 0, describeRun('native', native));
  assert.equal(native.stdout.toString(), 'child: killed by 11\nmmap beyond RLIMIT_AS: failed\n');
  const rec = tsrr(['record', '-o', trace, program]);
  assert.equal(rec.status, 0, describeRun('record', rec));
  assert.equal(rec.stdout.toString(), native.stdout.toString());
  // Another stack limit moves the mmap area (and, unlimited, lays it out bottom-up).
  for (const limit of ['-Ss unlimited', '-Ss 2048']) {
    const rep = shell(limit, [process.execPath, CLI, 'replay', '-a', trace]);
    assert.equal(rep.status, 0, describeRun(`replay under ulimit ${limit}`, rep));
    assert.ok(rep.stdout.equals(rec.stdout), `replay printed\n${rep.stdout}`);
  }
});
