// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FdTable } from '../../core/FdTable.js';
import type { FileMonitor } from '../../core/FileMonitor.js';
import { NR } from '../../native/syscalls.js';

const U32_MAX = 0xffffffffn;
const U64_MAX = 0xffffffffffffffffn;
const F_DUPFD = 0n;
const F_DUPFD_CLOEXEC = 1030n;
const F_GETFD = 1n;
const F_SETFL = 4n;
const O_CLOEXEC = 0o2000000n;
const CLOSE_RANGE_UNSHARE = 2n;
const CLOSE_RANGE_CLOEXEC = 4n;

const fake = (kind: string): FileMonitor => ({ kind });
const A = fake('test/a');
const B = fake('test/b');

/** The table as fd → monitor kind, sorted by fd. */
const snapshot = (t: FdTable): Record<number, string> =>
  Object.fromEntries([...t.monitors].sort(([x], [y]) => x - y).map(([fd, m]) => [fd, m.kind]));

type Call = [nr: number, args: bigint[], result: bigint];

/** Start: fd 1 → a, fd 2 → b. */
const CASES: [name: string, calls: Call[], expected: Record<number, string>][] = [
  ['nothing', [], { 1: 'test/a', 2: 'test/b' }],
  ['dup', [[NR.dup, [1n], 5n]], { 1: 'test/a', 2: 'test/b', 5: 'test/a' }],
  ['dup of an unmonitored fd', [[NR.dup, [7n], 8n]], { 1: 'test/a', 2: 'test/b' }],
  ['dup2', [[NR.dup2, [1n, 9n], 9n]], { 1: 'test/a', 2: 'test/b', 9: 'test/a' }],
  ['dup2 over another monitored fd', [[NR.dup2, [1n, 2n], 2n]], { 1: 'test/a', 2: 'test/a' }],
  ['dup2 of an unmonitored fd onto a monitored one removes the monitor', [[NR.dup2, [7n, 1n], 1n]], { 2: 'test/b' }],
  ['dup2 of an fd onto itself', [[NR.dup2, [1n, 1n], 1n]], { 1: 'test/a', 2: 'test/b' }],
  ['dup3', [[NR.dup3, [2n, 10n, O_CLOEXEC], 10n]], { 1: 'test/a', 2: 'test/b', 10: 'test/b' }],
  ['dup3 of an unmonitored fd onto a monitored one', [[NR.dup3, [7n, 2n, 0n], 2n]], { 1: 'test/a' }],
  ['fcntl F_DUPFD', [[NR.fcntl, [1n, F_DUPFD, 10n], 10n]], { 1: 'test/a', 2: 'test/b', 10: 'test/a' }],
  ['fcntl F_DUPFD_CLOEXEC', [[NR.fcntl, [2n, F_DUPFD_CLOEXEC, 3n], 4n]], { 1: 'test/a', 2: 'test/b', 4: 'test/b' }],
  ['fcntl F_GETFD changes nothing', [[NR.fcntl, [1n, F_GETFD, 0n], 1n]], { 1: 'test/a', 2: 'test/b' }],
  ['fcntl F_SETFL changes nothing', [[NR.fcntl, [1n, F_SETFL, 0o4000n], 0n]], { 1: 'test/a', 2: 'test/b' }],
  ['close', [[NR.close, [1n], 0n]], { 2: 'test/b' }],
  ['close of an unmonitored fd', [[NR.close, [7n], 0n]], { 1: 'test/a', 2: 'test/b' }],
  ['close_range over everything', [[NR.close_range, [0n, U32_MAX, 0n], 0n]], {}],
  ['close_range with the register holding ~0 as 64 bits', [[NR.close_range, [0n, U64_MAX, 0n], 0n]], {}],
  ['close_range from 2', [[NR.close_range, [2n, U32_MAX, 0n], 0n]], { 1: 'test/a' }],
  ['close_range of exactly one fd', [[NR.close_range, [1n, 1n, 0n], 0n]], { 2: 'test/b' }],
  ['close_range below the monitored fds', [[NR.close_range, [3n, 100n, 0n], 0n]], { 1: 'test/a', 2: 'test/b' }],
  ['close_range with CLOSE_RANGE_UNSHARE closes too', [[NR.close_range, [0n, U32_MAX, CLOSE_RANGE_UNSHARE], 0n]], {}],
  // CLOSE_RANGE_CLOEXEC only marks the fds close-on-exec: they stay open.
  ['close_range with CLOSE_RANGE_CLOEXEC closes nothing', [[NR.close_range, [0n, U32_MAX, CLOSE_RANGE_CLOEXEC], 0n]], { 1: 'test/a', 2: 'test/b' }],
  ['failed dup', [[NR.dup, [1n], -24n]], { 1: 'test/a', 2: 'test/b' }],
  ['failed dup2', [[NR.dup2, [7n, 1n], -9n]], { 1: 'test/a', 2: 'test/b' }],
  ['failed dup3 onto itself', [[NR.dup3, [1n, 1n, 0n], -22n]], { 1: 'test/a', 2: 'test/b' }],
  ['failed fcntl F_DUPFD', [[NR.fcntl, [1n, F_DUPFD, 0n], -24n]], { 1: 'test/a', 2: 'test/b' }],
  ['failed close', [[NR.close, [1n], -9n]], { 1: 'test/a', 2: 'test/b' }],
  ['failed close_range', [[NR.close_range, [0n, U32_MAX, 0n], -22n]], { 1: 'test/a', 2: 'test/b' }],
  ['unrelated syscalls change nothing', [[NR.read, [1n, 0x1000n, 10n], 5n], [NR.write, [2n, 0x1000n, 10n], 10n], [NR.openat, [U64_MAX - 99n, 0x2000n, 0n], 1n]], { 1: 'test/a', 2: 'test/b' }],
  [
    'a sequence: save stdout, redirect, restore',
    [
      [NR.dup, [1n], 3n], // saved = dup(1)
      [NR.dup2, [7n, 1n], 1n], // dup2(file, 1)
      [NR.close, [7n], 0n],
      [NR.dup2, [3n, 1n], 1n], // dup2(saved, 1)
      [NR.close, [3n], 0n],
    ],
    { 1: 'test/a', 2: 'test/b' },
  ],
  ['a chain of dups', [[NR.dup, [1n], 3n], [NR.fcntl, [3n, F_DUPFD_CLOEXEC, 10n], 10n], [NR.close, [1n], 0n], [NR.close, [3n], 0n]], { 2: 'test/b', 10: 'test/a' }],
];

for (const [name, calls, expected] of CASES) {
  test(`FdTable: ${name}`, () => {
    const t = new FdTable();
    t.set(1, A);
    t.set(2, B);
    for (const [nr, args, result] of calls) t.afterSyscall(nr, args, result);
    assert.deepEqual(snapshot(t), expected);
  });
}

test('FdTable: get and set; dups share the monitor object', () => {
  const t = new FdTable();
  assert.equal(t.get(1), undefined);
  t.set(1, A);
  assert.equal(t.get(1), A);
  t.afterSyscall(NR.dup, [1n], 4n);
  assert.equal(t.get(4), A);
  t.set(1, B);
  assert.equal(t.get(1), B);
  assert.equal(t.get(4), A);
});

test('FdTable: fd arguments are 32-bit ints (upper register bits ignored)', () => {
  const t = new FdTable();
  t.set(1, A);
  t.afterSyscall(NR.dup2, [0xdead_0000_0001n, 0xbeef_0000_0006n], 6n);
  assert.equal(t.get(6), A);
  t.afterSyscall(NR.close, [0x1_0000_0001n], 0n);
  assert.equal(t.get(1), undefined);
});

test('FdTable: afterSyscall tells which fds now stand for another file, or none', () => {
  const t = new FdTable();
  t.set(1, A);
  const change = (nr: number, args: bigint[], result: bigint) => t.afterSyscall(nr, args, result);
  assert.deepEqual(change(NR.openat, [U64_MAX - 99n, 0x2000n, 0n], 5n), { first: 5, last: 5, closed: false });
  assert.deepEqual(change(NR.open, [0x2000n, 0n], 6n), { first: 6, last: 6, closed: false });
  assert.deepEqual(change(NR.creat, [0x2000n, 0o644n], 7n), { first: 7, last: 7, closed: false });
  assert.deepEqual(change(NR.memfd_create, [0x2000n, 0n], 8n), { first: 8, last: 8, closed: false });
  assert.deepEqual(change(NR.dup, [1n], 9n), { first: 9, last: 9, closed: false });
  assert.deepEqual(change(NR.dup2, [5n, 1n], 1n), { first: 1, last: 1, closed: false });
  assert.deepEqual(change(NR.fcntl, [5n, F_DUPFD, 20n], 21n), { first: 21, last: 21, closed: false });
  assert.deepEqual(change(NR.close, [6n], 0n), { first: 6, last: 6, closed: true });
  assert.deepEqual(change(NR.close_range, [10n, 12n, 0n], 0n), { first: 10, last: 12, closed: true });
  assert.deepEqual(change(NR.close_range, [3n, U64_MAX, 0n], 0n), { first: 3, last: 1 << 20, closed: true });
  for (const [nr, args, result] of [
    [NR.read, [1n, 0x1000n, 10n], 5n],
    [NR.dup2, [4n, 4n], 4n],
    [NR.openat, [U64_MAX - 99n, 0x2000n, 0n], -2n],
    [NR.close, [1n], -9n],
    [NR.close_range, [0n, U32_MAX, CLOSE_RANGE_CLOEXEC], 0n],
    [NR.fcntl, [1n, F_GETFD, 0n], 1n],
  ] as Call[]) {
    assert.equal(change(nr, args, result), undefined, `${nr}(${args.join(', ')}) = ${result}`);
  }
});
