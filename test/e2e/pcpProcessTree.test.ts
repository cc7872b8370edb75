// SPDX-License-Identifier: MIT
/**
 * Persistent checkpoints of process trees and threads. Each program is recorded once and
 * checkpointed along its trace (create-checkpoints); then, from each checkpoint alone, a replay
 * to the end prints exactly what the replay from the start printed after that event, and a
 * replay to a couple of events past it leaves every task with the registers, and every process
 * with the memory, that the replay from the start has there (the state-dumper fixture). The
 * checkpoints hold several processes, several threads, and tasks blocked in syscalls.
 */
import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readState } from '../../plugins/pcp/checkpointFormat.js';
import { BIND_NOW, ROOT, assertNoneLeft, bytesWritten, compile, describeRun, dumpEvents, tempDir, tsrr, type DumpEvent, type Run } from './helpers.js';

const PCP = ['--plugin', 'pcp'];
const DUMPER = join(ROOT, 'test', 'fixtures', 'pcp', 'state-dumper.mjs');
/** Checkpoints per trace, about. */
const CHECKPOINTS = 5;
const PAST = 2;

interface Case {
  program: string;
  args?: string[];
  what: string;
  /** What some checkpoint must hold: processes, and threads in one process. */
  processes?: number;
  threads?: number;
}

const cases: Case[] = [
  { program: 'threads_condvar', what: '4 threads with a mutex and a condition variable; the main thread waits in pthread_join', threads: 5 },
  { program: 'fork_pipe', what: 'a parent blocked reading a pipe its child writes to', processes: 2 },
  { program: 'race', args: ['100000000'], what: 'two threads racing on a counter, preempted in the middle of their loops', threads: 3 },
  { program: 'sigchld', what: 'children ending while the parent waits in sigsuspend', processes: 2 },
  { program: 'fork_exec', what: 'a child that execs /bin/echo', processes: 2 },
  { program: 'epoll', what: 'epoll over eventfds written by a child and a thread, and a timerfd', processes: 2, threads: 2 },
  { program: 'sharedwrites', what: 'a deleted file mapped shared by a parent and its child (and privately by the parent), changed under the mappings', processes: 2 },
];

describe('persistent checkpoints of process trees and threads', () => {
  let tmp: string;
  before(() => {
    tmp = realpathSync(tempDir('tsrr-pcp-tree-'));
  });

  for (const c of cases) {
    describe(`${c.program}.c: ${c.what}`, () => {
      let trace: string;
      let events: DumpEvent[];
      let last: number;
      let fullOut: Buffer;
      let frames: number[];

      /** Bytes written to fd 1 by events in (0, frame]: what the replay printed by then. */
      const printedBy = (frame: number) => bytesWritten(events, 1, 0, frame);

      before(() => {
        const program = compile(c.program, ['-pthread', ...BIND_NOW]);
        trace = join(tmp, c.program);
        const rec = tsrr(['record', '-o', trace, program, ...(c.args ?? [])], { input: '' });
        assert.equal(rec.status, 0, describeRun('record', rec));
        const full = tsrr(['replay', '-a', trace]);
        assert.equal(full.status, 0, describeRun('replay from the start', full));
        assert.ok(full.stdout.equals(rec.stdout), 'the replay prints what the recording printed');
        fullOut = full.stdout;
        events = dumpEvents(trace);
        last = events.at(-1)!.frame;
        assert.equal(printedBy(last), fullOut.length, 'the writes to fd 1 in the trace add up to the output');
        const interval = Math.max(1, Math.floor(last / (CHECKPOINTS + 1)));
        const made = tsrr([...PCP, 'create-checkpoints', '-i', String(interval), trace]);
        assert.equal(made.status, 0, describeRun('create-checkpoints', made));
        const list = tsrr([...PCP, 'checkpoints', '--json', trace]);
        frames = (JSON.parse(list.stdout.toString()) as { event: number }[]).map((r) => r.event);
      });

      test('create-checkpoints saves several multi-task states', () => {
        assert.ok(frames.length >= 3, `only ${frames.length} checkpoints: ${frames.join(' ')}`);
        const states = frames.map((f) => readState(join(trace, 'checkpoints', String(f), 'state')));
        const most = (n: (s: (typeof states)[number]) => number) => Math.max(...states.map(n));
        if (c.processes) assert.ok(most((s) => s.processes.length) >= c.processes, `no checkpoint holds ${c.processes} processes`);
        if (c.threads) assert.ok(most((s) => Math.max(...s.processes.map((p) => p.threads.length))) >= c.threads, `no checkpoint holds a process with ${c.threads} threads`);
        // Each thread is saved with its own id, and ids are unique.
        for (const s of states) {
          const ids = s.processes.flatMap((p) => p.threads.map((t) => t.tid));
          assert.equal(new Set(ids).size, ids.length, `duplicate task ids ${ids.join(' ')}`);
          assert.ok(ids.every((id) => id > 0));
        }
      });

      test('from each checkpoint alone, a replay to the end prints the rest of the output', async (t: TestContext) => {
        for (const f of frames) {
          await t.test(`from ${f}`, () => {
            const copy = join(tmp, `${c.program}-only-${f}`);
            cpSync(trace, copy, { recursive: true });
            try {
              const others = frames.filter((o) => o !== f);
              if (others.length > 0) assert.equal(tsrr([...PCP, 'rm-checkpoints', ...others.flatMap((o) => ['-g', String(o)]), copy]).status, 0);
              const r = tsrr([...PCP, 'replay', '-a', '-g', String(last), copy]);
              assertFrom(r, f, `replay from ${f}`);
              const want = fullOut.subarray(printedBy(f));
              assert.ok(r.stdout.equals(want), `from ${f}: got\n${r.stdout}\nwant\n${want}\n${describeRun('replay', r)}`);
              assertNoneLeft([copy]);
            } finally {
              rmSync(copy, { recursive: true, force: true });
            }
          });
        }
      });

      test('a replay to a couple of events past each checkpoint has every task and process as the replay from the start', async (t: TestContext) => {
        for (const f of frames) {
          const g = Math.min(f + PAST, last - 1);
          if (g <= f) continue;
          await t.test(`from ${f} to ${g}`, () => {
            const withPcp = dumpAt(g, [], `${c.program}-${g}`);
            const without = dumpAt(g, ['--ignore-pcp'], `${c.program}-${g}-ignore`);
            assertFrom(withPcp.run, f, `replay -g ${g}`);
            assert.equal(without.run.status, 0, describeRun('--ignore-pcp', without.run));
            assert.ok(withPcp.dump && without.dump, 'the state dumper wrote nothing');
            assert.deepEqual(Object.keys(withPcp.dump.tasks), Object.keys(without.dump.tasks), 'the same tasks');
            assert.deepEqual(withPcp.dump, without.dump);
          });
        }
      });

      function assertFrom(r: Run, f: number, what: string): void {
        const info = describeRun(what, r);
        assert.equal(r.status, 0, info);
        assert.ok(r.stderr.includes(`tsrr: starting from the checkpoint at event ${f}\n`), info);
      }

      function dumpAt(goto: number, extra: string[], name: string): { run: Run; dump?: { tasks: Record<string, unknown> } } {
        const file = join(tmp, `${name}.json`);
        rmSync(file, { force: true });
        const run = tsrr([...PCP, '--plugin', DUMPER, ...extra, 'replay', '-a', '-g', String(goto), trace], { env: { ...process.env, DUMP_AT_FRAME: String(goto), DUMP_FILE: file } });
        return { run, dump: existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined };
      }
    });
  }
});
