// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { instructionLength } from '../../core/instructionLength.js';
import { patchSites, patchSitesOfFile } from '../../core/trapPatching.js';

const LIBS = ['/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/libc.so.6'];

/** objdump's instruction starts in the executable sections of `file`, by section. */
function objdumpStarts(file: string): Map<string, { vma: number; offset: number; size: number; starts: number[] }> {
  const sections = new Map<string, { vma: number; offset: number; size: number; starts: number[] }>();
  for (const line of execFileSync('objdump', ['-h', '-w', file]).toString().split('\n')) {
    const m = /^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(.*)$/.exec(line);
    if (m && m[5]!.includes('CODE')) sections.set(m[1]!, { size: parseInt(m[2]!, 16), vma: parseInt(m[3]!, 16), offset: parseInt(m[4]!, 16), starts: [] });
  }
  let current: { vma: number; starts: number[] } | undefined;
  for (const line of execFileSync('objdump', ['-d', '-w', '--no-show-raw-insn', file], { maxBuffer: 1 << 30 }).toString().split('\n')) {
    const s = /^Disassembly of section (\S+):$/.exec(line);
    if (s) current = sections.get(s[1]!);
    const i = /^\s+([0-9a-f]+):\t/.exec(line);
    if (i && current) current.starts.push(parseInt(i[1]!, 16) - current.vma);
  }
  return sections;
}

test('instruction lengths agree with objdump on every instruction of the dynamic loader and libc', () => {
  for (const file of LIBS) {
    const bytes = readFileSync(file);
    for (const [name, s] of objdumpStarts(file)) {
      const code = bytes.subarray(s.offset, s.offset + s.size);
      for (let k = 0; k + 1 < s.starts.length; k++) {
        const at = s.starts[k]!;
        const len = instructionLength(code, at);
        assert.equal(at + len, s.starts[k + 1], `${file} ${name}+0x${at.toString(16)}: length ${len}, objdump's next instruction is at +0x${s.starts[k + 1]!.toString(16)}`);
      }
    }
  }
});

test('the rdtsc, rdtscp and cpuid sites found in the dynamic loader and libc are those objdump shows', () => {
  for (const file of LIBS) {
    const fd = openSync(file, 'r');
    const sites = patchSitesOfFile(fd);
    closeSync(fd);
    const shown = execFileSync('objdump', ['-d', '-w', file], { maxBuffer: 1 << 30 }).toString().split('\n').filter((l) => /\t(rdtscp?|cpuid)\s*$/.test(l));
    assert.equal(sites.size, shown.length, `${file}: ${sites.size} sites, objdump shows ${shown.length}`);
    const bytes = readFileSync(file);
    for (const [offset, insn] of sites) {
      const expected = { rdtsc: '0f31', rdtscp: '0f01f9', cpuid: '0fa2' }[insn];
      assert.equal(bytes.subarray(offset, offset + expected.length / 2).toString('hex'), expected, `${file}+0x${offset.toString(16)}`);
    }
  }
});

const sites = (code: number[], functions: number[] = [], objects: [number, number][] = []) => [...patchSites(Uint8Array.from(code), functions, objects)];
const NOPS = (n: number) => Array<number>(n).fill(0x90);

test('rdtsc, rdtscp and cpuid are found where instructions start, not inside others', () => {
  assert.deepEqual(sites([0x55, 0x0f, 0x31, 0xc3]), [[1, 'rdtsc']]);
  assert.deepEqual(sites([0x0f, 0x01, 0xf9, 0xc3]), [[0, 'rdtscp']]);
  assert.deepEqual(sites([0x31, 0xc9, 0x0f, 0xa2, 0xc3]), [[2, 'cpuid']]);
  // mov $0x310f, %eax; lea 0x310f(%rip), %rax; and a prefixed rdtsc, left alone
  assert.deepEqual(sites([0xb8, 0x0f, 0x31, 0, 0, 0x48, 0x8d, 0x05, 0x0f, 0x31, 0, 0, 0x66, 0x0f, 0x31, 0xc3]), []);
  // movabs $imm64 holding the bytes, then the real one
  assert.deepEqual(sites([0x48, 0xb8, 0, 0x0f, 0x31, 0, 0, 0, 0, 0, 0x0f, 0x31, 0xc3]), [[10, 'rdtsc']]);
});

test('data among code is not patched: symbols of data objects, invalid bytes near the site', () => {
  const table = [0x06, 0x0f, 0x31, ...NOPS(8)]; // push %es is invalid in 64-bit mode: data
  assert.deepEqual(sites(table), []);
  assert.deepEqual(sites([...NOPS(4), 0x0f, 0x31, ...NOPS(8)], [], [[0, 12]]), []);
  // A function's start is an instruction start however near the invalid byte.
  assert.deepEqual(sites(table, [1]), [[1, 'rdtsc']]);
  // Far enough after the last invalid byte, code is trusted again.
  assert.deepEqual(sites([0x06, ...NOPS(70), 0x0f, 0x31, ...NOPS(8)]), [[71, 'rdtsc']]);
  // And not when what follows does not decode.
  assert.deepEqual(sites([...NOPS(70), 0x0f, 0x31, 0x06]), []);
});

test('a walk that runs into a function start starts again there', () => {
  // A 5-byte mov whose immediate covers the next function's rdtsc.
  assert.deepEqual(sites([0xb8, 0x0f, 0x31, 0xc3, 0x90, 0x90], []), []);
  assert.deepEqual(sites([0xb8, 0x0f, 0x31, 0xc3, 0x90, 0x90], [1]), [[1, 'rdtsc']]);
});
