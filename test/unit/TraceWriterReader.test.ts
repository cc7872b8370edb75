// SPDX-License-Identifier: MIT
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventData } from '../../core/Event.js';
import type { TraceHeader } from '../../core/TraceHeader.js';
import { TraceReader } from '../../core/TraceReader.js';
import { TraceWriter } from '../../core/TraceWriter.js';
import { TraceDirClaim } from '../../core/traceDir.js';
import { BLOCK_MAGIC, BLOCK_ZSTD_MAGIC, PREFIX_BYTES, TRACE_FORMAT_VERSION, readPrefix } from '../../core/traceFile.js';
import { TsrrError, type ErrorCode } from '../../native/TsrrError.js';

const N = 10_500;
/** A clock that never ticks: blocks are cut by size alone. */
const noTicks = () => 0;

function header(overrides: Partial<TraceHeader> = {}): TraceHeader {
  return {
    formatVersion: TRACE_FORMAT_VERSION,
    tsrrVersion: '0.1.0-test',
    uuid: '01234567-89ab-cdef-0123-456789abcdef',
    program: './prog',
    executable: '/tmp/prog',
    argv: ['./prog', '-x', 'arg with space'],
    envp: ['HOME=/root', 'RUNNING_UNDER_TSRR=1'],
    cwd: '/tmp',
    startTimeNs: 1_700_000_000_123_456_789n,
    machine: {
      kernel: 'Linux 6.1.0 x86_64',
      cpuModel: 'Test CPU @ 3.00GHz',
      boundCpu: -1,
      cpuidFaulting: true,
      patched: ['rdtsc', 'rdtscp', 'cpuid'],
      xcr0: 0x2e7n,
      xsaveSize: 2696,
      cpuid: [
        { leaf: 0, subleaf: 0, eax: 0xd, ebx: 0x756e6547, ecx: 0x6c65746e, edx: 0x49656e69 },
        { leaf: 0xd, subleaf: 1, eax: 0xf, ebx: 0, ecx: 0xffffffff, edx: 0 },
      ],
    },
    limits: [{ resource: 3, soft: 8_388_608n, hard: 0xffff_ffff_ffff_ffffn }],
    ...overrides,
  };
}

/** The data of frame `f`: every value depends on f, so a wrong frame is caught. */
function eventAt(f: number): { tid: number; data: EventData } {
  const tid = 1000 + (f % 3);
  if (f % 1000 === 0) return { tid, data: { kind: 'rdtsc', value: BigInt(f) * 1000n, ip: BigInt(f), aux: f } };
  if (f % 777 === 0) return { tid, data: { kind: 'signal', signo: 10, code: -f, regs: Buffer.alloc(216, f & 0xff), siginfo: Buffer.alloc(128, f & 0x7f) } };
  return {
    tid,
    data: {
      kind: 'syscall',
      number: f % 300,
      args: [BigInt(f), 1n, 2n, 3n, 4n, 0xffffffffffffffffn],
      ip: 0x401000n + BigInt(f),
      sp: 0x7ffc0000n,
      regsCrc: f,
      result: f % 5 === 0 ? -BigInt(f) : BigInt(f),
      writes: f % 2 ? [{ addr: BigInt(f) * 8n, data: Buffer.from(`frame ${f}`) }] : [],
    },
  };
}

function assertFrame(e: ReturnType<TraceReader['next']>, f: number): void {
  assert.ok(e, `frame ${f} missing`);
  assert.equal(e.frame, f);
  const { tid, data } = eventAt(f);
  assert.equal(e.tid, tid, `tid of frame ${f}`);
  assert.deepEqual(e.data, data, `data of frame ${f}`);
}

/** Blocks of the events file as (firstFrame, count), walking the prefixes. */
function blocksOf(dir: string): { firstFrame: number; count: number; offset: number; length: number }[] {
  const buf = readFileSync(join(dir, 'events'));
  const out = [];
  let frame = 1;
  for (let off = 0; off < buf.length; ) {
    const p = readPrefix(buf, off);
    assert.ok(p.magic === BLOCK_MAGIC || p.magic === BLOCK_ZSTD_MAGIC);
    out.push({ firstFrame: frame, count: p.count, offset: off, length: p.length });
    frame += p.count;
    off += PREFIX_BYTES + p.length;
  }
  return out;
}

function expectError(fn: () => unknown, code: ErrorCode, ...mentions: string[]): TsrrError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TsrrError, `expected TsrrError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const m of mentions) assert.ok(caught.message.includes(m), `"${caught.message}" does not mention ${m}`);
  return caught;
}

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsrr-trace-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function writeTrace(dir: string, frames = N, h = header()): void {
  const w = TraceWriter.create(TraceDirClaim.take(dir), noTicks, h);
  for (let f = 1; f <= frames; f++) {
    const { tid, data } = eventAt(f);
    const e = w.append(tid, data);
    assert.equal(e.frame, f);
    w.writeFullBlock(); // as the recorder does between stops
  }
  assert.equal(w.frameCount, frames);
  w.close();
  w.close(); // closing twice is harmless
}

describe('a trace of many blocks', () => {
  let dir: string;
  let reader: TraceReader;
  before(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'tsrr-trace-')), 'trace');
    writeTrace(dir);
  });
  after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  beforeEach(() => {
    reader = TraceReader.open(dir);
  });
  afterEach(() => reader.close());

  test('is written as several blocks, numbered consecutively', () => {
    const blocks = blocksOf(dir);
    assert.ok(blocks.length >= 3, `only ${blocks.length} blocks`);
    assert.equal(blocks.reduce((n, b) => n + b.count, 0), N);
    assert.ok(existsSync(join(dir, 'files')));
  });

  test('header round-trips', () => {
    assert.deepEqual(reader.header, header());
  });

  test('frameCount, next and peek read every frame in order', () => {
    assert.equal(reader.frameCount, N);
    assert.equal(reader.position, 1);
    for (let f = 1; f <= N; f++) {
      const peeked = reader.peek();
      assertFrame(peeked, f);
      assert.equal(reader.peek(), peeked, 'peek does not move');
      assert.equal(reader.position, f);
      assertFrame(reader.next(), f);
    }
    assert.equal(reader.position, N + 1);
    assert.equal(reader.peek(), undefined);
    assert.equal(reader.next(), undefined);
    assert.equal(reader.position, N + 1);
  });

  test('events() yields every frame', () => {
    let f = 0;
    for (const e of reader.events()) assertFrame(e, ++f);
    assert.equal(f, N);
  });

  const middleOfLaterBlock = (): number => {
    const blocks = blocksOf(dir);
    const b = blocks[blocks.length - 2]!;
    assert.ok(b.firstFrame > 1 && b.count > 2);
    return b.firstFrame + Math.floor(b.count / 2);
  };

  test('forwardTo: first, middle of a later block, last, end, and back', () => {
    const middle = middleOfLaterBlock();
    const cases: [frame: number, expected: number | undefined][] = [
      [middle, middle],
      [1, 1],
      [N, N],
      [N + 1, undefined],
      [middle + 1, middle + 1],
      [2, 2],
      [4097, 4097],
      [4098, 4098],
      [middle - 1, middle - 1],
    ];
    for (const [frame, expected] of cases) {
      reader.forwardTo(frame);
      assert.equal(reader.position, frame);
      if (expected === undefined) {
        assert.equal(reader.peek(), undefined, `peek after forwardTo(${frame})`);
        assert.equal(reader.next(), undefined, `next after forwardTo(${frame})`);
      } else {
        assertFrame(reader.peek(), expected);
        assertFrame(reader.next(), expected);
        if (expected < N) assertFrame(reader.next(), expected + 1);
        else assert.equal(reader.next(), undefined);
      }
    }
  });

  test('forwardTo(last) then next reaches the end', () => {
    reader.forwardTo(N);
    assertFrame(reader.next(), N);
    assert.equal(reader.next(), undefined);
  });

  for (const bad of [0, -1, N + 2, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    test(`forwardTo(${bad}) throws BAD_ARGUMENT and does not move`, () => {
      reader.forwardTo(3);
      const e = expectError(() => reader.forwardTo(bad), 'BAD_ARGUMENT', String(bad), String(N));
      assert.equal(e.context.frame, bad);
      assert.equal(reader.position, 3);
    });
  }

  test('file() refuses a file the trace has no hash for', () => {
    expectError(() => reader.file('files/0-x'), 'TRACE_CORRUPT', join(dir, 'files/0-x'));
  });
});

test('a trace with no events', () => {
  const dir = join(tmp, 'empty');
  TraceWriter.create(TraceDirClaim.take(dir), noTicks, header()).close();
  const r = TraceReader.open(dir);
  assert.equal(r.frameCount, 0);
  assert.equal(r.peek(), undefined);
  assert.equal(r.next(), undefined);
  r.forwardTo(1);
  expectError(() => r.forwardTo(2), 'BAD_ARGUMENT');
  r.close();
});

test('a trace with one event', () => {
  const dir = join(tmp, 'one');
  writeTrace(dir, 1);
  const r = TraceReader.open(dir);
  assert.equal(r.frameCount, 1);
  assertFrame(r.next(), 1);
  assert.equal(r.next(), undefined);
  r.close();
});

describe('claiming a trace directory', () => {
  test('refuses one that holds a trace or anything else, and leaves it as it was', () => {
    const dir = join(tmp, 'full');
    writeTrace(dir, 2);
    const before = readdirSync(dir).sort();
    expectError(() => TraceDirClaim.take(dir), 'BAD_ARGUMENT', dir, 'already holds a trace');
    const other = join(tmp, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'mine'), 'x');
    expectError(() => TraceDirClaim.take(other), 'BAD_ARGUMENT', other, 'not empty');
    assert.deepEqual(readdirSync(dir).sort(), before);
    assert.deepEqual(readdirSync(other), ['mine']);
  });

  test('takes an empty one, and discarding keeps the directory it did not make', () => {
    const empty = join(tmp, 'empty-existing');
    mkdirSync(empty);
    const claim = TraceDirClaim.take(empty);
    TraceWriter.create(claim, noTicks, header()).close();
    assert.equal(TraceReader.open(empty).frameCount, 0);
    claim.discard();
    assert.deepEqual(readdirSync(empty), []);
  });

  test('discarding removes the directories it made, up to the first it made', () => {
    const claim = TraceDirClaim.take(join(tmp, 'a', 'b', 'c'));
    TraceWriter.create(claim, noTicks, header()).close();
    claim.discard();
    assert.deepEqual(readdirSync(tmp), []);
  });

  test('two claims of one directory: the second is refused and removes nothing', () => {
    const dir = join(tmp, 'shared');
    const first = TraceDirClaim.take(dir);
    expectError(() => TraceDirClaim.take(dir), 'BAD_ARGUMENT', 'already holds a trace');
    assert.deepEqual(readdirSync(dir), ['events']);
    closeSync(first.eventsFd);
  });

  test('a directory whose recording died before its header is claimed again once unlocked, not before', () => {
    const dir = join(tmp, 'killed');
    const first = TraceDirClaim.take(dir);
    mkdirSync(join(dir, 'files'));
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'events'), old, old);
    expectError(() => TraceDirClaim.take(dir), 'BAD_ARGUMENT', 'already holds a trace'); // its recording lives
    closeSync(first.eventsFd); // it died
    const again = TraceDirClaim.take(dir);
    assert.deepEqual(readdirSync(dir), ['events']);
    closeSync(again.eventsFd);
    writeFileSync(join(dir, 'header'), 'x');
    utimesSync(join(dir, 'events'), old, old);
    expectError(() => TraceDirClaim.take(dir), 'BAD_ARGUMENT', 'already holds a trace'); // a trace, whole or not
  });

  test('a path under a file is one clear error', () => {
    const file = join(tmp, 'plain');
    writeFileSync(file, 'x');
    expectError(() => TraceDirClaim.take(file), 'BAD_ARGUMENT', file, 'is a file');
    expectError(() => TraceDirClaim.take(join(file, 'sub')), 'BAD_ARGUMENT', 'is a file');
    assert.equal(readFileSync(file, 'utf8'), 'x');
  });
});

describe('copyFile', () => {
  test('copies a file once per version', () => {
    const dir = join(tmp, 'trace');
    const w = TraceWriter.create(TraceDirClaim.take(dir), noTicks, header());
    const src = join(tmp, 'libfoo.so');
    writeFileSync(src, 'version one');

    const first = w.copyFile(src, '/usr/lib/libfoo.so');
    assert.ok(first.startsWith('files/'), first);
    assert.ok(first.endsWith('libfoo.so'), first);
    assert.equal(readFileSync(join(dir, first), 'utf8'), 'version one');

    assert.equal(w.copyFile(src, '/usr/lib/libfoo.so'), first, 'same file again: same copy');
    assert.equal(w.copyFile(src, 'other-name'), first, 'same file under another name: same copy');
    assert.equal(readdirSync(join(dir, 'files')).length, 1);

    writeFileSync(src, 'version two, longer');
    const second = w.copyFile(src, '/usr/lib/libfoo.so');
    assert.notEqual(second, first);
    assert.equal(readFileSync(join(dir, second), 'utf8'), 'version two, longer');
    assert.equal(readFileSync(join(dir, first), 'utf8'), 'version one', 'the old copy is kept');
    assert.equal(w.copyFile(src, 'x'), second);
    assert.equal(readdirSync(join(dir, 'files')).length, 2);

    const other = join(tmp, 'other');
    writeFileSync(other, 'version one'); // same content, different file
    const third = w.copyFile(other, 'other');
    assert.ok(![first, second].includes(third));
    assert.equal(readdirSync(join(dir, 'files')).length, 3);
    w.close();

    const r = TraceReader.open(dir);
    assert.equal(readFileSync(r.file(second), 'utf8'), 'version two, longer');
    r.close();
  });

  test('a copy changed after recording is refused, naming it', () => {
    const dir = join(tmp, 'trace');
    const w = TraceWriter.create(TraceDirClaim.take(dir), noTicks, header());
    const src = join(tmp, 'libbar.so');
    writeFileSync(src, Buffer.alloc(3 * 4096 + 100, 7));
    const rel = w.copyFile(src, src);
    w.close();
    const copy = join(dir, rel);
    const bytes = readFileSync(copy);
    bytes[5000]! ^= 1;
    writeFileSync(copy, bytes);
    expectError(() => TraceReader.open(dir).file(rel), 'TRACE_CORRUPT', copy, 'changed after recording');
    truncateSync(copy, 4096);
    expectError(() => TraceReader.open(dir).file(rel), 'TRACE_CORRUPT', copy);
    unlinkSync(copy);
    expectError(() => TraceReader.open(dir).file(rel), 'TRACE_CORRUPT', copy, 'missing');
  });

  test('the hash does not depend on holes: zeros written out match a hole', () => {
    const dir = join(tmp, 'trace');
    const w = TraceWriter.create(TraceDirClaim.take(dir), noTicks, header());
    const src = join(tmp, 'sparse');
    const fd = openSync(src, 'w');
    writeSync(fd, 'data', 0);
    writeSync(fd, 'more', 10 << 20);
    closeSync(fd);
    const rel = w.copyFile(src, src);
    w.close();
    const copy = join(dir, rel);
    writeFileSync(copy, readFileSync(copy)); // written out whole: no holes any more
    assert.equal(TraceReader.open(dir).file(rel), copy);
  });

  test('copies a deleted file through /proc/self/fd', () => {
    const dir = join(tmp, 'trace');
    const w = TraceWriter.create(TraceDirClaim.take(dir), noTicks, header());
    const src = join(tmp, 'gone.so');
    writeFileSync(src, 'still here');
    const fd = openSync(src, 'r');
    try {
      unlinkSync(src);
      const rel = w.copyFile(`/proc/self/fd/${fd}`, src);
      assert.ok(rel.endsWith('gone.so'), rel);
      assert.equal(readFileSync(join(dir, rel), 'utf8'), 'still here');
    } finally {
      closeSync(fd);
      w.close();
    }
  });
});

describe('damaged traces', () => {
  let dir: string;
  let events: string;
  beforeEach(() => {
    dir = join(tmp, 'trace');
    events = join(dir, 'events');
    writeTrace(dir, 5000);
  });

  const flipBit = (file: string, at: number) => {
    const buf = readFileSync(file);
    buf[at]! ^= 0x10;
    writeFileSync(file, buf);
  };

  const cases: [name: string, damage: (dir: string) => void, code: ErrorCode, mentions: (dir: string) => string[]][] = [
    ['missing directory', (d) => rmSync(d, { recursive: true }), 'NO_TRACE', (d) => [d]],
    ['missing header', (d) => unlinkSync(join(d, 'header')), 'NO_TRACE', (d) => [join(d, 'header')]],
    ['missing events file', (d) => unlinkSync(join(d, 'events')), 'TRACE_CORRUPT', (d) => [join(d, 'events')]],
    ['empty header', (d) => writeFileSync(join(d, 'header'), ''), 'TRACE_CORRUPT', (d) => [join(d, 'header')]],
    ['truncated header', (d) => truncateSync(join(d, 'header'), statSync(join(d, 'header')).size - 5), 'TRACE_CORRUPT', (d) => [join(d, 'header')]],
    ['bit flip in the header', (d) => flipBit(join(d, 'header'), PREFIX_BYTES + 20), 'TRACE_CORRUPT', (d) => [join(d, 'header')]],
    ['bad header magic', (d) => flipBit(join(d, 'header'), 0), 'TRACE_CORRUPT', (d) => [join(d, 'header')]],
    [
      'bit flip in a block body',
      (d) => {
        const b = blocksOf(d)[1]!;
        flipBit(join(d, 'events'), b.offset + PREFIX_BYTES + Math.floor(b.length / 2));
      },
      'TRACE_CORRUPT',
      (d) => [join(d, 'events')],
    ],
    [
      'bit flip in a block magic',
      (d) => flipBit(join(d, 'events'), blocksOf(d)[1]!.offset + 1),
      'TRACE_CORRUPT',
      (d) => [join(d, 'events')],
    ],
    [
      'bit flip in a block checksum',
      (d) => flipBit(join(d, 'events'), blocksOf(d)[1]!.offset + 9),
      'TRACE_CORRUPT',
      (d) => [join(d, 'events')],
    ],
    [
      'newer format version',
      (d) => {
        rmSync(d, { recursive: true });
        writeTrace(d, 3, header({ formatVersion: TRACE_FORMAT_VERSION + 1 }));
      },
      'TRACE_TOO_NEW',
      // The message names the trace directory (context.file names its header file).
      (d) => [d, String(TRACE_FORMAT_VERSION + 1), String(TRACE_FORMAT_VERSION)],
    ],
  ];

  for (const [name, damage, code, mentions] of cases) {
    test(`${name} → ${code}`, () => {
      damage(dir);
      const e = expectError(() => TraceReader.open(dir), code, ...mentions(dir));
      assert.ok(!e.message.includes('\n'), 'one line');
    });
  }

  const cuts: [name: string, cut: (last: { offset: number; length: number }) => number][] = [
    ['in the last block', (last) => last.offset + PREFIX_BYTES + Math.floor(last.length / 2)],
    ['in the last block prefix', (last) => last.offset + 7],
  ];
  for (const [name, cut] of cuts) {
    test(`events cut off ${name}: the blocks before are read, and cutOff says where`, () => {
      const last = blocksOf(dir).at(-1)!;
      truncateSync(events, cut(last));
      const r = TraceReader.open(dir);
      try {
        assert.equal(r.frameCount, last.firstFrame - 1);
        assert.match(r.cutOff ?? '', new RegExp(`${events} is cut off after frame ${last.firstFrame - 1}`));
        r.forwardTo(last.firstFrame - 1);
        assertFrame(r.next(), last.firstFrame - 1);
        assert.equal(r.next(), undefined);
      } finally {
        r.close();
      }
    });
  }

  test('TRACE_TOO_NEW context names the header file and the version', () => {
    rmSync(dir, { recursive: true });
    writeTrace(dir, 3, header({ formatVersion: 99 }));
    const e = expectError(() => TraceReader.open(dir), 'TRACE_TOO_NEW');
    assert.equal(e.context.file, join(dir, 'header'));
    assert.equal(e.context.version, 99);
  });

  test('an older or equal format version is read', () => {
    rmSync(dir, { recursive: true });
    writeTrace(dir, 3, header({ formatVersion: TRACE_FORMAT_VERSION - 1 }));
    const r = TraceReader.open(dir);
    assert.equal(r.header.formatVersion, TRACE_FORMAT_VERSION - 1);
    assert.equal(r.frameCount, 3);
    r.close();
  });

  test('a block whose count disagrees with its events is found when it is read', () => {
    const b = blocksOf(dir)[1]!;
    const buf = readFileSync(events);
    buf.writeUInt32LE(b.count - 1, b.offset + 12); // count is outside the checksum
    writeFileSync(events, buf);
    const r = TraceReader.open(dir);
    try {
      assertFrame(r.next(), 1);
      expectError(() => r.next(), 'TRACE_CORRUPT', events);
    } finally {
      r.close();
    }
  });
});
