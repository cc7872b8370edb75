// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import {
  NR,
  SYSCALLS,
  syscallName,
  syscallNumber,
  syscallSpec,
  type MemoryReader,
  type Region,
} from '../../native/syscalls.js';

const HEADER = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';

/** Tracee memory as a few little-endian words at fixed addresses. */
function fakeMemory(words: Record<string, [bytes: 4 | 8, value: bigint]>): MemoryReader {
  const read = (addr: bigint, bytes: 4 | 8): bigint => {
    const word = words[addr.toString(16)];
    assert.ok(word && word[0] === bytes, `unexpected ${bytes}-byte read at 0x${addr.toString(16)}`);
    return word[1];
  };
  return { u32: (addr) => Number(read(addr, 4)), u64: (addr) => read(addr, 8) };
}

const noMemory = fakeMemory({});

function writes(name: string, args: bigint[], result: bigint, mem = noMemory): Region[] {
  const spec = syscallSpec(syscallNumber(name) ?? -1);
  assert.ok(spec?.writes, `${name} has no writes`);
  return spec.writes({ args, result, mem, fdInfo: () => '' });
}

test('numbers and names match unistd_64.h', { skip: !existsSync(HEADER) && 'no kernel headers' }, () => {
  const defines = [...readFileSync(HEADER, 'utf8').matchAll(/^#define __NR_(\w+)\s+(\d+)\s*$/gm)];
  assert.ok(defines.length > 300);
  for (const [, name = '', nr = ''] of defines) {
    assert.equal(syscallName(Number(nr)), name);
    assert.equal(syscallNumber(name), Number(nr));
  }
});

test('the table is consistent', () => {
  const names = new Set<string>();
  for (const [nr, spec] of SYSCALLS) {
    assert.equal(spec.nr, nr);
    assert.ok(spec.argNames.length <= 6, spec.name);
    assert.ok(!names.has(spec.name), `${spec.name} twice`);
    names.add(spec.name);
  }
  for (const [name, nr] of Object.entries(NR)) assert.equal(syscallName(nr), name);
  assert.deepEqual(syscallSpec(NR.openat)?.argNames, ['dfd', 'filename', 'flags', 'mode']);
  assert.equal(syscallName(1000), 'syscall_1000');
  assert.equal(syscallNumber('nosuchcall'), undefined);
});

test('the package exports every x86-64 syscall by name and number', async () => {
  const api = await import('../../core/index.js');
  // The kernel's table: 0-336 (x32's numbers start at 512) and 424 on; none in between.
  const numbers = [...Array(336).keys(), ...Array.from({ length: 47 }, (_, i) => 424 + i)];
  assert.deepEqual(Object.values(api.NR).sort((a, b) => a - b), numbers);
  for (const nr of numbers) assert.equal(api.syscallNumber(api.syscallName(nr)), nr);
  assert.equal(api.NR.listns, 470);
  assert.equal(api.NR.uretprobe, 335);
  assert.equal(api.NR.io_uring_enter, 426);
  assert.equal(api.syscallName(400), 'syscall_400');
  assert.ok(Object.isFrozen(api.NR));
});

test('policies', () => {
  const cases: [string, string][] = [
    ['read', 'emulate'], ['openat', 'emulate'], ['clock_gettime', 'emulate'], ['mmap', 'real'],
    ['execve', 'real'], ['clone3', 'real'], ['rt_sigaction', 'real'], ['exit_group', 'real'],
    ['mlock2', 'real'], ['membarrier', 'real'], ['rseq', 'deny'],
  ];
  for (const [name, policy] of cases) assert.equal(syscallSpec(syscallNumber(name) ?? -1)?.policy, policy, name);
});

test('writes of simple calls', () => {
  const cases: [name: string, args: bigint[], result: bigint, expected: Region[]][] = [
    ['read', [3n, 0x1000n, 100n], 42n, [[0x1000n, 42]]],
    ['read', [3n, 0x1000n, 100n], 0n, []],
    ['getdents64', [3n, 0x2000n, 4096n], 512n, [[0x2000n, 512]]],
    ['stat', [0x100n, 0x2000n], 0n, [[0x2000n, 144]]],
    ['newfstatat', [-100n, 0x100n, 0x2000n, 0n], 0n, [[0x2000n, 144]]],
    ['wait4', [-1n, 0x3000n, 0n, 0n], 77n, [[0x3000n, 4]]],
    ['wait4', [-1n, 0x3000n, 0n, 0x4000n], 77n, [[0x3000n, 4], [0x4000n, 144]]],
    ['poll', [0x5000n, 3n, -1n], 1n, [[0x5000n, 24]]],
    // n = 65 needs two longs per fd_set; exceptfds is null.
    ['pselect6', [65n, 0x1000n, 0x2000n, 0n, 0x3000n, 0n], 1n, [[0x1000n, 16], [0x2000n, 16], [0x3000n, 16]]],
    ['ioctl', [0n, 0x5401n, 0x6000n], 0n, [[0x6000n, 36]]],
    ['ioctl', [0n, 0x5413n, 0x6000n], 0n, [[0x6000n, 8]]],
    ['ioctl', [0n, 0x5402n, 0x6000n], 0n, []], // TCSETS only reads
    ['time', [0n], 1700000000n, []],
    ['epoll_wait', [4n, 0x7000n, 16n, -1n], 2n, [[0x7000n, 24]]],
  ];
  for (const [name, args, result, expected] of cases) {
    assert.deepEqual(writes(name, args, result), expected, `${name}(${args.join(', ')}) = ${result}`);
  }
});

test('readv spreads the result over the iovecs', () => {
  const mem = fakeMemory({
    '100': [8, 0x2000n], '108': [8, 10n],
    '110': [8, 0x3000n], '118': [8, 100n],
  });
  assert.deepEqual(writes('readv', [3n, 0x100n, 2n], 25n, mem), [[0x2000n, 10], [0x3000n, 15]]);
  assert.deepEqual(writes('readv', [3n, 0x100n, 2n], 4n, mem), [[0x2000n, 4]]);
});

test('recvmsg writes the name, data, control and the msghdr lengths and flags', () => {
  const mem = fakeMemory({
    '100': [8, 0x2000n], '108': [4, 16n], // msg_name, msg_namelen
    '110': [8, 0x300n], '118': [8, 2n], // msg_iov, msg_iovlen
    '120': [8, 0x4000n], '128': [8, 24n], // msg_control, msg_controllen
    '300': [8, 0x5000n], '308': [8, 8n],
    '310': [8, 0x6000n], '318': [8, 100n],
  });
  assert.deepEqual(writes('recvmsg', [3n, 0x100n, 0n], 20n, mem), [
    [0x2000n, 16], [0x5000n, 8], [0x6000n, 12], [0x4000n, 24],
    [0x108n, 4], [0x128n, 8], [0x130n, 4],
  ]);
});

test('socket addresses follow the length the kernel stored', () => {
  const mem = fakeMemory({ '200': [4, 110n] });
  assert.deepEqual(writes('accept4', [3n, 0x1000n, 0x200n, 0n], 5n, mem), [[0x1000n, 110], [0x200n, 4]]);
  assert.deepEqual(writes('accept4', [3n, 0n, 0n, 0n], 5n), []);
});
