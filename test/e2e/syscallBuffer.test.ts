// SPDX-License-Identifier: MIT
/**
 * In-process syscall buffering (native/preload.c, core/syscallBuffer.ts): clocks.c reads clocks
 * and ids by the thousand from threads, a forked child and a SIGALRM handler that interrupts
 * them every millisecond; filecalls.c does the same with reads, writes, seeks and stats of a
 * file and quiet devices, between pipes (which must stop) and dup2s. Recorded with buffering,
 * most calls are in `buffered` events and replay prints what the recording printed and reads
 * what the recording read; with -n there are none. stdout, even when it is a file, stops. A static program records
 * without the library. A checkpoint taken by gdb while results wait in a thread's buffer
 * restores and replays exactly, in memory and from disk. The record/replay suites run again
 * with -n.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertLines, hasGdb, underGdb } from './gdb.js';
import { NR } from '../../native/syscalls.js';
import { CLI, ROOT, assertNoneLeft, bytesWritten, compile, describeRun, dumpEvents, tempDir, tsrr } from './helpers.js';

const DEVNULL = join(ROOT, 'test', 'fixtures', 'pcp', 'devnull-monitor.mjs');
let tmp: string;
let clocks: string;
let filecalls: string;
let traces = 0;

function record(program: string, args: string[], flags: string[] = []): { dir: string; stdout: string } {
  const dir = join(tmp, `trace${traces++}`);
  const r = tsrr(['record', ...flags, '-o', dir, program, ...args]);
  assert.equal(r.status, 0, describeRun('record', r));
  return { dir, stdout: r.stdout.toString() };
}

function replays(dir: string, stdout: string): void {
  const r = tsrr(['replay', '-a', dir]);
  assert.equal(r.status, 0, describeRun('replay', r));
  assert.equal(r.stdout.toString(), stdout);
}

const kinds = (dir: string) => dumpEvents(dir).map((e) => e.kind);
const literally = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

describe('syscall buffering', () => {
  before(() => {
    tmp = tempDir('tsrr-syscallbuf-');
    clocks = compile('clocks', ['-pthread']);
    filecalls = compile('filecalls', ['-pthread']);
  });

  test('buffered calls from threads, a child and signal handlers replay exactly', () => {
    for (let i = 0; i < 3; i++) {
      const { dir, stdout } = record(clocks, ['20000']);
      assert.match(stdout, /^sum \d+ child \d+ alarms \d+ alarm_sum \d+ pid \d+\n$/);
      const k = kinds(dir);
      const buffered = k.filter((x) => x === 'buffered').length;
      const syscalls = k.filter((x) => x === 'syscall').length;
      // 5 calls per iteration, 20000 + 3 * 5000 + 5000 iterations: nearly all buffered.
      assert.ok(buffered > 10 && syscalls < 20_000, `${buffered} buffered events, ${syscalls} syscall events`);
      replays(dir, stdout);
    }
  });

  test('record -n: every call stops, and the trace replays', () => {
    const { dir, stdout } = record(clocks, ['2000'], ['-n']);
    const k = kinds(dir);
    assert.equal(k.filter((x) => x === 'buffered').length, 0);
    assert.ok(k.filter((x) => x === 'syscall').length > 10_000);
    replays(dir, stdout);
  });

  test('file calls on regular files and quiet devices are buffered, pipes and stdout stop, and replay gives back every byte', () => {
    const work = tempDir('tsrr-filecalls-');
    for (let i = 0; i < 2; i++) {
      const { dir, stdout } = record(filecalls, [work, '3000']);
      const m = /^fds (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)\nline 0\nline 1000\nline 2000\nsum \d+ alarm_sum \d+\n$/.exec(stdout);
      assert.ok(m, stdout);
      const [file, zero, urandom, devnull, pipeIn, pipeOut] = m.slice(1).map(Number) as [number, number, number, number, number, number];
      const events = dumpEvents(dir);
      const calls = events.flatMap((e) => e.calls ?? []);
      const count = (nr: number, fd?: number) => calls.filter((c) => c.number === nr && c.fd === fd).length;
      // 3000 rounds in the main thread, 1500 in the other; the SIGALRM handler's come on top.
      for (const [what, nr, fd] of [['read', NR.read, file], ['pread64', NR.pread64, file], ['pwrite64', NR.pwrite64, file], ['lseek', NR.lseek, file], ['fstat', NR.fstat, file], ['read', NR.read, zero], ['read', NR.read, urandom], ['write', NR.write, devnull], ['stat', NR.stat, undefined], ['lstat', NR.lstat, undefined], ['newfstatat', NR.newfstatat, undefined], ['statx', NR.statx, undefined], ['readlink', NR.readlink, undefined], ['lgetxattr', NR.lgetxattr, undefined], ['poll', NR.poll, undefined]] as const) {
        assert.ok(count(nr, fd) >= 4000, `${count(nr, fd)} buffered ${what} on fd ${fd}`);
      }
      // The pipe's fd is buffered only while dup2 makes it the file (a pread each time).
      assert.deepEqual([...new Set(calls.filter((c) => c.fd === pipeIn || c.fd === pipeOut).map((c) => c.number))], [NR.pread64]);
      assert.equal(calls.filter((c) => c.fd === 1).length, 0, 'stdout is not buffered');
      const syscalls = events.filter((e) => e.kind === 'syscall');
      const plain = (nr: number, fd: number) => syscalls.filter((e) => e.number === nr && Number(e.args![0]) === fd).length;
      assert.deepEqual([plain(NR.write, pipeOut), plain(NR.read, pipeIn), plain(NR.write, 1)], [3, 3, 5]);
      // The reads too big for the buffer.
      assert.equal(syscalls.filter((e) => e.number === NR.pread64 && Number(e.args![2]) > 512 * 1024).length, 3);
      replays(dir, stdout);
    }
    const { dir, stdout } = record(filecalls, [work, '300'], ['-n']);
    assert.equal(kinds(dir).filter((x) => x === 'buffered').length, 0);
    replays(dir, stdout);
  });

  test('buffered writes reach a monitor that watches their fd on replay, those a held signal waited for too', () => {
    const work = tempDir('tsrr-filecalls-');
    // A held signal (PRCTL_UNLOCKED right after the stretch) that waited for a write to
    // /dev/null: the library then tells of the write first, then of the signal.
    let dir = '';
    let devnull = 0;
    let events: ReturnType<typeof dumpEvents> = [];
    for (let i = 0; i < 3; i++) {
      const run = record(filecalls, [work, '3000']);
      dir = run.dir;
      devnull = Number(/^fds \d+ \d+ \d+ (\d+)/.exec(run.stdout)![1]);
      events = dumpEvents(dir);
      const both = events.some((e, k) => e.calls?.at(-1)?.number === NR.write && e.calls.at(-1)!.fd === devnull && events[k + 1]?.kind === 'syscall' && events[k + 1]!.number === NR.prctl);
      if (both) break;
    }
    const log = join(tmp, 'devnull.json');
    const r = tsrr(['--plugin', 'pcp', '--plugin', DEVNULL, 'replay', '-a', dir], { env: { ...process.env, DEVNULL_LOG: log } });
    assert.equal(r.status, 0, describeRun('replay with a monitor on /dev/null', r));
    // Replay does not run a stretch of user code that ended in a preemption or an asynchronous
    // signal: it puts in the snapshot the recording took there. The writes of such a stretch
    // reach no monitor; every other one does, once.
    const replaced = (k: number) => {
      const next = events.slice(k + 1).find((e) => e.tid === events[k]!.tid);
      return next?.kind === 'preempt' || (next?.kind === 'signal' && next.snapshot !== undefined);
    };
    const unseen = events.reduce((n, e, k) => (e.kind === 'buffered' && replaced(k) ? n + bytesWritten([e], devnull, e.frame - 1, e.frame) : n), 0);
    const written = bytesWritten(events, devnull, 0, events.at(-1)!.frame);
    // Most writes are seen (how many stretches a preemption ends depends on the machine's load).
    assert.ok(written > 4000 * 8 && written - unseen > written / 2, `${written} bytes written to /dev/null, ${unseen} in replaced stretches`);
    assert.deepEqual(JSON.parse(readFileSync(log, 'utf8')), { [devnull]: written - unseen });
  });

  test('output to a stdout that is a file is not buffered: replay prints it', () => {
    const dir = join(tmp, `trace${traces++}`);
    const out = join(tmp, 'stdout.txt');
    const fd = openSync(out, 'w');
    try {
      const r = spawnSync(process.execPath, [CLI, 'record', '-o', dir, filecalls, tempDir('tsrr-filecalls-'), '1500'], { stdio: ['ignore', fd, 'pipe'], timeout: 60_000 });
      assert.equal(r.status, 0, String(r.stderr));
    } finally {
      closeSync(fd);
    }
    const printed = readFileSync(out, 'utf8');
    assert.match(printed, /^fds .*\nline 0\nline 1000\nsum \d+ alarm_sum \d+\n$/);
    replays(dir, printed);
  });

  test('a statically linked program records without the library', () => {
    const exe = join(tmp, 'clocks-static');
    const cc = spawnSync('gcc', ['-O1', '-static', '-pthread', '-o', exe, join(ROOT, 'test', 'programs', 'clocks.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const { dir, stdout } = record(exe, ['500']);
    assert.equal(kinds(dir).filter((x) => x === 'buffered').length, 0);
    replays(dir, stdout);
  });

  test('a gdb checkpoint with results waiting in the buffer restores exactly, in memory and from disk', { skip: hasGdb ? false : 'gdb is not installed' }, async () => {
    // No timer: replay runs the whole loop (a stretch that a signal ends is replaced by its
    // snapshot, and a debugger cannot stop inside it).
    const { dir, stdout } = record(clocks, ['3000', '0']);
    const gdb = (commands: string[]) => underGdb(dir, commands, { tsrrArgs: ['--plugin', 'pcp', '--plugin', 'gdbserver'], dir: tmp });
    // In the loop of reads(), between buffered calls: the thread's buffer holds the results of
    // the rest of the stretch.
    const first = await gdb(['break clocks.c:31 if i == 1500', 'continue', 'print i', 'checkpoint', 'delete', 'continue', 'restart 1', 'print i', 'continue', 'restart 1', 'write-checkpoints']);
    assert.equal(first.status, 0, describeRun('gdb', first));
    const output = literally(stdout);
    assertLines(first.out, [/\$1 = 1500/, /Checkpoint 1 at event \d+\./, output, /(?:Program|Thread \d+) received signal SIGKILL/, /\$2 = 1500/, output, /(?:Program|Thread \d+) received signal SIGKILL/, /checkpoint 1: written to/]);
    const second = await gdb(['load-checkpoints', 'restart 1', 'print i', 'continue']);
    assert.equal(second.status, 0, describeRun('gdb', second));
    assertLines(second.out, [/Checkpoint 1 at event \d+ \(part way to the next\)\./, /\$1 = 1500/, output, /(?:Program|Thread \d+) received signal SIGKILL/]);
    assertNoneLeft([dir]);
  });

  test('the record and replay suites pass without buffering too (record -n)', { timeout: 900_000 }, () => {
    const suites = ['recordReplay', 'processTree'].map((s) => join(ROOT, 'dist', 'test', 'e2e', `${s}.test.js`));
    const env: NodeJS.ProcessEnv = { ...process.env, TSRR_TEST_RECORD_FLAGS: '-n' };
    delete env.NODE_TEST_CONTEXT; // a test runner of its own, not a child of this one
    const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...suites], { encoding: 'utf8', env, timeout: 850_000 });
    const failed = r.stdout.split('\n').filter((l) => /^\s*not ok/.test(l));
    assert.equal(r.status, 0, `with -n: ${failed.join('\n')}\n${r.stdout.slice(-4000)}\n${r.stderr}`);
    assert.match(r.stdout, /# fail 0/);
  });
});
