// SPDX-License-Identifier: MIT
/**
 * vDSO patching. The vDSO's time functions read the clock in user space, which no tracer can
 * see; each is overwritten with `mov eax, NR; syscall; ret` so the time comes from a syscall
 * that is recorded and replayed. getrandom is made to return ENOSYS so libc falls back to the
 * syscall. Patched again after every exec (exec maps a fresh vDSO).
 */
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { parseMaps } from './AddressSpace.js';
import type { Task } from './Task.js';
import { TsrrError } from '../native/TsrrError.js';

const SYSCALL_STUBS: Record<string, number> = {
  clock_gettime: 228,
  gettimeofday: 96,
  time: 201,
  getcpu: 309,
  clock_getres: 229,
};
const ENOSYS_STUB = Buffer.from([0xb8, 0xda, 0xff, 0xff, 0xff, 0xc3]); // mov eax, -38; ret
const SHT_DYNSYM = 11;
const STT_FUNC = 2;

const stub = (nr: number) => Buffer.from([0xb8, nr & 0xff, (nr >> 8) & 0xff, 0, 0, 0x0f, 0x05, 0xc3]);

/** Function symbols of an ELF image: name → offset from the image start. */
export function elfFunctions(image: Buffer): Map<string, number> {
  const out = new Map<string, number>();
  const phoff = Number(image.readBigUInt64LE(0x20));
  const shoff = Number(image.readBigUInt64LE(0x28));
  const phnum = image.readUInt16LE(0x38);
  const shnum = image.readUInt16LE(0x3c);
  let base = 0;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * 56;
    if (image.readUInt32LE(ph) === 1) {
      base = Number(image.readBigUInt64LE(ph + 16)); // p_vaddr of the first PT_LOAD
      break;
    }
  }
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * 64;
    if (image.readUInt32LE(sh + 4) !== SHT_DYNSYM) continue;
    const symoff = Number(image.readBigUInt64LE(sh + 24));
    const symsize = Number(image.readBigUInt64LE(sh + 32));
    const strsh = shoff + image.readUInt32LE(sh + 40) * 64;
    const stroff = Number(image.readBigUInt64LE(strsh + 24));
    for (let s = symoff; s + 24 <= symoff + symsize; s += 24) {
      if ((image.readUInt8(s + 4) & 0xf) !== STT_FUNC) continue;
      const nameStart = stroff + image.readUInt32LE(s);
      const name = image.toString('latin1', nameStart, image.indexOf(0, nameStart));
      out.set(name, Number(image.readBigUInt64LE(s + 8)) - base);
    }
  }
  return out;
}

/** The patches for a vDSO image: [offset, bytes] pairs, and the offset of a `syscall`
 * instruction among them. */
export function vdsoPatches(image: Buffer): { patches: [number, Buffer][]; syscallOffset: number } {
  const patches: [number, Buffer][] = [];
  let syscallOffset = -1;
  for (const [name, offset] of elfFunctions(image)) {
    const base = name.replace(/^__vdso_/, '');
    const nr = SYSCALL_STUBS[base];
    if (nr !== undefined) {
      patches.push([offset, stub(nr)]);
      syscallOffset = offset + 5;
    } else if (base === 'getrandom') {
      patches.push([offset, ENOSYS_STUB]);
    }
  }
  return { patches, syscallOffset };
}

/** Patches the task's vDSO and returns the address of a `syscall` instruction inside it. */
export function patchVdso(task: Task): bigint {
  const vdso = task.as.find('vdso');
  if (!vdso) throw new TsrrError('UNSUPPORTED', `task ${task.tid} has no vDSO`, { tid: task.tid });
  const { patches, syscallOffset } = vdsoPatches(task.readMem(vdso.start, Number(vdso.end - vdso.start)));
  if (syscallOffset < 0) throw new TsrrError('UNSUPPORTED', 'the vDSO has no clock_gettime to patch', { tid: task.tid });
  for (const [offset, bytes] of patches) task.writeMem(vdso.start + BigInt(offset), bytes);
  return vdso.start + BigInt(syscallOffset);
}

let selfPatched = false;

/** Patches tsrr's own vDSO the same way, so that its clocks keep working in a thread that
 * traps rdtsc (see native/cpu.c). */
export function patchOwnVdso(): void {
  if (selfPatched) return;
  const vdso = parseMaps(readFileSync('/proc/self/maps', 'utf8')).find((m) => m.kind === 'vdso');
  if (!vdso) return;
  const fd = openSync('/proc/self/mem', 'r+');
  try {
    const image = Buffer.alloc(Number(vdso.end - vdso.start));
    readSync(fd, image, 0, image.length, Number(vdso.start));
    for (const [offset, bytes] of vdsoPatches(image).patches) writeSync(fd, bytes, 0, bytes.length, Number(vdso.start) + offset);
  } finally {
    closeSync(fd);
  }
  selfPatched = true;
}
