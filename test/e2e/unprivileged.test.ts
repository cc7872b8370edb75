// SPDX-License-Identifier: MIT
/**
 * Record and replay as an ordinary user (uid 65534, through setpriv), where tsrr has no
 * CAP_SYS_ADMIN: /proc/PID/map_files cannot be opened, and the seccomp filter needs
 * no_new_privs. Each program is recorded and replayed on autopilot, with the syscall buffer
 * and without (-n); replay must reproduce the recording's output byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, compile, describeRun, dumpEvents, tempDir, type Run } from './helpers.js';

const NOBODY = 65534;

const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root, to run tsrr as another user';
  if (spawnSync('setpriv', ['--version']).error) return 'needs setpriv (util-linux)';
  if (spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), 'test', '-r', CLI]).status !== 0) return `tsrr's files are closed to uid ${NOBODY}`;
  return false;
}
const skip = skipReason();

/** Runs `tsrr ARGS` as uid and gid 65534 without supplementary groups, in `home` (its HOME). */
function asNobody(args: string[], home: string, dataHome = ''): Run {
  const r = spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), process.execPath, CLI, ...args], {
    cwd: home,
    env: { ...process.env, HOME: home, XDG_DATA_HOME: dataHome },
    input: '',
    timeout: 60_000,
    maxBuffer: 1 << 26,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout as Buffer, stderr: String(r.stderr) };
}

/** A directory the user owns (those of freshDir are under one only root may enter). */
function nobodysDir(): string {
  const dir = tempDir('tsrr-unprivileged-');
  chownSync(dir, NOBODY, NOBODY);
  return dir;
}

/** `buffers`: it makes calls the preload library buffers (clock_gettime, getpid, ...). */
const cases: { program: string; what: string; buffers?: boolean }[] = [
  { program: 'rdtsc', what: 'rdtsc and rdtscp (patched to trap on machines that do not trap them)' },
  { program: 'threads_condvar', what: '4 threads, a condition variable, clock_gettime', buffers: true },
  { program: 'fork_pipe', what: 'fork and a pipe', buffers: true },
  { program: 'sigalrm_loop', what: 'SIGALRM ends loops without syscalls' },
  { program: 'robust', what: 'robust mutexes, shared anonymous memory' },
];

for (const mode of [[], ['-n']]) {
  for (const c of cases) {
    test(`as uid ${NOBODY}, ${['record', ...mode].join(' ')} then replay -a: ${c.program} (${c.what})`, { skip }, () => {
      const home = nobodysDir();
      // The test's build directory is root's alone.
      const program = join(home, c.program);
      copyFileSync(compile(c.program, ['-pthread']), program);
      chmodSync(program, 0o755);
      const dir = join(home, 'trace');
      const record = asNobody(['record', ...mode, '-o', dir, program], home);
      assert.equal(record.status, 0, describeRun('record', record));
      assert.ok(record.stdout.length > 0, 'the recording printed nothing');
      assert.equal(statSync(join(dir, 'header')).uid, NOBODY, 'the trace was not written by the unprivileged user');
      // Buffered calls run without stops only behind tsrr's seccomp filter.
      if (c.buffers && mode.length === 0) assert.ok(dumpEvents(dir).some((e) => e.kind === 'buffered'), 'no call was buffered');
      const replay = asNobody(['replay', '-a', dir], home);
      assert.equal(replay.status, 0, describeRun('replay', replay));
      assert.equal(replay.stdout.toString(), record.stdout.toString());
    });
  }
}

test(`as uid ${NOBODY}, a trace root the user cannot write is a one-line error`, { skip }, () => {
  const home = nobodysDir();
  const closed = join(home, 'closed');
  mkdirSync(closed);
  chownSync(closed, 0, 0);
  const r = asNobody(['record', '/bin/true'], home, closed);
  assert.equal(r.status, 1, describeRun('record', r));
  assert.equal(r.stderr, `tsrr: cannot create the trace directory ${join(closed, 'tsrr')}: Permission denied\n`);
});
