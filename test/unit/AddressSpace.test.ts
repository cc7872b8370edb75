// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AddressSpace, parseMaps, type MappingKind } from '../../core/AddressSpace.js';

/** Lines as the kernel prints them (note the padding and the trailing space of unnamed mappings). */
const MAPS: [line: string, start: bigint, end: bigint, prot: string, offset: bigint, path: string, kind: MappingKind][] = [
  ['5581b8a00000-5581b8a02000 r--p 00000000 fe:00 260131                     /usr/bin/cat', 0x5581b8a00000n, 0x5581b8a02000n, 'r--p', 0n, '/usr/bin/cat', 'file'],
  ['5581b8a02000-5581b8a07000 r-xp 00002000 fe:00 260131                     /usr/bin/cat', 0x5581b8a02000n, 0x5581b8a07000n, 'r-xp', 0x2000n, '/usr/bin/cat', 'file'],
  ['5581ba4d0000-5581ba4f1000 rw-p 00000000 00:00 0                          [heap]', 0x5581ba4d0000n, 0x5581ba4f1000n, 'rw-p', 0n, '[heap]', 'heap'],
  ['7f3a1c000000-7f3a1c021000 rw-p 00000000 00:00 0 ', 0x7f3a1c000000n, 0x7f3a1c021000n, 'rw-p', 0n, '', 'anonymous'],
  ['7f3a1c021000-7f3a20000000 ---p 00000000 00:00 0 ', 0x7f3a1c021000n, 0x7f3a20000000n, '---p', 0n, '', 'anonymous'],
  ['7f3a20000000-7f3a20001000 rw-p 00000000 00:00 0', 0x7f3a20000000n, 0x7f3a20001000n, 'rw-p', 0n, '', 'anonymous'],
  ['7f3a21000000-7f3a21100000 rw-s 00000000 00:01 1234                       /dev/zero (deleted)', 0x7f3a21000000n, 0x7f3a21100000n, 'rw-s', 0n, '/dev/zero (deleted)', 'shared-anonymous'],
  ['7f3a21100000-7f3a21200000 rw-s 00000000 00:01 32769                      /SYSV00000000 (deleted)', 0x7f3a21100000n, 0x7f3a21200000n, 'rw-s', 0n, '/SYSV00000000 (deleted)', 'shared-anonymous'],
  ['7f3a21200000-7f3a21201000 rw-p 00000000 00:00 0                          [anon:libc_malloc]', 0x7f3a21200000n, 0x7f3a21201000n, 'rw-p', 0n, '[anon:libc_malloc]', 'anonymous'],
  ['7f3a21201000-7f3a21202000 rw-s 00000000 00:01 77                         [anon_shmem:shared]', 0x7f3a21201000n, 0x7f3a21202000n, 'rw-s', 0n, '[anon_shmem:shared]', 'shared-anonymous'],
  ['7f3a22000000-7f3a22026000 r--p 00000000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6', 0x7f3a22000000n, 0x7f3a22026000n, 'r--p', 0n, '/usr/lib/x86_64-linux-gnu/libc.so.6', 'file'],
  ['7f3a22026000-7f3a2217c000 r-xp 00026000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6', 0x7f3a22026000n, 0x7f3a2217c000n, 'r-xp', 0x26000n, '/usr/lib/x86_64-linux-gnu/libc.so.6', 'file'],
  ['7f3a22200000-7f3a22201000 r--p 00000000 08:01 4242                       /home/user/My Documents/a file with  spaces.dat', 0x7f3a22200000n, 0x7f3a22201000n, 'r--p', 0n, '/home/user/My Documents/a file with  spaces.dat', 'file'],
  ['7f3a22201000-7f3a22202000 r-xp 00001000 08:01 4243                       /tmp/libgone.so (deleted)', 0x7f3a22201000n, 0x7f3a22202000n, 'r-xp', 0x1000n, '/tmp/libgone.so (deleted)', 'file'],
  ['7f3a22202000-7f3a22203000 rw-s 00000000 00:01 9                          /memfd:jit (deleted)', 0x7f3a22202000n, 0x7f3a22203000n, 'rw-s', 0n, '/memfd:jit (deleted)', 'file'],
  ['7f3a22203000-7f3a22204000 rw-s 00000000 00:05 1025                       /dev/shm/region', 0x7f3a22203000n, 0x7f3a22204000n, 'rw-s', 0n, '/dev/shm/region', 'file'],
  ['7f3a22300000-7f3a22301000 rw-p 00000000 00:00 0                          [stack:4242]', 0x7f3a22300000n, 0x7f3a22301000n, 'rw-p', 0n, '[stack:4242]', 'stack'],
  ['7f3a22fff000-7f3a23000000 rw-p 00abc000 103:02 123456789                 /big/offset/file', 0x7f3a22fff000n, 0x7f3a23000000n, 'rw-p', 0xabc000n, '/big/offset/file', 'file'],
  ['7ffd5a9e1000-7ffd5aa02000 rw-p 00000000 00:00 0                          [stack]', 0x7ffd5a9e1000n, 0x7ffd5aa02000n, 'rw-p', 0n, '[stack]', 'stack'],
  ['7ffd5abf0000-7ffd5abf4000 r--p 00000000 00:00 0                          [vvar]', 0x7ffd5abf0000n, 0x7ffd5abf4000n, 'r--p', 0n, '[vvar]', 'vvar'],
  ['7ffd5abf4000-7ffd5abf6000 r--p 00000000 00:00 0                          [vvar_vclock]', 0x7ffd5abf4000n, 0x7ffd5abf6000n, 'r--p', 0n, '[vvar_vclock]', 'vvar'],
  ['7ffd5abf6000-7ffd5abf8000 r-xp 00000000 00:00 0                          [vdso]', 0x7ffd5abf6000n, 0x7ffd5abf8000n, 'r-xp', 0n, '[vdso]', 'vdso'],
  ['ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]', 0xffffffffff600000n, 0xffffffffff601000n, '--xp', 0n, '[vsyscall]', 'vsyscall'],
];

test('parseMaps: a realistic /proc/PID/maps', () => {
  const parsed = parseMaps(MAPS.map(([line]) => line).join('\n') + '\n');
  assert.equal(parsed.length, MAPS.length);
  parsed.forEach((m, i) => {
    const [line, start, end, prot, offset, path, kind] = MAPS[i]!;
    const object = /^\S+ \S+ \S+ (\S+ \d+)/.exec(line)![1];
    assert.deepEqual(m, { start, end, prot, offset, path, kind, object }, line);
  });
});

for (const [line, , , , , path, kind] of MAPS) {
  test(`parseMaps: ${path || '(anonymous)'} ${line.slice(0, 30)}… → ${kind}`, () => {
    const [m, ...rest] = parseMaps(line);
    assert.equal(rest.length, 0);
    assert.equal(m?.kind, kind);
    assert.equal(m?.path, path);
  });
}

test('parseMaps: a private mapping of /dev/zero is anonymous memory, not shared', () => {
  const [m] = parseMaps('7f3a21000000-7f3a21100000 rw-p 00000000 00:06 5                          /dev/zero');
  assert.equal(m?.kind, 'anonymous');
});

test('parseMaps: ignores blank and malformed lines', () => {
  const text = ['', 'garbage', '7f00-7f01 rw-p', MAPS[2]![0], '   ', 'zz-yy rw-p 00000000 00:00 0 [heap]'].join('\n');
  const parsed = parseMaps(text);
  assert.equal(parsed.length, 1);
  assert.equal(parsed[0]?.kind, 'heap');
  assert.deepEqual(parseMaps(''), []);
});

test('parseMaps: the real /proc/self/maps', () => {
  const text = readFileSync('/proc/self/maps', 'utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const maps = parseMaps(text);
  assert.equal(maps.length, lines.length, 'every line parses');
  const kinds = new Set(maps.map((m) => m.kind));
  for (const k of ['file', 'anonymous', 'stack', 'vdso'] as const) assert.ok(kinds.has(k), `no ${k} mapping`);
  assert.equal(maps.filter((m) => m.kind === 'vdso').length, 1);
  assert.equal(maps.filter((m) => m.path === '[stack]').length, 1);
  assert.ok(maps.some((m) => m.kind === 'file' && (m.path === process.execPath || m.path.endsWith('/node'))), 'node itself is mapped');
  for (const m of maps) {
    assert.ok(m.start < m.end, `${m.path}: start < end`);
    assert.equal(m.start % 4096n, 0n);
    assert.equal(m.end % 4096n, 0n);
    assert.match(m.prot, /^[r-][w-][x-][ps]$/);
    if (m.kind === 'file') assert.ok(m.path.startsWith('/'), m.path);
  }
  for (let i = 1; i < maps.length; i++) assert.ok(maps[i - 1]!.end <= maps[i]!.start, 'sorted and disjoint');
});

test('AddressSpace of this process: find and at', () => {
  const as = new AddressSpace(process.pid);
  assert.equal(as.syscallInsn, 0n);
  const vdso = as.find('vdso');
  assert.ok(vdso);
  assert.equal(vdso.path, '[vdso]');
  assert.deepEqual(as.at(vdso.start), vdso);
  assert.deepEqual(as.at(vdso.start + 1n), vdso);
  assert.notDeepEqual(as.at(vdso.end), vdso);
  const heap = as.find('heap');
  if (heap) assert.equal(heap.path, '[heap]');
  assert.equal(as.at(0n), undefined);
  const vsyscall = as.find('vsyscall');
  if (vsyscall) assert.equal(vsyscall.start, 0xffffffffff600000n);
});
