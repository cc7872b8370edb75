// SPDX-License-Identifier: MIT
/**
 * Record and replay of single-process, single-threaded programs: each case compiles a program
 * from test/programs (or uses a system tool), records it, replays it on autopilot and checks that
 * the recording kept the program's exit status, that replay reproduced its stdout byte for byte
 * and reported success, plus a check of its own (that the output is what the program should
 * print, or that two runs without tsrr differ, which shows the case could fail).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { compile, describeRun, runNative, tempDir, tsrr, type Run } from './helpers.js';

interface Setup {
  argv: string[];
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Runs after recording, before replay. */
  between?: () => void;
  /** The case's own check of the recorded output. */
  check?: (recorded: Buffer) => void;
}

interface Case {
  name: string;
  /** Builds the command line (and any files it needs). */
  setup: () => Setup;
  status?: number;
}

/** FNV-1a, as the C programs compute it. */
function fnv1a(b: Buffer): string {
  let h = 2166136261;
  for (const x of b) h = Math.imul(h ^ x, 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Asserts that two runs of `argv` without tsrr print different things: the value is really
 * nondeterministic, so a replay that ran it again instead of replaying it would be caught. */
function assertNondeterministic(argv: string[]): void {
  const a = runNative(argv);
  const b = runNative(argv);
  assert.equal(a.status, 0, describeRun('native run', a));
  assert.notDeepEqual(a.stdout, b.stdout, `two runs of ${argv.join(' ')} without tsrr printed the same:\n${a.stdout}`);
}

const lines = (b: Buffer) => b.toString().trimEnd().split('\n');

const cases: Case[] = [
  {
    name: 'time.c: clock_gettime, time, gettimeofday (vDSO)',
    setup: () => {
      const exe = compile('time');
      const before = Date.now();
      return {
        argv: [exe],
        check: (out) => {
          const m = /^realtime (\d+)\.(\d{9})\nmonotonic \d+\.\d{9}\ntime (\d+)\ngettimeofday (\d+)\.\d{6}\n(no vsyscall page\n|vsyscall gettimeofday 0 (\d+)\.\d{6} tz \d+ \d+\nvsyscall time (\d+) (\d+)\nvsyscall getcpu 0 (\d+) (\d+)\n)$/.exec(out.toString());
          assert.ok(m, `unexpected output:\n${out}`);
          const realtimeMs = Number(m[1]) * 1000 + Number(m[2]) / 1e6;
          assert.ok(Math.abs(realtimeMs - before) < 60_000, `realtime ${realtimeMs} is far from the test's clock ${before}`);
          if (m[6] !== undefined) {
            // Through the vsyscall page: the same clock, and a CPU of this machine.
            for (const sec of [m[6], m[7]]) assert.ok(Math.abs(Number(sec) - Number(m[1])) <= 2, `vsyscall seconds ${sec} vs realtime ${m[1]}`);
            assert.equal(m[7], m[8]);
            assert.ok(Number(m[9]) < availableParallelism() && Number(m[10]) < 64, `vsyscall getcpu: cpu ${m[9]} node ${m[10]}`);
          }
          assertNondeterministic([exe]);
        },
      };
    },
  },
  {
    name: 'rdtsc.c: rdtsc and rdtscp',
    setup: () => {
      const exe = compile('rdtsc');
      return {
        argv: [exe],
        check: (out) => {
          const values = lines(out).filter((l) => /^rdtscp? /.test(l)).map((l) => BigInt(l.split(' ')[1]!));
          assert.equal(values.length, 8, `unexpected output:\n${out}`);
          for (let i = 1; i < values.length; i++) assert.ok(values[i]! >= values[i - 1]!, `the time stamp counter went backwards:\n${out}`);
          assertNondeterministic([exe]);
        },
      };
    },
  },
  {
    name: 'tscsites.c: rdtsc in code mapped by mmap, mprotect and mremap, in a child and a thread, with SIGILL blocked or ignored, and PR_SET_TSC',
    setup: () => {
      const exe = compile('tscsites', ['-lpthread']);
      return {
        argv: [exe],
        check: (out) => {
          const text = out.toString();
          for (const where of ['main rdtsc', 'main rdtscp', 'mmap copy', 'mprotect copy', 'mremap copy', 'child', 'thread', 'SIGILL blocked', 'SIGILL ignored', 'enabled again']) {
            assert.match(text, new RegExp(`^${where} \\d+$`, 'm'), `no value read at "${where}":\n${text}`);
          }
          assert.match(text, /^SIGILL still blocked 1\nSIGILL ignored \d+\nSIGILL still ignored 1\nSIGSEGV at rdtsc\n/m);
          assert.match(text, /^grew 1$/m);
          assertNondeterministic([exe]);
        },
      };
    },
  },
  {
    name: 'random.c: getrandom, /dev/urandom, AT_RANDOM, getpid',
    setup: () => {
      const exe = compile('random');
      return {
        argv: [exe],
        check: (out) => {
          assert.match(out.toString(), /^getrandom [0-9a-f]{64}\nurandom [0-9a-f]{64}\nat_random [0-9a-f]{32}\npid \d+\n$/);
          assertNondeterministic([exe]);
        },
      };
    },
  },
  {
    name: 'fileio.c: open, read, write, pread, pwrite, lseek, fstat, getdents64, rename, unlink',
    setup: () => {
      const dir = join(tempDir(), 'files');
      mkdirSync(dir);
      return {
        argv: [compile('fileio'), dir],
        // Replay must not need the directory: the program's file syscalls are not run again.
        between: () => rmSync(dir, { recursive: true, force: true }),
        check: (out) =>
          assert.equal(
            out.toString(),
            [
              'position after write 25',
              'read 25: HELLO, record and replay',
              'pread 6: record',
              'end 25',
              'size 25 regular 1',
              'entries: . .. a.txt c.txt',
              'entries: . .. b.txt c.txt',
              'entries: . .. b.txt',
              'renamed file 25: HELLO, record and replay',
              'open missing: 1',
              'entries: . ..',
              '',
            ].join('\n'),
          ),
      };
    },
  },
  {
    name: 'mmapfile.c: a private read-only file mapping, the file rewritten and deleted before replay',
    setup: () => {
      const file = join(tempDir(), 'mapped.txt');
      const content = `the recorded content ${randomBytes(8).toString('hex')}\n`.repeat(300);
      writeFileSync(file, content);
      return {
        argv: [compile('mmapfile'), file],
        between: () => {
          writeFileSync(file, 'different content, of another length\n'.repeat(50));
          rmSync(file);
        },
        check: (out) => assert.equal(out.toString(), `size ${content.length} checksum ${fnv1a(Buffer.from(content))}\n${content}`),
      };
    },
  },
  {
    name: 'anonmem.c: mmap, mprotect, mremap, brk, a large malloc',
    setup: () => ({
      argv: [compile('anonmem')],
      check: (out) => {
        const l = lines(out);
        assert.equal(l.length, 5, `unexpected output:\n${out}`);
        assert.match(l[2]!, /^mremap 0x[0-9a-f]+ moved 1 checksum/);
        assert.match(l[3]!, /^brk 0x[0-9a-f]+ grew 1048576 checksum/);
        // The contents are fixed: only the addresses may differ from a run without tsrr.
        const native = runNative([compile('anonmem')]);
        const sums = (b: Buffer) => lines(b).map((x) => x.replace(/0x[0-9a-f]+/g, 'ADDR'));
        assert.deepEqual(sums(out), sums(native.stdout));
      },
    }),
  },
  {
    name: 'cpuid.c: leaves 0, 1, 7',
    setup: () => {
      const exe = compile('cpuid');
      return {
        argv: [exe],
        check: (out) => {
          const l = lines(out);
          assert.equal(l.length, 3, `unexpected output:\n${out}`);
          assert.equal(l[0], lines(runNative([exe]).stdout)[0], 'cpuid leaf 0 (vendor) differs from a run without tsrr');
        },
      };
    },
  },
  {
    name: 'stdin.c: reads stdin when recording, not when replaying',
    setup: () => ({
      argv: [compile('stdin')],
      input: 'some text\n',
      check: (out) => assert.equal(out.toString(), `stdin 10 bytes checksum ${fnv1a(Buffer.from('some text\n'))}\n`),
    }),
  },
  {
    name: 'exit3.c: exit status 3',
    status: 3,
    setup: () => ({
      argv: [compile('exit3')],
      check: (out) => assert.equal(out.toString(), 'exiting with status 3\n'),
    }),
  },
  {
    name: 'ls -la /usr/bin',
    setup: () => ({
      argv: ['/bin/ls', '-la', '/usr/bin'],
      check: (out) => {
        const l = lines(out);
        assert.match(l[0]!, /^total \d+/);
        assert.ok(l.length > 10, `only ${l.length} lines:\n${out}`);
      },
    }),
  },
  {
    name: 'python3: random.random(), time.time()',
    setup: () => {
      const argv = ['/usr/bin/python3', '-c', 'import random,time; print(random.random(), time.time())'];
      return {
        argv,
        check: (out) => {
          assert.match(out.toString(), /^0\.\d+ \d+\.\d+\n$/);
          assertNondeterministic(argv);
        },
      };
    },
  },
  {
    name: 'kernelwrites.c: output of failing calls, ioctl families, IPC control, prctl getters, bpf maps',
    setup: () => ({
      argv: [compile('kernelwrites')],
      check: (out) => {
        const text = out.toString();
        // Each line is a call and the hash of its buffer; the interesting calls ran.
        assert.match(text, /^futex WAKE_OP woke 0, word 7$/m);
        for (const call of ['capget probe', 'nanosleep interrupted', 'TCGETS', 'FIONREAD', 'msgrcv', 'semctl GETALL', 'waitid bad pidfd']) {
          assert.match(text, new RegExp(`^${call} +result`, 'm'));
        }
        assert.match(text, /^nanosleep interrupted +result -1 +errno 4 /m);
        // An ioctl tsrr cannot describe fails with EINVAL, in record and replay alike.
        assert.match(text, /^unknown terminal ioctl +result -1 +errno 22 /m);
      },
    }),
  },
  {
    name: 'segvmask.c: SIGSEGV blocked, ignored or handled across the SIGSEGVs of trapped cpuid and rdtsc (and an exec\'s)',
    setup: () => {
      const exe = compile('segvmask');
      const expected = [
        'after exec (blocked): blocked 1, default',
        'after exec (ignored): blocked 0, ignored',
        'after cpuid and rdtsc: blocked 1, handler (tsc 1)',
        'the handler took a real fault: handler',
        '',
      ].join('\n');
      return {
        argv: [exe],
        check: (out) => {
          assert.equal(runNative([exe]).stdout.toString(), expected, 'the program itself is wrong');
          assert.equal(out.toString(), expected);
        },
      };
    },
  },
  {
    name: 'affinity.c: a change of CPU affinity leaves the tracee on the CPU it is bound to',
    setup: () => ({
      argv: [compile('affinity')],
      check: (out) => assert.equal(out.toString(), 'setaffinity 0, unchanged 1\n'),
    }),
  },
  {
    name: 'sort of 20000 random lines',
    setup: () => {
      const file = join(tempDir(), 'lines.txt');
      const input = Array.from({ length: 20000 }, (_, i) => `${randomBytes(6).toString('hex')} ${i}\n`);
      writeFileSync(file, input.join(''));
      return {
        argv: ['/usr/bin/sort', file],
        env: { ...process.env, LC_ALL: 'C' },
        check: (out) => assert.ok(out.equals(Buffer.from(input.sort().join(''))), 'sort printed something else than the sorted lines'),
      };
    },
  },
];

for (const c of cases) {
  test(c.name, { timeout: 20_000 }, () => {
    const s = c.setup();
    const trace = join(tempDir(), 'trace');
    const opts = s.env ? { env: s.env } : {};
    const record: Run = tsrr(['record', '-o', trace, ...s.argv], { ...opts, input: s.input ?? '' });
    assert.equal(record.status, c.status ?? 0, describeRun('record', record));
    s.between?.();
    const replay: Run = tsrr(['replay', '-a', trace], { ...opts, input: '' });
    assert.equal(replay.status, 0, describeRun('replay', replay));
    assert.ok(record.stdout.length > 0, 'the program printed nothing');
    assert.ok(
      replay.stdout.equals(record.stdout),
      `replay printed something else than the recording:\n--- record\n${record.stdout}\n--- replay\n${replay.stdout}`,
    );
    s.check?.(record.stdout);
  });
}
