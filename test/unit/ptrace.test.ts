// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PTRACE_EVENT, SIG, decodeStatus, type WaitStatus } from '../../native/ptrace.js';

const CASES: [name: string, status: number, expected: WaitStatus][] = [
  ['exited with code 3', 3 << 8, { kind: 'exited', code: 3 }],
  ['exited with code 0', 0, { kind: 'exited', code: 0 }],
  ['exited with code 255', 0xff00, { kind: 'exited', code: 255 }],
  ['killed by SIGKILL', 9, { kind: 'killed', signal: 9, core: false }],
  ['killed by SIGKILL, core bit', 9 | 0x80, { kind: 'killed', signal: 9, core: true }],
  ['killed by SIGSEGV with a core dump', 0x8b, { kind: 'killed', signal: 11, core: true }],
  ['killed by SIGTERM', 15, { kind: 'killed', signal: 15, core: false }],
  ['killed by signal 64', 64, { kind: 'killed', signal: 64, core: false }],
  ['syscall stop (SIGTRAP|0x80)', 0x857f, { kind: 'syscall' }],
  ['exec event stop', (PTRACE_EVENT.EXEC << 16) | 0x57f, { kind: 'event', event: 4, signal: SIG.TRAP }],
  ['clone event stop', (PTRACE_EVENT.CLONE << 16) | 0x57f, { kind: 'event', event: 3, signal: SIG.TRAP }],
  ['exit event stop', (PTRACE_EVENT.EXIT << 16) | 0x57f, { kind: 'event', event: 6, signal: SIG.TRAP }],
  ['seccomp event stop', (PTRACE_EVENT.SECCOMP << 16) | 0x57f, { kind: 'event', event: 7, signal: SIG.TRAP }],
  ['group stop under SEIZE (PTRACE_EVENT_STOP)', (PTRACE_EVENT.STOP << 16) | 0x137f, { kind: 'event', event: 128, signal: SIG.STOP }],
  ['signal stop SIGSEGV', 0xb7f, { kind: 'signal', signal: SIG.SEGV }],
  ['signal stop SIGTRAP (breakpoint or single step)', 0x57f, { kind: 'signal', signal: SIG.TRAP }],
  ['signal stop SIGSTOP', 0x137f, { kind: 'signal', signal: SIG.STOP }],
  ['signal stop SIGCHLD', 0x117f, { kind: 'signal', signal: SIG.CHLD }],
  ['signal stop of a realtime signal', (34 << 8) | 0x7f, { kind: 'signal', signal: 34 }],
];

for (const [name, status, expected] of CASES) {
  test(`decodeStatus(0x${status.toString(16)}): ${name}`, () => {
    assert.deepEqual(decodeStatus(status), expected);
  });
}

test('constants match the kernel ABI', () => {
  assert.deepEqual(PTRACE_EVENT, { FORK: 1, VFORK: 2, CLONE: 3, EXEC: 4, VFORK_DONE: 5, EXIT: 6, SECCOMP: 7, STOP: 128 });
  assert.equal(SIG.TRAP, 5);
  assert.equal(SIG.SEGV, 11);
  assert.equal(SIG.KILL, 9);
  assert.equal(SIG.STOP, 19);
});
