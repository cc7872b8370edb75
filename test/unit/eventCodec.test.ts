// SPDX-License-Identifier: MIT
import * as capnp from 'capnp-es';
import { EventBlock } from '../../schema/trace.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Event, type EventData, type EventKind } from '../../core/Event.js';
import { decodeBlock, encodeBlock } from '../../core/eventCodec.js';

const U64_MAX = 0xffffffffffffffffn;
const regs = Buffer.from(Array.from({ length: 216 }, (_, i) => i & 0xff));

/** One case per event kind (and variant); each must decode to exactly what was encoded. */
const CASES: [name: string, tid: number, data: EventData][] = [
  [
    'exec with argv, envp, regs and stack',
    100,
    {
      kind: 'exec',
      path: '/usr/bin/true',
      copy: 'files/0-true',
      argv: ['/usr/bin/true', '--flag', 'with space', 'ünïcødé', ''],
      envp: ['HOME=/root', 'PATH=/usr/bin:/bin', 'EMPTY='],
      regs,
      stack: Buffer.from('argv\0envp\0auxv\0random bytes here\0', 'latin1'),
    },
  ],
  ['exec with empty lists and buffers', 1, { kind: 'exec', path: '/bin/x', copy: 'files/1-x', argv: [], envp: [], regs: Buffer.alloc(0), stack: Buffer.alloc(0) }],
  [
    'syscall with 6 args incl. u64 max and writes',
    101,
    {
      kind: 'syscall',
      number: 0,
      args: [3n, 0x7ffc_1234_5678n, U64_MAX, 0n, 0x8000_0000_0000_0000n, 42n],
      ip: 0x7f00_0000_1234n,
      sp: 0x7ffc_ffff_fff0n,
      regsCrc: 0xdeadbeef,
      result: 11n,
      writes: [
        { addr: 0x1000n, data: Buffer.from('hello world') },
        { addr: 0x2000n, data: Buffer.alloc(0) },
        { addr: U64_MAX - 7n, data: Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]) },
        { addr: 0x3000n, data: Buffer.alloc(70000, 0xab) },
      ],
    },
  ],
  [
    'syscall with negative result and no writes',
    102,
    { kind: 'syscall', number: 257, args: [U64_MAX - 99n, 0x4000n, 0n, 0o644n, 0n, 0n], ip: 1n, sp: 2n, regsCrc: 0, result: -2n, writes: [] },
  ],
  [
    'syscall with the most negative result',
    102,
    { kind: 'syscall', number: 1, args: [0n, 0n, 0n, 0n, 0n, 0n], ip: 0n, sp: 0n, regsCrc: 0xffffffff, result: -(1n << 63n), writes: [] },
  ],
  [
    'syscall with a mapped file',
    103,
    {
      kind: 'syscall',
      number: 9,
      args: [0n, 4096n, 1n, 2n, 3n, 0n],
      ip: 0x401000n,
      sp: 0x7ffdn,
      regsCrc: 7,
      result: 0x7f12_3456_0000n,
      writes: [],
      mappedFile: { path: '/usr/lib/x86_64-linux-gnu/libc.so.6', copy: 'files/2-libc.so.6', identity: '2049:1234567', watched: false },
    },
  ],
  [
    'syscall that changed a file mapped shared',
    103,
    {
      kind: 'syscall',
      number: 18,
      args: [3n, 0x1000n, 5n, 4096n, 0n, 0n],
      ip: 0x401000n,
      sp: 0x7ffdn,
      regsCrc: 9,
      result: 5n,
      writes: [],
      fileChange: { identity: '2049:77', size: 8192n, offset: 4096n, data: Buffer.from('hello') },
    },
  ],
  ['signal', 104, { kind: 'signal', signo: 11, code: 0x80, regs, siginfo: Buffer.alloc(128, 3) }],
  ['signal with negative code and no regs', 104, { kind: 'signal', signo: 10, code: -6, regs: Buffer.alloc(0), siginfo: Buffer.alloc(0) }],
  [
    'signal with a snapshot',
    104,
    {
      kind: 'signal',
      signo: 14,
      code: 0,
      regs,
      siginfo: Buffer.alloc(128, 1),
      snapshot: { regs, xstate: Buffer.alloc(832, 5), pages: Buffer.alloc(32, 9), contents: [{ hash: U64_MAX, data: Buffer.alloc(4096, 7) }, { hash: 1n, data: Buffer.alloc(4096, 8) }] },
    },
  ],
  ['preempt with no new pages', 109, { kind: 'preempt', snapshot: { regs, xstate: Buffer.alloc(0), pages: Buffer.alloc(16, 1), contents: [] } }],
  ['syscall entry', 110, { kind: 'syscallEntry', number: 231 }],
  ['fork', 111, { kind: 'fork', child: 4242, flags: 0x3d0f00n, parentTid: 0x7f00_0000_1000n, childTid: U64_MAX }],
  ['rdtsc', 105, { kind: 'rdtsc', value: 0x0123_4567_89ab_cdefn, ip: 0x401234n, aux: 0 }],
  ['rdtscp with aux and u64 max', 105, { kind: 'rdtsc', value: U64_MAX, ip: U64_MAX, aux: 0xffffffff }],
  ['cpuid', 106, { kind: 'cpuid', leaf: 0xd, subleaf: 1, eax: 0xffffffff, ebx: 0x756e6547, ecx: 0, edx: 0x80000001 }],
  ['exit with code', 107, { kind: 'exit', status: 3 << 8 }],
  ['exit killed', 107, { kind: 'exit', status: 0x89 }],
  ['interrupted', 108, { kind: 'interrupted' }],
  ['negative tid', -1, { kind: 'interrupted' }],
];

const ALL_KINDS: EventKind[] = ['exec', 'syscall', 'signal', 'rdtsc', 'cpuid', 'exit', 'interrupted', 'syscallEntry', 'fork', 'preempt'];

function roundTrip(firstFrame: number, events: Event[]): { firstFrame: number; events: Event[] } {
  return decodeBlock(encodeBlock(firstFrame, events));
}

test('the cases cover every event kind', () => {
  assert.deepEqual(new Set(CASES.map(([, , d]) => d.kind)), new Set(ALL_KINDS));
});

for (const [name, tid, data] of CASES) {
  test(`round-trip: ${name}`, () => {
    const decoded = roundTrip(7, [new Event(7, tid, data)]);
    assert.equal(decoded.firstFrame, 7);
    assert.equal(decoded.events.length, 1);
    const e = decoded.events[0]!;
    assert.ok(e instanceof Event);
    assert.equal(e.frame, 7);
    assert.equal(e.tid, tid);
    assert.equal(e.kind, data.kind);
    assert.deepEqual(e.data, data);
  });
}

test('a block of every kind: frames are numbered from firstFrame, order and data kept', () => {
  const first = 12345;
  const events = CASES.map(([, tid, data], i) => new Event(first + i, tid, data));
  const decoded = roundTrip(first, events);
  assert.equal(decoded.firstFrame, first);
  assert.deepEqual(
    decoded.events.map((e) => e.frame),
    events.map((_, i) => first + i),
  );
  decoded.events.forEach((e, i) => {
    assert.equal(e.tid, events[i]!.tid);
    assert.deepEqual(e.data, events[i]!.data, CASES[i]![0]);
  });
});

test('decoded frames follow firstFrame, not the frames of the encoded events', () => {
  const events = [new Event(1, 1, { kind: 'exit', status: 0 }), new Event(2, 1, { kind: 'interrupted' })];
  assert.deepEqual(
    roundTrip(1_000_000, events).events.map((e) => e.frame),
    [1_000_000, 1_000_001],
  );
});

test('an empty block round-trips', () => {
  const decoded = roundTrip(5, []);
  assert.equal(decoded.firstFrame, 5);
  assert.deepEqual(decoded.events, []);
});

test('dataBytes and canCheckpointAt survive the round-trip', () => {
  const decoded = roundTrip(1, CASES.map(([, tid, data], i) => new Event(i + 1, tid, data)));
  decoded.events.forEach((e, i) => {
    const original = new Event(i + 1, CASES[i]![1], CASES[i]![2]);
    assert.equal(e.dataBytes, original.dataBytes, CASES[i]![0]);
    assert.equal(e.canCheckpointAt(), original.canCheckpointAt(), CASES[i]![0]);
  });
});

test('5000 syscall events round-trip in reasonable time', () => {
  const N = 5000;
  const first = 4097;
  const events: Event[] = [];
  for (let i = 0; i < N; i++) {
    const writes = i % 3 === 0 ? [] : [{ addr: BigInt(0x10000 + i * 64), data: Buffer.alloc(i % 200, i & 0xff) }];
    events.push(
      new Event(first + i, 1000 + (i % 4), {
        kind: 'syscall',
        number: i % 450,
        args: [BigInt(i), BigInt(i) * 0x1000n, U64_MAX - BigInt(i), 0n, 1n, 2n],
        ip: 0x401000n + BigInt(i),
        sp: 0x7ffc0000n - BigInt(i) * 16n,
        regsCrc: (i * 2654435761) >>> 0,
        result: i % 7 === 0 ? -BigInt(1 + (i % 133)) : BigInt(i),
        writes,
      }),
    );
  }
  const t0 = performance.now();
  const bytes = encodeBlock(first, events);
  const decoded = decodeBlock(bytes);
  const ms = performance.now() - t0;
  assert.equal(decoded.firstFrame, first);
  assert.equal(decoded.events.length, N);
  for (let i = 0; i < N; i++) {
    const e = decoded.events[i]!;
    assert.equal(e.frame, first + i);
    assert.equal(e.tid, events[i]!.tid);
    assert.deepEqual(e.data, events[i]!.data);
  }
  // Generous: a quadratic encoder takes many seconds here.
  assert.ok(ms < 2000, `encode + decode of ${N} events took ${ms.toFixed(0)} ms`);
});

test('blocks larger than the size estimate round-trip (long argv/envp, many signal regs, long paths)', () => {
  const envp = Array.from({ length: 2000 }, (_, i) => `VAR_${i}=${'x'.repeat(100 + (i % 50))}`);
  const longPath = '/' + 'deep/'.repeat(2000) + 'file';
  const events: Event[] = [
    new Event(1, 1, { kind: 'exec', path: longPath, copy: 'files/0-file', argv: envp.slice(0, 500), envp, regs, stack: Buffer.alloc(16) }),
    ...Array.from({ length: 2000 }, (_, i) => new Event(i + 2, 1, { kind: 'signal', signo: 17, code: i, regs, siginfo: Buffer.alloc(128) })),
    new Event(2002, 1, {
      kind: 'syscall',
      number: 9,
      args: [0n, 0n, 0n, 0n, 0n, 0n],
      ip: 0n,
      sp: 0n,
      regsCrc: 0,
      result: 0n,
      writes: [],
      mappedFile: { path: longPath, copy: 'files/1-' + 'y'.repeat(5000), identity: '1:2', watched: true },
    }),
  ];
  const decoded = roundTrip(1, events);
  assert.equal(decoded.events.length, events.length);
  decoded.events.forEach((e, i) => assert.deepEqual(e.data, events[i]!.data, `event ${i}`));
});

test('syscall fields written through the data section read back through the generated accessors', () => {
  const args = [1n, 0xffffffffffffffffn, 3n, 4n, 5n, 0x7fffffffe000n];
  const bytes = encodeBlock(7, [new Event(7, 42, { kind: 'syscall', number: 257, args, ip: 0x401000n, sp: 0x7ffdn, regsCrc: 0xdeadbeef, result: -2n, writes: [] })]);
  const s = new capnp.Message(bytes, false).getRoot(EventBlock).events.get(0).syscall;
  assert.deepEqual([s.number, s.arg0, s.arg1, s.arg2, s.arg3, s.arg4, s.arg5, s.ip, s.sp, s.regsCrc, s.result], [257n, ...args, 0x401000n, 0x7ffdn, 0xdeadbeef, -2n]);
});
