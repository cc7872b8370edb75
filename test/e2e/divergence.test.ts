// SPDX-License-Identifier: MIT
/**
 * Replay must notice when the tracee stops matching its trace. Each case records a program, then
 * tampers with one event of the trace (decoded and re-encoded with tsrr's own codec, so the
 * block checksums stay right) so that the program behaves differently on replay, and checks that
 * replay fails with a one-line divergence report naming the frame where the behaviour changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Event, type EventData } from '../../core/Event.js';
import { encodeBlock } from '../../core/eventCodec.js';
import { bufferedCalls } from '../../core/syscallBuffer.js';
import { BLOCK_MAGIC, framed } from '../../core/traceFile.js';
import { TraceReader } from '../../core/TraceReader.js';
import { NR } from '../../native/syscalls.js';
import { compile, describeRun, tempDir, tsrr } from './helpers.js';

type SyscallData = Extract<EventData, { kind: 'syscall' }>;

/** All the events of a trace, in frame order. */
function readEvents(dir: string): Event[] {
  const reader = TraceReader.open(dir);
  try {
    return [...reader.events()];
  } finally {
    reader.close();
  }
}

/** Rewrites the events file of a trace as one block holding `events`. */
function writeEvents(dir: string, events: Event[]): void {
  writeFileSync(join(dir, 'events'), framed(BLOCK_MAGIC, events.length, encodeBlock(1, events)));
}

const isSyscall = (e: Event, nr: number): e is Event & { data: SyscallData } => e.data.kind === 'syscall' && e.data.number === nr;

/** The first syscall `nr` at or after `from` (a frame), which must exist. */
function findSyscall(events: Event[], nr: number, from = 1): Event & { data: SyscallData } {
  const e = events.find((x): x is Event & { data: SyscallData } => x.frame >= from && isSyscall(x, nr));
  assert.ok(e, `no syscall ${nr} from frame ${from} in the trace`);
  return e;
}

/** `events` with the event at `frame` given new data. */
function replaced(events: Event[], frame: number, data: EventData): Event[] {
  return events.map((e) => (e.frame === frame ? new Event(e.frame, e.tid, data) : e));
}

function record(program: string, input = ''): string {
  const dir = join(tempDir(), 'trace');
  const r = tsrr(['record', '-o', dir, compile(program)], { input });
  assert.ok(r.status === 0 || r.status === 3, describeRun('record', r));
  return dir;
}

interface Tampering {
  /** The changed events and the frame changed. */
  events: Event[];
  tampered: number;
  /** The frame where the program's syscalls visibly change; replay must diverge there at the
   * latest (it may notice earlier: it compares all registers at every syscall). */
  latest: number;
}

interface Case {
  name: string;
  program: string;
  input?: string;
  tamper: (events: Event[]) => Tampering;
  /** What the divergence report must mention. */
  mentions: RegExp;
}

const cases: Case[] = [
  {
    // pid.c prints the pid and flushes: a pid with more digits makes the next write longer.
    // getpid goes through the syscall buffer: its result is in a `buffered` event's records.
    name: 'a buffered getpid result changed: the next write differs',
    program: 'pid',
    mentions: /write/,
    tamper: (events) => {
      const e = events.find((x): x is Event & { data: { kind: 'buffered'; records: Buffer } } => x.data.kind === 'buffered' && bufferedCalls(x.data.records).some((c) => c.number === NR.getpid));
      assert.ok(e, 'no buffered getpid in the trace');
      const records = Buffer.from(e.data.records);
      let at = 0;
      for (const c of bufferedCalls(records)) {
        if (c.number === NR.getpid) break;
        at += 24 + ((c.output.length + 7) & ~7);
      }
      assert.ok(records.readBigInt64LE(at + 8) > 0n && records.readBigInt64LE(at + 8) < 1_000_000_000n);
      records.writeBigInt64LE(1_234_567_890n, at + 8);
      const write = findSyscall(events, NR.write, e.frame);
      return { events: replaced(events, e.frame, { kind: 'buffered', records }), tampered: e.frame, latest: write.frame };
    },
  },
  {
    // stdin.c reads 10 bytes then end of file; reading 4 makes it print "4 bytes", a shorter write.
    name: 'a read result changed: the registers or the next write differ',
    program: 'stdin',
    input: 'some text\n',
    mentions: /read|write/,
    tamper: (events) => {
      const e = events.find((x): x is Event & { data: SyscallData } => isSyscall(x, NR.read) && x.data.args[0] === 0n);
      assert.ok(e, 'no read of stdin in the trace');
      assert.equal(e.data.result, 10n);
      const write = findSyscall(events, NR.write, e.frame);
      return { events: replaced(events, e.frame, { ...e.data, result: 4n }), tampered: e.frame, latest: write.frame };
    },
  },
  {
    name: 'the exit status changed',
    program: 'exit3',
    mentions: /exit status/,
    tamper: (events) => {
      const e = events[events.length - 1]!;
      assert.equal(e.data.kind, 'exit');
      return { events: replaced(events, e.frame, { kind: 'exit', status: 5 << 8 }), tampered: e.frame, latest: e.frame };
    },
  },
];

test('a trace re-encoded without changes still replays', { timeout: 20_000 }, () => {
  const dir = record('pid');
  const recorded = tsrr(['replay', '-a', dir], { input: '' });
  assert.equal(recorded.status, 0, describeRun('replay', recorded));
  writeEvents(dir, readEvents(dir));
  const replay = tsrr(['replay', '-a', dir], { input: '' });
  assert.equal(replay.status, 0, describeRun('replay of the re-encoded trace', replay));
  assert.ok(replay.stdout.equals(recorded.stdout));
});

for (const c of cases) {
  test(c.name, { timeout: 20_000 }, () => {
    const dir = record(c.program, c.input);
    const t = c.tamper(readEvents(dir));
    writeEvents(dir, t.events);
    const replay = tsrr(['replay', '-a', dir], { input: '' });
    assert.notEqual(replay.status, 0, describeRun('replay of the tampered trace', replay));
    const lines = replay.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('tsrr: warning:'));
    assert.equal(lines.length, 1, `expected one line of error:\n${replay.stderr}`);
    const m = /^tsrr: .*diverged at frame (\d+)/.exec(lines[0]!);
    assert.ok(m, `not a divergence report:\n${replay.stderr}`);
    const frame = Number(m[1]);
    assert.ok(frame >= t.tampered, `diverged at frame ${frame}, before the tampered frame ${t.tampered}:\n${replay.stderr}`);
    assert.ok(frame <= t.latest, `diverged at frame ${frame}, after frame ${t.latest} where the program changed its syscalls:\n${replay.stderr}`);
    assert.match(lines[0]!, c.mentions);
  });
}
