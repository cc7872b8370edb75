// SPDX-License-Identifier: MIT
/**
 * Process trees, threads and signals. Each case compiles a program from test/programs, runs it
 * once without tsrr (its own check must pass there, so that a failure below is tsrr's), records
 * it, replays it on autopilot, and checks that the recording kept the program's exit status and
 * output, that replay reported success and printed the recorded stdout byte for byte, and that
 * no process of the program is left afterwards. Then: `tsrr ps` and `replay -f/-p` on a trace
 * with a child that execs, kill -9 of a whole traced tree from outside, and a storm of signals
 * sent from outside during record.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoneLeft, cleanup, compile, describeRun, freshDir, processesOf, runNative, setUp, start, tsrr, waitFor, within, type Run } from './helpers.js';

/** Each tsrr command of a case must be done within this: spawnSync blocks the test runner's
 * event loop, so this, not the test's timeout, is what ends a hang. Two of them fit in a test. */
const COMMAND_MS = 25_000;
const TEST_MS = 60_000;

/** Compiles test/programs/NAME.c with -pthread and returns a copy of its own (see setUp). */
function build(name: string): { program: string; dir: string } {
  compile(name, ['-pthread']);
  const { program, dir } = setUp(name);
  return { program, dir };
}

const lines = (s: string) => s.trimEnd().split('\n');

function record(dir: string, argv: string[]): Run {
  return tsrr(['record', '-o', dir, ...argv], { timeout: COMMAND_MS, input: '' });
}

function replay(dir: string, extra: string[] = []): Run {
  return tsrr(['replay', '-a', ...extra, dir], { timeout: COMMAND_MS, input: '' });
}


interface Case {
  program: string;
  /** Its arguments. */
  args?: string[];
  what: string;
  /** The program's exit status (and so tsrr record's). */
  status?: number;
  /** Checks the output of a run (without tsrr, then the recording). */
  check: (out: string) => void;
}

/** race.c's output: the counter, at most 4 * `steps` (lost updates make it less). */
function checkRace(out: string, steps: number): void {
  const m = new RegExp(`^counter (\\d+) of ${4 * steps}\\n$`).exec(out);
  assert.ok(m, `unexpected output:\n${out}`);
  const n = Number(m[1]);
  assert.ok(n > 0 && n <= 4 * steps, `counter ${n}`);
}

const cases: Case[] = [
  {
    program: 'fork_pipe',
    what: 'fork; the child writes lines through a pipe and exits 7; waitpid',
    check: (out) => {
      const m = /^parent read \d+ bytes:\n((?:line \d from child \d+\n){5})child pid matches fork's: 1\nchild exited 1 status 7\n$/.exec(out);
      assert.ok(m, `unexpected output:\n${out}`);
      const pids = new Set(lines(m[1]!).map((l) => l.split(' ').at(-1)));
      assert.equal(pids.size, 1, `the child's lines name different pids:\n${out}`);
    },
  },
  {
    program: 'fork_exec',
    what: 'fork + execve("/bin/echo"), waitpid',
    check: (out) => assert.equal(out, 'parent forks\nhello from echo\nchild exited 1 status 0\n'),
  },
  {
    program: 'vfork',
    what: 'vfork + _exit (memory shared with the parent), vfork + execve, posix_spawn',
    check: (out) =>
      assert.equal(
        out,
        'vfork child: shared 42, exited 1 status 5\nvfork+execve /bin/true: exited 1 status 0\nposix_spawn /bin/false: exited 1 status 1\n',
      ),
  },
  {
    program: 'threads_condvar',
    what: '4 pthreads, a mutex and a condition variable, clock_gettime in each',
    check: (out) => {
      const l = lines(out);
      assert.equal(l.length, 9, `unexpected output:\n${out}`);
      assert.equal(l[8], 'arrived 4 released 4');
      let last = 0;
      for (const [phase, what] of [[0, 'arrived'], [1, 'released']] as const) {
        const threads = new Set<string>();
        for (let i = 0; i < 4; i++) {
          const n = phase * 4 + i;
          const m = new RegExp(`^${n}: thread ([0-3]) ${what} #${i} at (\\d+)\\.(\\d{9})$`).exec(l[n]!);
          assert.ok(m, `line ${n} is unexpected:\n${out}`);
          threads.add(m[1]!);
          const at = Number(m[2]) * 1e9 + Number(m[3]);
          assert.ok(at >= last, `CLOCK_MONOTONIC went backwards at line ${n}:\n${out}`);
          last = at;
        }
        assert.equal(threads.size, 4, `a thread ${what} twice:\n${out}`);
      }
    },
  },
  {
    program: 'race',
    what: '4 threads race on a counter without a lock, 2,000,000 increments each',
    check: (out) => checkRace(out, 2_000_000),
  },
  {
    program: 'race',
    args: ['100000000'],
    what: '4 threads race on a counter without a lock, 100,000,000 increments each (long enough to be preempted)',
    check: (out) => checkRace(out, 100_000_000),
  },
  {
    program: 'sigalrm_loop',
    what: 'SIGALRM (setitimer) ends a loop without syscalls, 3 times',
    check: (out) => {
      const l = lines(out);
      assert.equal(l.length, 3, `unexpected output:\n${out}`);
      l.forEach((line, i) => {
        // The count may be 0: on a loaded machine the timer can expire before the loop starts.
        assert.match(line, new RegExp(`^round ${i}: count \\d+ handled ${i + 1}$`), `unexpected output:\n${out}`);
      });
    },
  },
  {
    program: 'segv_longjmp',
    what: 'SIGSEGV on an alternate stack + siglongjmp, raise(SIGUSR1), SIGILL (ud2), SIGTRAP (int3)',
    check: (out) =>
      assert.equal(
        out,
        [
          ...[0, 1, 2].map((i) => `segv ${i}: caught, at the address read 1, SEGV_ACCERR 1, on the alternate stack 1`),
          'SIGSEGV blocked after the jumps 0',
          'SIGUSR1 handled 2 times',
          'SIGILL caught, ILL_ILLOPN 1, at a ud2 1',
          'SIGTRAP handled 2 times',
          '',
        ].join('\n'),
      ),
  },
  {
    program: 'sigchld',
    what: 'SIGCHLD handler, sigsuspend, 3 children with different exit statuses',
    check: (out) => {
      const m = /^child 0: exited 1 status 1\nchild 1: exited 1 status 2\nchild 2: exited 1 status 3\nSIGCHLD handled ([1-3]) times, ([1-3]) wake-ups\n$/.exec(out);
      assert.ok(m, `unexpected output:\n${out}`);
      assert.equal(m[1], m[2], `each wake-up of sigsuspend is one handled SIGCHLD:\n${out}`);
    },
  },
  {
    program: 'sockets',
    what: 'socketpair, then TCP over 127.0.0.1, between a parent and its child',
    check: (out) => {
      const m = new RegExp(
        '^' +
          [0, 1, 2].map((i) => `socketpair: sent ping ${i}, got pong ${i}\\n`).join('') +
          'socketpair child: exited 1 status 0\\n' +
          'tcp: listening on port (\\d+)\\n' +
          'tcp: accepted a connection from port (\\d+); it says "hello from port +(\\d+)"\\n' +
          'tcp child: exited 1 status 0\\n$',
      ).exec(out);
      assert.ok(m, `unexpected output:\n${out}`);
      assert.equal(m[2], m[3], `the client's port as the server saw it and as the client saw it differ:\n${out}`);
    },
  },
  {
    program: 'epoll',
    what: 'epoll over an eventfd written by a child, one written by a thread, and a timerfd',
    check: (out) => {
      const l = lines(out);
      assert.equal(l.at(-2), 'child eventfd total 6, thread eventfd total 60, timer expired at least 4 times 1', `unexpected output:\n${out}`);
      assert.equal(l.at(-1), 'child exited 1 status 0');
      for (const line of l.slice(0, -2)) assert.match(line, /^wait \d+: (child eventfd|thread eventfd|timerfd) read \d+$/, `unexpected output:\n${out}`);
    },
  },
  {
    program: 'spin_flag',
    what: 'a thread spins on a flag without syscalls until the main thread sets it',
    check: (out) => assert.equal(out, 'done\n'),
  },
  {
    program: 'restart',
    what: 'a signal interrupts a blocking read, with SA_RESTART (restarted) and without (EINTR); one without a handler interrupts a poll, resumed as restart_syscall',
    check: (out) =>
      assert.equal(
        out,
        [
          'SA_RESTART: read returned 1 (x): restarted; handler ran 1 times',
          'SA_RESTART: child exited 1 status 0',
          'no SA_RESTART: read returned -1, EINTR; handler ran 1 times',
          'no SA_RESTART: read again returned 1 (x)',
          'no SA_RESTART: child exited 1 status 0',
          'poll: returned 1 revents 0x1',
          '',
        ].join('\n'),
      ),
  },
  {
    program: 'maskcalls',
    what: 'ppoll, pselect6, epoll_pwait, epoll_pwait2 and sigsuspend with masks of their own, interrupted by a signal the program blocks and by one it does not',
    check: (out) => {
      for (const call of ['ppoll', 'pselect6', 'epoll_pwait', 'epoll_pwait2', 'sigsuspend']) {
        for (const state of ['blocked', 'unblocked']) {
          // Interrupted (EINTR); the program's mask is back afterwards.
          assert.match(out, new RegExp(`^${call} \\(SIGUSR1 ${state}\\): result -1 errno 4 mask ${state === 'blocked' ? '200' : '0'}$`, 'm'));
        }
      }
      // The handler ran with the call's mask (SIGCHLD, SIGUSR2) plus SIGUSR1 itself.
      assert.equal(out.match(/^ {2}handler 10 mask 10a00$/gm)?.length, 10, out);
      assert.equal(out.match(/^ {2}SIGCHLD handled 1$/gm)?.length, 10, out);
    },
  },
  {
    program: 'sharedfile',
    args: [freshDir()],
    what: 'files mapped shared (and privately through a writable fd) changing under their mappings: stores, pwrite, write, ftruncate, O_TRUNC, fork, /dev/zero, mremap; System V shared memory',
    check: (out) =>
      assert.match(
        out,
        new RegExp(
          [
            'other mapping: stored through one mapping',
            'after pwrite: PWRITE',
            'after write through another fd: stored thrWRITEone mapping',
            'grown: byte 0, sum [0-9a-f]{8}',
            'after O_TRUNC and regrowth: sum [0-9a-f]{8}',
            "child's store through the file: from the child",
            '/dev/zero: shared with the child: child wrote /dev/zero memory; another mapping is apart: 0',
            'private mapping of a file that grew: grown later',
            'adjacent mappings remapped as one: ok',
            'System V segment: child wrote the segment',
            '',
          ].join('\n'),
        ),
      ),
  },
  {
    program: 'seccomp',
    what: "the program's own seccomp filters: ERRNO, TRAP with a handler, stacked filters, TRAP of a call tsrr answers itself, ret A, a fatal TRAP, KILL_PROCESS, TSYNC",
    check: (out) =>
      assert.equal(
        out,
        [
          'before: seccomp mode 0',
          'thread getuid: -1 errno 1',
          'getppid: -3 errno 0; seccomp mode 2', // glibc returns getppid's result as it is
          'geteuid trapped: result 4242, SIGSYS for call 107',
          'geteuid under two filters: result 4242, SIGSYS for call 107',
          'sched_setaffinity trapped: result 4242, SIGSYS for call 203',
          'getgid by ret A: -1 errno 33',
          'TRAP with SIGSYS blocked: killed by signal 31',
          'KILL_PROCESS: killed by signal 31',
          '',
        ].join('\n'),
      ),
  },
  {
    program: 'procmem',
    what: 'writes into memory from outside: /proc/PID/mem (pwrite, write through an fd passed with SCM_RIGHTS), process_vm_writev, /proc/self/mem',
    check: (out) => {
      assert.match(out, /^parent reads back: by WRITEe \+ vm_writev$/m);
      assert.match(out, /^self through \/proc\/self\/mem: 42$/m);
      assert.match(out, /^child sees: by WRITEe \+ vm_writev$/m);
    },
  },
  {
    program: 'deaths',
    what: "a thread's fatal signal, SIGTERM with threads blocked, a raw clone that kills itself after buffered calls, a PID namespace's init",
    check: (out) => {
      const lines = out.split('\n');
      assert.deepEqual(lines.slice(0, 4), ['thread SIGSEGV: killed by 11', 'SIGTERM with threads blocked: killed by 15', 'raw clone that kills itself: killed by 9', 'shared counter 42, pid ok']);
      assert.match(lines[4]!, /^PID namespace init: (exited 55|not permitted here)$/);
    },
  },
  {
    program: 'tracer',
    what: 'a program tracing its children: TRACEME, PEEK/POKEDATA, PTRACE_SYSCALL with a result changed by SETREGS, single steps, TRACEEXIT, SEIZE + INTERRUPT, signals suppressed and delivered, SYSEMU, exec, tracer death, fork/vfork/clone events, seizing a stopped child',
    check: (out) =>
      assert.equal(
        out,
        [
          'traceme: stop signal 19', 'traceme: peeked 11, poked 42', 'traceme: 3 getppid entries, 3 exits', 'traceme: 4 single steps moved',
          'traceme: exit stop 5, event 6, message 0x700', 'traceme: exited 7',
          'seize: interrupt stop 5 event 128', 'seize: signal stop 10, sent by me 1; suppressed', 'seize: signal stop 12; delivered', 'seize: exited 3',
          'sysemu: skipped 1 getpid', 'sysemu: exited 5', 'exec: stop signal 5', 'exec: exited 0', 'death: tracer: exited 0', 'death: tracee: exited 4',
          'follow: exited 77', 'follow: events fork 1 vfork 1 vfork-done 1 clone 1; 3 started stopped', 'follow: exits fork 66 vfork 67; thread seen ending 1; SIGCHLD stops 2',
          'seize stopped: stop 19 event 128, getregs 0', 'seize stopped: killed by 9', '',
        ].join('\n'),
      ),
  },
  {
    program: 'threadexec',
    what: 'exec by a thread other than the main one (which takes over the process id), and by the main thread with other threads asleep',
    check: (out) =>
      assert.equal(
        out,
        'execed from a thread: same pid 1\nexec from a thread: exited 42\nexeced from the main thread: same pid 1\nexec from the main thread: exited 42\n',
      ),
  },
  {
    program: 'pidfd',
    what: 'pidfds: clone and clone3 with CLONE_PIDFD, poll and waitid(P_PIDFD) on them, pidfd_open, pidfd_getfd of a stdout, pidfd_send_signal',
    check: (out) => {
      assert.match(out, /^clone: pid ok 1, pidfd (\d+)\nclone child: poll 1 revents 0x1, waitid 0 code 1 status 5\nclone3: pidfd \d+\nclone3 pidfd_getfd: printed through the child's fd 8\nclone3 child: poll 1 revents 0x1, waitid 0 code 1 status 6\n/);
      assert.match(out, /\npidfd_open: \d+\npidfd_getfd: printed through the child's fd 9\npidfd_send_signal: 0\nkilled child: code 2 status 15\n$/);
    },
  },
  {
    program: 'robust',
    what: "robust mutexes whose owner dies (a thread's exit, a child's SIGKILL or _exit): the next locker gets EOWNERDEAD",
    check: (out) =>
      assert.equal(out, 'after a thread\'s exit: lock EOWNERDEAD\nafter a child\'s SIGKILL: lock EOWNERDEAD\nafter a child\'s _exit: lock EOWNERDEAD\nagain: lock 0\n'),
  },
  {
    program: 'namespaces',
    what: "a thread's own fd table (unshare(CLONE_FILES)) without stdout; a thread joined in a new PID namespace, whose init then ends; another init's fault",
    check: (out) =>
      assert.match(out, /^stdout still open in the main thread\n(PID namespace: not permitted here\n|a faulting init: killed by 11\nin the namespace: pid 1, thread joined\nPID namespace: child exited 0\n)$/),
  },
  {
    program: 'untraced',
    what: 'children made with CLONE_UNTRACED (clone, clone3) are recorded all the same',
    check: (out) => assert.equal(out, "clone: wrote 'c', exited 3\nclone3: wrote 'c', exited 4\nclone3 flags kept: 1\n"),
  },
  {
    program: 'stopcont',
    what: 'SIGSTOP and SIGTSTP stop children until SIGCONT (waitpid WUNTRACED, WCONTINUED), a handled SIGCONT',
    check: (out) => {
      for (const sig of [19, 20]) {
        assert.match(out, new RegExp(`^child stopped by ${sig}\\nchild continued\\nchild exited 5$`, 'm'));
        assert.match(out, new RegExp(`^child continued after signal ${sig}$`, 'm'));
      }
      assert.match(out, /^child handled SIGCONT 1 time\(s\)\ndone\n$/m);
    },
  },
  {
    program: 'killrace',
    what: 'children killed with SIGKILL while their stops are on their way to the tracer, 20 rounds of 10',
    check: (out) => assert.equal(out, 'killed 200 of 200\n'),
  },
];

describe('record and replay of process trees, threads and signals', () => {
  for (const c of cases) {
    test(`${c.program}.c: ${c.what}`, { timeout: TEST_MS }, () => {
      const { program, dir } = build(c.program);
      const argv = [program, ...(c.args ?? [])];
      const native = runNative(argv, { timeout: COMMAND_MS, input: '' });
      assert.equal(native.status, c.status ?? 0, describeRun('the program without tsrr', native));
      c.check(native.stdout.toString());

      const rec = record(dir, argv);
      assert.equal(rec.status, c.status ?? 0, describeRun('record', rec));
      c.check(rec.stdout.toString());
      assertNoneLeft([program, dir]);

      const rep = replay(dir);
      assert.equal(rep.status, 0, describeRun('replay -a', rep));
      assert.ok(
        rep.stdout.equals(rec.stdout),
        `replay printed something else than the recording:\n--- record\n${rec.stdout}\n--- replay\n${rep.stdout}`,
      );
      assertNoneLeft([program, dir]);
    });
  }
});

interface PsRow {
  pid: number;
  ppid: number;
  exit: string;
  cmd: string;
}

/** The rows of `tsrr ps`: a header `PID PPID EXIT CMD`, then one tab-separated row a process. */
function ps(dir: string): PsRow[] {
  const r = tsrr(['ps', dir], { timeout: COMMAND_MS });
  assert.equal(r.status, 0, describeRun('ps', r));
  const out = r.stdout.toString();
  const [header, ...rows] = lines(out);
  assert.deepEqual(header!.split('\t'), ['PID', 'PPID', 'EXIT', 'CMD'], `ps printed:\n${out}`);
  return rows.map((row) => {
    const [pid, ppid, exit, ...cmd] = row.split('\t');
    assert.match(pid ?? '', /^\d+$/, `a PID column is not a number:\n${out}`);
    assert.match(ppid ?? '', /^\d+$/, `a PPID column is not a number:\n${out}`);
    assert.ok(exit !== undefined && cmd.length > 0, `a row has fewer than 4 columns:\n${out}`);
    return { pid: Number(pid), ppid: Number(ppid), exit, cmd: cmd.join('\t') };
  });
}

describe('a trace of fork + execve', () => {
  let program: string;
  let dir: string;
  let recorded: string;

  before(() => {
    ({ program, dir } = build('fork_exec'));
    const rec = record(dir, [program]);
    assert.equal(rec.status, 0, describeRun('record', rec));
    recorded = rec.stdout.toString();
    assert.equal(recorded, 'parent forks\nhello from echo\nchild exited 1 status 0\n');
  });

  /** The row of the child that exec'd /bin/echo. */
  function child(rows: PsRow[]): PsRow {
    const echo = rows.filter((r) => r.cmd.includes('/bin/echo'));
    assert.equal(echo.length, 1, `not exactly one process runs /bin/echo:\n${JSON.stringify(rows, null, 1)}`);
    return echo[0]!;
  }

  test('tsrr ps lists the parent and the child that exec\'d /bin/echo', { timeout: TEST_MS }, () => {
    const rows = ps(dir);
    const info = JSON.stringify(rows, null, 1);
    assert.ok(rows.length >= 2, `ps lists fewer than 2 processes:\n${info}`);
    assert.equal(new Set(rows.map((r) => r.pid)).size, rows.length, `a pid is listed twice:\n${info}`);
    const root = rows.find((r) => r.cmd.includes(program));
    assert.ok(root, `no process runs ${program}:\n${info}`);
    assert.equal(root.exit, '0', `the parent's exit status:\n${info}`);
    const echo = child(rows);
    assert.notEqual(echo.pid, root.pid);
    assert.equal(echo.ppid, root.pid, `the child's parent is not the recorded program:\n${info}`);
    assert.equal(echo.exit, '0', `echo's exit status:\n${info}`);
    assert.match(echo.cmd, /\/bin\/echo hello from echo/);
  });

  const reached: Record<string, number> = {};
  for (const option of ['-f', '-p']) {
    test(`replay -a ${option} CHILD stops at the child ${option === '-f' ? 'being forked' : 'exec\'ing'}`, { timeout: TEST_MS }, () => {
      const pid = child(ps(dir)).pid;
      const r = replay(dir, [option, String(pid)]);
      assert.equal(r.status, 0, describeRun(`replay -a ${option} ${pid}`, r));
      const m = /^tsrr: reached event (\d+)\n$/.exec(r.stderr);
      assert.ok(m, `stderr is not "tsrr: reached event N":\n${r.stderr}`);
      const event = Number(m[1]);
      assert.ok(event > 1, `the child appears at event ${event}, before the parent's own exec`);
      // By then the parent had printed its first line, and echo not yet.
      assert.equal(r.stdout.toString(), 'parent forks\n', `replay ${option} printed up to the child:\n${r.stdout}`);
      reached[option] = event;
      if (reached['-f'] !== undefined && reached['-p'] !== undefined) {
        assert.ok(reached['-f'] <= reached['-p'], `the child's fork (event ${reached['-f']}) comes after its exec (event ${reached['-p']})`);
      }
    });
  }
});

test('the recording ends with the first process, killing what it left running; record -w waits for every process', { timeout: TEST_MS }, () => {
  const { program, dir } = build('orphan');
  const rec = record(dir, [program]);
  assert.equal(rec.status, 0, describeRun('record', rec));
  assert.equal(rec.stdout.toString(), 'parent done\n');
  assertNoneLeft([program, dir]);
  const rep = replay(dir);
  assert.equal(rep.status, 0, describeRun('replay', rep));
  assert.equal(rep.stdout.toString(), 'parent done\n');
  const all = `${dir}-all`;
  const waited = tsrr(['record', '-w', '-o', all, program], { timeout: COMMAND_MS, input: '' });
  assert.equal(waited.status, 0, describeRun('record -w', waited));
  assert.equal(waited.stdout.toString(), 'parent done\nlate child\n');
  const rep2 = replay(all);
  assert.equal(rep2.status, 0, describeRun('replay of record -w', rep2));
  assert.equal(rep2.stdout.toString(), 'parent done\nlate child\n');
  assertNoneLeft([program, dir]);
});

test('kill -9 of every process of a traced tree leaves a trace that replays, and no process', { timeout: TEST_MS }, async () => {
  const { program, dir } = build('fork_sleepers');
  const rec = start(['record', '-o', dir, program]);
  try {
    const out = () => rec.stdout().toString();
    const info = () => `stdout so far:\n${out()}\nstderr so far:\n${rec.stderr()}`;
    // Every process has started and ticked a few times.
    await waitFor('the four processes to run', () => ['parent', 'child 0', 'child 1', 'child 2'].every((w) => out().includes(`${w} tick 3\n`)), 20_000, info);
    const printed = [...out().matchAll(/^(?:parent|child \d) pid (\d+) started$/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
    // tsrr's own command line names the program too.
    const tracees = processesOf(program)
      .map((p) => p.pid)
      .filter((pid) => pid !== rec.child.pid)
      .sort((a, b) => a - b);
    assert.deepEqual(tracees, printed, `the processes running ${program} are not those it printed\n${info()}`);
    for (const pid of tracees) process.kill(pid, 'SIGKILL');

    const end = await within(rec.exited, 10_000);
    assert.ok(end, `tsrr record did not exit within 10 s of its tracees being killed\n${info()}`);
    assert.deepEqual({ code: end.code, signal: end.signal }, { code: 128 + 9, signal: null }, `tsrr record, its program killed by SIGKILL\n${info()}`);
    assert.ok(await within(rec.closed, 2000), `tsrr's stdout stayed open after it exited: something still holds it\n${info()}`);
    assertNoneLeft([program, dir]);

    const recorded = lines(out());
    const rep = replay(dir);
    assert.equal(rep.status, 0, describeRun('replay -a', rep));
    // A process killed inside a write may have written its line without the recorder seeing the
    // write end: replay may miss that line (one a process), nothing else, and adds nothing.
    const replayed = lines(rep.stdout.toString());
    let at = 0;
    for (const line of replayed) {
      while (at < recorded.length && recorded[at] !== line) at++;
      assert.ok(at < recorded.length, `replay printed a line the recording did not (or out of order): ${line}\n--- replay\n${rep.stdout}`);
      at++;
    }
    assert.ok(recorded.length - replayed.length <= 4, `replay printed ${replayed.length} lines, the recording ${recorded.length}\n--- replay\n${rep.stdout}`);
    assertNoneLeft([program, dir]);
  } finally {
    cleanup(rec);
  }
});

test('a storm of 10000 SIGUSR1 sent from outside during record replays the same count', { timeout: TEST_MS }, async () => {
  const { program, dir } = build('sigstorm');
  const rec = start(['record', '-o', dir, program]);
  try {
    const out = () => rec.stdout().toString();
    const info = () => `stdout so far:\n${out()}\nstderr so far:\n${rec.stderr()}`;
    await waitFor('the program to be ready', () => /^pid \d+\nready\n/.test(out()), 20_000, info);
    const pid = Number(/^pid (\d+)/.exec(out())![1]);
    assert.ok(processesOf(program).some((p) => p.pid === pid), `pid ${pid}, printed by the program, does not run ${program}\n${info()}`);
    for (let i = 0; i < 10_000; i++) process.kill(pid, 'SIGUSR1');
    process.kill(pid, 'SIGUSR2');

    const end = await within(rec.exited, 30_000);
    assert.ok(end, `tsrr record did not exit within 30 s of SIGUSR2\n${info()}`);
    assert.deepEqual({ code: end.code, signal: end.signal }, { code: 0, signal: null }, `tsrr record\n${info()}`);
    await within(rec.closed, 2000);
    const recorded = rec.stdout();
    const m = /^pid \d+\nready\nSIGUSR1 handled (\d+) times\n$/.exec(recorded.toString());
    assert.ok(m, `unexpected output:\n${recorded}`);
    const count = Number(m[1]);
    assert.ok(count >= 1 && count <= 10_000, `SIGUSR1 handled ${count} times`);
    assertNoneLeft([program, dir]);

    const rep = replay(dir);
    assert.equal(rep.status, 0, describeRun('replay -a', rep));
    assert.ok(rep.stdout.equals(recorded), `replay printed something else than the recording:\n--- record\n${recorded}\n--- replay\n${rep.stdout}`);
    assertNoneLeft([program, dir]);
  } finally {
    cleanup(rec);
  }
});

test('Ctrl-C at the terminal reaches the program, which handles it; the trace replays it', { timeout: 60_000 }, async () => {
  const { program, dir } = setUp('ctrl_c');
  // Its own process group, as a terminal's foreground job: SIGINT goes to tsrr and the tracee.
  const rec = start(['record', '-o', dir, program], { detached: true });
  try {
    const info = () => `stdout:\n${rec.stdout()}\nstderr:\n${rec.stderr()}`;
    await waitFor('the program to start', () => rec.stdout().toString() === 'ready\n', 15_000, info);
    process.kill(-rec.child.pid!, 'SIGINT');
    const end = await within(rec.exited, 15_000);
    assert.ok(end, `tsrr record did not exit\n${info()}`);
    assert.deepEqual({ code: end.code, out: rec.stdout().toString() }, { code: 0, out: 'ready\ngot SIGINT\n' }, info());
    const rep = tsrr(['replay', '-a', dir], { timeout: 30_000, input: '' });
    assert.equal(rep.status, 0, describeRun('replay -a', rep));
    assert.equal(rep.stdout.toString(), 'ready\ngot SIGINT\n');
    assertNoneLeft([program, dir]);
  } finally {
    cleanup(rec);
  }
});

test('replay reaps the processes it ran: none is left a zombie for init to reap', { timeout: TEST_MS }, () => {
  const tmp = freshDir();
  // A name of its own (a zombie has no command line or executable left, only this name).
  const name = `zb${process.pid}`.slice(0, 15);
  const program = join(tmp, name);
  copyFileSync(compile('fork_pipe'), program);
  const dir = join(tmp, 'trace');
  const rec = record(dir, [program]);
  assert.equal(rec.status, 0, describeRun('record', rec));
  for (let i = 0; i < 3; i++) {
    const rep = replay(dir);
    assert.equal(rep.status, 0, describeRun('replay -a', rep));
    const zombies = readdirSync('/proc').filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        return stat.includes(`(${name}) Z`);
      } catch {
        return false;
      }
    });
    assert.deepEqual(zombies, [], `replay ${i + 1} left zombies of ${name}`);
  }
});
