// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { parseMaps } from '../../core/AddressSpace.js';
import { elfFunctions } from '../../core/vdso.js';

/** The vDSO image of this process, read through /proc/self/mem. */
function readVdso(): { image: Buffer; start: bigint } {
  const vdso = parseMaps(readFileSync('/proc/self/maps', 'utf8')).find((m) => m.kind === 'vdso');
  assert.ok(vdso, 'this process has a vDSO');
  const size = Number(vdso.end - vdso.start);
  const image = Buffer.alloc(size);
  const fd = openSync('/proc/self/mem', 'r');
  try {
    let done = 0;
    while (done < size) {
      const n = readSync(fd, image, done, size - done, Number(vdso.start) + done);
      assert.ok(n > 0, 'read of the vDSO stopped short');
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return { image, start: vdso.start };
}

const { image } = readVdso();

test('the image read is an x86-64 ELF shared object', () => {
  assert.deepEqual([...image.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
  assert.equal(image[4], 2, 'ELFCLASS64');
  assert.equal(image.readUInt16LE(0x10), 3, 'ET_DYN');
  assert.equal(image.readUInt16LE(0x12), 62, 'EM_X86_64');
});

const funcs = elfFunctions(image);

for (const name of ['clock_gettime', 'gettimeofday', 'time', 'getcpu', 'clock_getres']) {
  test(`elfFunctions finds ${name} inside the image`, () => {
    const offsets = [funcs.get(`__vdso_${name}`), funcs.get(name)].filter((o) => o !== undefined);
    assert.ok(offsets.length > 0, `${name} not among ${[...funcs.keys()].join(', ')}`);
    for (const off of offsets) {
      assert.ok(Number.isInteger(off), `${name} at ${off}`);
      assert.ok(off > 0 && off < image.length, `${name} at ${off} is outside the ${image.length}-byte image`);
    }
  });
}

test('aliases share an offset', () => {
  for (const [name, off] of funcs) {
    if (!name.startsWith('__vdso_')) continue;
    const alias = funcs.get(name.slice('__vdso_'.length));
    if (alias !== undefined) assert.equal(alias, off, name);
  }
});

test('only function symbols, each with a name and an offset in the image', () => {
  assert.ok(funcs.size >= 3);
  for (const [name, off] of funcs) {
    assert.match(name, /^[A-Za-z_][A-Za-z0-9_]*$/);
    assert.ok(off >= 0 && off < image.length, `${name} at ${off}`);
  }
  assert.ok(!funcs.has('LINUX_2.6'), 'version definitions are not functions');
});

test('function offsets point at code (not zero padding)', () => {
  const off = funcs.get('__vdso_clock_gettime') ?? funcs.get('clock_gettime');
  assert.ok(off !== undefined);
  assert.ok(image.subarray(off, off + 8).some((b) => b !== 0));
});

test('elfFunctions does not depend on where the image came from', () => {
  assert.deepEqual(elfFunctions(Buffer.from(image)), funcs);
});
