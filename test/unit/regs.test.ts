// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REG_NAMES, REGS_SIZE, Registers, SYSCALL_ARG_REGS, type RegName } from '../../native/regs.js';

const U64_MAX = 0xffffffffffffffffn;

test('layout: 27 registers of 8 bytes in user_regs_struct order', () => {
  assert.equal(REG_NAMES.length, 27);
  assert.equal(REGS_SIZE, 27 * 8);
  assert.equal(new Registers().buf.length, REGS_SIZE);
  const offsets: [RegName, number][] = [['r15', 0], ['rax', 80], ['orig_rax', 120], ['rip', 128], ['eflags', 144], ['rsp', 152], ['fs_base', 168], ['gs', 208]];
  for (const [name, offset] of offsets) {
    const r = new Registers();
    r.set(name, 0x1122334455667788n);
    assert.equal(r.buf.readBigUInt64LE(offset), 0x1122334455667788n, name);
  }
});

test('get and set every register independently', () => {
  const r = new Registers();
  REG_NAMES.forEach((n, i) => r.set(n, BigInt(i + 1) * 0x0101010101n));
  REG_NAMES.forEach((n, i) => assert.equal(r.get(n), BigInt(i + 1) * 0x0101010101n, n));
});

test('set stores values modulo 2^64', () => {
  const cases: [value: bigint, stored: bigint][] = [
    [0n, 0n],
    [U64_MAX, U64_MAX],
    [-1n, U64_MAX],
    [-2n, U64_MAX - 1n],
    [1n << 64n, 0n],
    [(1n << 64n) + 5n, 5n],
    [-(1n << 63n), 1n << 63n],
  ];
  for (const [value, stored] of cases) {
    const r = new Registers();
    r.set('rbx', value);
    assert.equal(r.get('rbx'), stored, String(value));
  }
});

test('accessors rip, rsp, rax, origRax', () => {
  const r = new Registers();
  r.rip = 0x401000n;
  r.rax = 60n;
  r.origRax = 231n;
  r.set('rsp', 0x7ffc0000n);
  assert.equal(r.rip, 0x401000n);
  assert.equal(r.get('rip'), 0x401000n);
  assert.equal(r.rax, 60n);
  assert.equal(r.origRax, 231n);
  assert.equal(r.get('orig_rax'), 231n);
  assert.equal(r.rsp, 0x7ffc0000n);
});

test('syscallNumber is signed', () => {
  const cases: [origRax: bigint, nr: number][] = [[-1n, -1], [U64_MAX, -1], [0n, 0], [231n, 231], [0x40000000n | 1n, 0x40000001]];
  for (const [origRax, nr] of cases) {
    const r = new Registers();
    r.origRax = origRax;
    assert.equal(r.syscallNumber, nr, String(origRax));
  }
});

test('result is signed', () => {
  const cases: [rax: bigint, result: bigint][] = [[0n, 0n], [42n, 42n], [-2n, -2n], [U64_MAX - 37n, -38n], [-4095n, -4095n], [0x7fffffffffffffffn, 0x7fffffffffffffffn], [1n << 63n, -(1n << 63n)]];
  for (const [rax, result] of cases) {
    const r = new Registers();
    r.rax = rax;
    assert.equal(r.result, result, String(rax));
    assert.equal(r.rax, BigInt.asUintN(64, rax), 'rax itself is unsigned');
  }
});

test('args and setArg follow the syscall ABI (rdi, rsi, rdx, r10, r8, r9)', () => {
  assert.deepEqual(SYSCALL_ARG_REGS, ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9']);
  const r = new Registers();
  r.set('rcx', 999n); // clobbered by syscall, never an argument
  for (let i = 0; i < 6; i++) r.setArg(i, BigInt(i + 1) * 11n);
  assert.deepEqual(r.args(), [11n, 22n, 33n, 44n, 55n, 66n]);
  assert.equal(r.get('r10'), 44n);
  assert.equal(r.get('rcx'), 999n);
  for (let i = 0; i < 6; i++) assert.equal(r.arg(i), BigInt(i + 1) * 11n);
  r.setArg(0, -100n); // AT_FDCWD
  assert.equal(r.arg(0), U64_MAX - 99n);
  assert.equal(BigInt.asIntN(64, r.arg(0)), -100n);
});

test('clone is a deep copy; equals compares bytes', () => {
  const r = new Registers();
  r.rip = 5n;
  const c = r.clone();
  assert.ok(c.equals(r));
  assert.notEqual(c.buf, r.buf);
  c.rip = 6n;
  assert.equal(r.rip, 5n);
  assert.ok(!c.equals(r));
});

test('a Registers wraps the buffer it is given', () => {
  const buf = Buffer.alloc(REGS_SIZE);
  const r = new Registers(buf);
  r.rax = 7n;
  assert.equal(buf.readBigUInt64LE(80), 7n);
});

test('diff names the registers that differ, in REG_NAMES order', () => {
  const cases: [changes: [RegName, bigint][], expected: RegName[]][] = [
    [[], []],
    [[['rip', 1n]], ['rip']],
    [[['gs', 1n], ['r15', 2n], ['rax', 3n]], ['r15', 'rax', 'gs']],
    [[['eflags', 0x246n], ['eflags', 0n]], []],
  ];
  for (const [changes, expected] of cases) {
    const a = new Registers();
    const b = a.clone();
    for (const [name, v] of changes) b.set(name, v);
    assert.deepEqual(a.diff(b), expected, JSON.stringify(changes.map(([n]) => n)));
    assert.deepEqual(b.diff(a), expected);
  }
  const all = new Registers(Buffer.alloc(REGS_SIZE, 0xff));
  assert.deepEqual(new Registers().diff(all), [...REG_NAMES]);
});

test('toJSON: every register as 0x-hex', () => {
  const r = new Registers();
  r.rip = 0x401000n;
  r.rax = -1n;
  const json = r.toJSON();
  assert.deepEqual(Object.keys(json), [...REG_NAMES]);
  assert.equal(json.rip, '0x401000');
  assert.equal(json.rax, '0xffffffffffffffff');
  assert.equal(json.r15, '0x0');
  assert.deepEqual(JSON.parse(JSON.stringify({ regs: r })).regs, json);
});
