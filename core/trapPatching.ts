// SPDX-License-Identifier: MIT
/**
 * Instructions patched to trap where the CPU will not trap them. Some virtual machines ignore
 * PR_SET_TSC (CR4.TSD), so rdtsc runs unseen and returns another value on replay; CPUs without
 * CPUID faulting run cpuid unseen, and a VM may answer it differently from one run to the next
 * (the APIC id of whichever host CPU runs the vCPU). There tsrr finds those instructions in the
 * code sections of every ELF file a process maps executable (walking its code instruction by
 * instruction from each function's start) and puts ud2 in their place: the SIGILL stops the
 * task at the site, where tsrr emulates the instruction as it does a trapped one. Record and
 * replay patch at the same calls. Code made at run time (a JIT) and shared mappings of files
 * are left alone.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { strerror } from '../native/libc.js';
import { TsrrError } from '../native/TsrrError.js';
import type { Mapping } from './AddressSpace.js';
import { instructionLength } from './instructionLength.js';
import type { Task } from './Task.js';
import { mappedFilePath } from './procfs.js';

export type PatchedInstruction = 'rdtsc' | 'rdtscp' | 'cpuid';

const ORIGINAL: Record<PatchedInstruction, Buffer> = { rdtsc: Buffer.of(0x0f, 0x31), rdtscp: Buffer.of(0x0f, 0x01, 0xf9), cpuid: Buffer.of(0x0f, 0xa2) };
/** What a site holds once patched: ud2, and a nop to fill rdtscp's third byte. */
const PATCH: Record<PatchedInstruction, Buffer> = { rdtsc: Buffer.of(0x0f, 0x0b), rdtscp: Buffer.of(0x0f, 0x0b, 0x90), cpuid: Buffer.of(0x0f, 0x0b) };
const PATCHABLE = Object.keys(ORIGINAL) as PatchedInstruction[];

/** The instruction `name` names, if tsrr patches it (names read from a trace or checkpoint). */
export const patchable = (name: string): PatchedInstruction | undefined => PATCHABLE.find((p) => p === name);

/** Which of the instructions tsrr traps `bytes` hold at `at`, if one. */
export const instructionAt = (bytes: Uint8Array, at = 0): PatchedInstruction | undefined =>
  PATCHABLE.find((p) => ORIGINAL[p].every((b, i) => bytes[at + i] === b));
const SHF_EXECINSTR = 4n;
const SHT_NOBITS = 8;

/** Sites by file (device, inode, size, mtime): file offset → instruction. */
const sitesByFile = new Map<string, Map<number, PatchedInstruction>>();

/** An executable section: where it is in the file, and its symbols' ranges within it. */
interface CodeSection {
  offset: number;
  size: number;
  /** Section offsets where functions start: walks begin there afresh. */
  functions: number[];
  /** [start, end) of data objects placed among the code: never walked. */
  objects: [number, number][];
}

/** The rdtsc, rdtscp and cpuid instructions in the executable sections of ELF file `fd`, by
 * file offset; none for a file that is not ELF or has no section headers. */
export function patchSitesOfFile(fd: number): Map<number, PatchedInstruction> {
  const st = fstatSync(fd, { bigint: true });
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  let sites = sitesByFile.get(key);
  if (!sites) {
    sites = new Map();
    for (const section of codeSections(fd, st.size)) {
      const code = Buffer.alloc(section.size);
      readSync(fd, code, 0, section.size, section.offset);
      // Only where the byte pattern is: most code has none, and then no walk is needed.
      if (PATCHABLE.every((k) => code.indexOf(ORIGINAL[k]) < 0)) continue;
      for (const [at, insn] of patchSites(code, section.functions, section.objects)) sites.set(section.offset + at, insn);
    }
    sitesByFile.set(key, sites);
  }
  return sites;
}

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_OBJECT = 1;
const STT_FUNC = 2;

/** The executable sections of ELF file `fd` of `fileSize` bytes, with the functions and data
 * objects its symbol table (or else its dynamic one) places in them. */
function codeSections(fd: number, fileSize: bigint): CodeSection[] {
  const read = (offset: bigint, size: number): Buffer | undefined => {
    if (offset + BigInt(size) > fileSize) return undefined;
    const b = Buffer.alloc(size);
    return readSync(fd, b, 0, size, Number(offset)) === size ? b : undefined;
  };
  const eh = read(0n, 64);
  if (!eh || eh.readUInt32BE(0) !== 0x7f454c46 || eh[4] !== 2) return [];
  const shentsize = eh.readUInt16LE(0x3a);
  const shnum = eh.readUInt16LE(0x3c);
  const table = shentsize >= 64 ? read(eh.readBigUInt64LE(0x28), shnum * shentsize) : undefined;
  if (!table) return [];
  const headers = Array.from({ length: shnum }, (_, i) => {
    const sh = table.subarray(i * shentsize);
    return { type: sh.readUInt32LE(4), flags: sh.readBigUInt64LE(8), addr: sh.readBigUInt64LE(0x10), offset: sh.readBigUInt64LE(0x18), size: sh.readBigUInt64LE(0x20), entsize: sh.readBigUInt64LE(0x38) };
  });
  const sections = new Map<number, CodeSection & { addr: bigint }>();
  headers.forEach((h, i) => {
    if ((h.flags & SHF_EXECINSTR) === 0n || h.type === SHT_NOBITS || h.offset + h.size > fileSize) return;
    sections.set(i, { offset: Number(h.offset), size: Number(h.size), addr: h.addr, functions: [], objects: [] });
  });
  const symtab = headers.find((h) => h.type === SHT_SYMTAB) ?? headers.find((h) => h.type === SHT_DYNSYM);
  const symbols = symtab && symtab.entsize >= 24n ? read(symtab.offset, Number(symtab.size)) : undefined;
  for (let at = 0; symbols && at + 24 <= symbols.length; at += Number(symtab!.entsize)) {
    const type = symbols[at + 4]! & 0xf;
    const section = sections.get(symbols.readUInt16LE(at + 6));
    if (!section || (type !== STT_FUNC && type !== STT_OBJECT)) continue;
    const start = Number(symbols.readBigUInt64LE(at + 8) - section.addr);
    if (start < 0 || start >= section.size) continue;
    if (type === STT_FUNC) section.functions.push(start);
    else section.objects.push([start, start + Number(symbols.readBigUInt64LE(at + 16))]);
  }
  for (const s of sections.values()) {
    s.functions.sort((a, b) => a - b);
    s.objects.sort((a, b) => a[0] - b[0]);
  }
  return [...sections.values()];
}

/** Bytes of clean decoding a site needs behind it (unless a function starts closer) and
 * instructions after it: data among code (tables in hand-written assembly) decodes into
 * invalid instructions every few bytes, code never does. */
const CLEAN_BEFORE = 64;
const CLEAN_AFTER = 4;

/** Offsets of the rdtsc, rdtscp and cpuid instructions in `code`, walked from its start and from
 * each of `functions` (sorted), with `objects` (sorted) left out. */
export function* patchSites(code: Uint8Array, functions: readonly number[] = [], objects: readonly [number, number][] = []): Generator<[number, PatchedInstruction]> {
  let nextFunction = 0;
  let nextObject = 0;
  let cleanFrom = 0; // where decoding last began afresh, or went on after an invalid byte
  let trusted = true; // whether cleanFrom is a known instruction start
  const cleanAfter = (at: number) => {
    for (let n = 0; n < CLEAN_AFTER && at < code.length; n++) {
      const len = instructionLength(code, at);
      if (len === 0) return false;
      at += len;
    }
    return true;
  };
  for (let at = 0; at < code.length; ) {
    while (nextObject < objects.length && objects[nextObject]![1] <= at) nextObject++;
    const object = objects[nextObject];
    if (object && object[0] <= at) {
      at = object[1];
      [cleanFrom, trusted] = [at, false];
      continue;
    }
    while (nextFunction < functions.length && functions[nextFunction]! < at) nextFunction++;
    const fn = functions[nextFunction] ?? Infinity;
    if (fn === at) [cleanFrom, trusted] = [at, true];
    const len = instructionLength(code, at);
    if (len === 0) {
      at++;
      [cleanFrom, trusted] = [at, false];
      continue;
    }
    if (at < fn && at + len > fn) {
      at = fn; // ran into a function's start: out of step; on from there
      continue;
    }
    const insn = instructionAt(code, at);
    if (insn && ORIGINAL[insn].length === len && (trusted || at - cleanFrom >= CLEAN_BEFORE) && cleanAfter(at + len)) yield [at, insn];
    at += len;
  }
}

/** Sites by mapped object ("major:minor inode" as /proc/PID/maps has it), as last read. */
const sitesByObject = new Map<string, Map<number, PatchedInstruction>>();

/** The sites of the file `pid`'s mapping `m` maps, by file offset; undefined once the mapping is
 * gone. A file whose path no longer names it is read through /proc/PID/map_files, which only
 * CAP_SYS_ADMIN may open: without it, the sites found while the path named it, else an error. */
function sitesOfMapping(pid: number, m: Mapping): Map<number, PatchedInstruction> | undefined {
  let fd: number;
  try {
    fd = openSync(mappedFilePath(pid, m), 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return undefined;
    const known = sitesByObject.get(m.object);
    if (known) return known;
    const why = err.code === 'EPERM' ? 'its path no longer names it, and /proc/PID/map_files needs CAP_SYS_ADMIN' : strerror(-(err.errno ?? 0));
    throw new TsrrError('UNSUPPORTED', `cannot read ${m.path}, mapped at 0x${m.start.toString(16)} in process ${pid}, for its rdtsc and cpuid instructions: ${why}`, { file: m.path });
  }
  try {
    const sites = patchSitesOfFile(fd);
    sitesByObject.set(m.object, sites);
    return sites;
  } finally {
    closeSync(fd);
  }
}

/** Patches the sites of `kinds` in every executable file mapping of `task`'s process, and
 * makes them the address space's sites (those already patched, as a checkpoint restores them,
 * included). */
export function patchInstructions(task: Task, kinds: ReadonlySet<PatchedInstruction>): void {
  const found = new Map<bigint, PatchedInstruction>();
  const mappings = task.as.mappings();
  // Sites in code that is not a file's (a checkpoint's code saved as memory) stay while their
  // patch is there.
  for (const [addr, insn] of task.as.patchedSites) {
    const m = mappings.find((x) => addr >= x.start && addr < x.end);
    if (m && m.kind !== 'file' && m.prot[2] === 'x' && task.readMemPartial(addr, PATCH[insn].length).equals(PATCH[insn])) found.set(addr, insn);
  }
  for (const m of mappings) {
    // A shared mapping's patch would be written into its file.
    if (m.kind !== 'file' || m.prot[2] !== 'x' || m.prot[3] === 's') continue;
    const sites = sitesOfMapping(task.as.pid, m);
    if (!sites) continue;
    const size = m.end - m.start;
    for (const [offset, insn] of sites) {
      const rel = BigInt(offset) - m.offset;
      if (!kinds.has(insn) || rel < 0n || rel + BigInt(ORIGINAL[insn].length) > size) continue;
      const addr = m.start + rel;
      const now = task.readMemPartial(addr, ORIGINAL[insn].length);
      if (now.equals(ORIGINAL[insn])) task.writeMem(addr, PATCH[insn]);
      else if (!now.equals(PATCH[insn])) continue; // the program changed its code there
      found.set(addr, insn);
    }
  }
  task.as.patchedSites = found;
}

/** `bytes`, read at `addr` in an address space with `sites` patched, as the program's code has them. */
export function unpatched(sites: ReadonlyMap<bigint, PatchedInstruction>, addr: bigint, bytes: Buffer): Buffer {
  for (const [at, insn] of sites) {
    const orig = ORIGINAL[insn];
    for (let i = 0; i < orig.length; i++) {
      const p = at + BigInt(i) - addr;
      if (p >= 0n && p < BigInt(bytes.length)) bytes[Number(p)] = orig[i]!;
    }
  }
  return bytes;
}
