// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROGRAM_FILTER_MARKER, SECCOMP_RET, assemble, decide, rewriteFilter, runFilter, sigsysInfo } from '../../core/seccompFilters.js';
import { COMPAT_CALL_MARKER, UNTRACED_IP, seccompFilter } from '../../core/syscallBuffer.js';


const LD_NR: [number, number, number, number] = [0x20, 0, 0, 0]; // ld [0] (nr)
const LD_ARG0: [number, number, number, number] = [0x20, 0, 0, 16]; // ld [16] (args[0] low)
const jeq = (k: number, jt: number, jf: number): [number, number, number, number] => [0x15, jt, jf, k];
const ret = (k: number): [number, number, number, number] => [0x06, 0, 0, k];
const ALLOW = SECCOMP_RET.ALLOW;

/** errno EPERM for getuid (102), allow the rest. */
const errnoGetuid = assemble([LD_NR, jeq(102, 0, 1), ret(SECCOMP_RET.ERRNO | 1), ret(ALLOW)]);
/** SIGSYS for getuid when its first argument is 7. */
const trapGetuid7 = assemble([LD_NR, jeq(102, 0, 3), LD_ARG0, jeq(7, 0, 1), ret(SECCOMP_RET.TRAP | 9), ret(ALLOW)]);

test('runFilter evaluates loads, jumps and returns over seccomp_data', () => {
  const data = (nr: number, arg0 = 0n) => {
    const d = Buffer.alloc(64);
    d.writeInt32LE(nr, 0);
    d.writeBigUInt64LE(arg0, 16);
    return d;
  };
  assert.equal(runFilter(errnoGetuid, data(102)), SECCOMP_RET.ERRNO | 1);
  assert.equal(runFilter(errnoGetuid, data(39)), ALLOW);
  assert.equal(runFilter(trapGetuid7, data(102, 7n)), SECCOMP_RET.TRAP | 9);
  assert.equal(runFilter(trapGetuid7, data(102, 8n)), ALLOW);
  // ret A, after an ALU op; an out-of-range load is a misbehaving program.
  assert.equal(runFilter(assemble([[0x00, 0, 0, 5], [0x04, 0, 0, 3], [0x16, 0, 0, 0]]), data(0)), 8);
  assert.equal(runFilter(assemble([[0x20, 0, 0, 100], ret(ALLOW)]), data(0)), undefined);
});

test('decide takes the kernel\'s precedence among filters', () => {
  assert.equal(decide([errnoGetuid], 102, 0n, []), SECCOMP_RET.ERRNO | 1);
  assert.equal(decide([errnoGetuid, trapGetuid7], 102, 0n, [7n]) >>> 0, (SECCOMP_RET.TRAP | 9) >>> 0);
  assert.equal(decide([trapGetuid7, errnoGetuid], 102, 0n, [7n]) >>> 0, (SECCOMP_RET.TRAP | 9) >>> 0);
  assert.equal(decide([errnoGetuid, assemble([ret(SECCOMP_RET.KILL_PROCESS)])], 1, 0n, []) >>> 0, SECCOMP_RET.KILL_PROCESS >>> 0);
  assert.equal(decide([], 102, 0n, []), ALLOW);
});

test('rewriteFilter turns every action but allow and log into the marked RET_TRACE', () => {
  const marked = (SECCOMP_RET.TRACE | PROGRAM_FILTER_MARKER) >>> 0;
  const data = Buffer.alloc(64);
  data.writeInt32LE(102, 0);
  assert.equal(runFilter(rewriteFilter(errnoGetuid), data), marked);
  data.writeInt32LE(39, 0);
  assert.equal(runFilter(rewriteFilter(errnoGetuid), data), ALLOW);
  // ret A goes through the appended check, which keeps allow and log apart from the rest.
  const byA = (action: number) => assemble([[0x00, 0, 0, action], [0x16, 0, 0, 0]]);
  assert.equal(runFilter(rewriteFilter(byA(SECCOMP_RET.ERRNO | 5)), data), marked);
  assert.equal(runFilter(rewriteFilter(byA(ALLOW)), data), ALLOW);
  assert.equal(runFilter(rewriteFilter(byA(SECCOMP_RET.LOG)), data), ALLOW);
  assert.equal(rewriteFilter(errnoGetuid).length, errnoGetuid.length, 'no check appended without ret A');
});

test('sigsysInfo is the siginfo of a seccomp SIGSYS', () => {
  const info = sigsysInfo(107, 0x401234n, SECCOMP_RET.TRAP | 7);
  assert.deepEqual([info.readInt32LE(0), info.readInt32LE(4), info.readInt32LE(8), info.readBigUInt64LE(16), info.readInt32LE(24), info.readUInt32LE(28)], [31, 7, 1, 0x401234n, 107, 0xc000003e]);
});

test("tsrr's own recording filter: the trampoline's calls run, others stop, 32-bit ones with their marker", () => {
  const data = (arch: number, ip: bigint) => {
    const d = Buffer.alloc(64);
    d.writeUInt32LE(arch, 4);
    d.writeBigUInt64LE(ip, 8);
    return d;
  };
  const X86_64 = 0xc000003e;
  const filter = seccompFilter();
  assert.equal(runFilter(filter, data(X86_64, UNTRACED_IP)), SECCOMP_RET.ALLOW);
  assert.equal(runFilter(filter, data(X86_64, 0x401000n)), SECCOMP_RET.TRACE);
  // Same low half, another high half.
  assert.equal(runFilter(filter, data(X86_64, UNTRACED_IP + (1n << 32n))), SECCOMP_RET.TRACE);
  assert.equal(runFilter(filter, data(0x40000003, UNTRACED_IP)), SECCOMP_RET.TRACE | COMPAT_CALL_MARKER);
});
