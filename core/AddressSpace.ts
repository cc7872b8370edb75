// SPDX-License-Identifier: MIT
/**
 * An AddressSpace is the memory map of one process, shared by its threads: its mappings (read
 * from the kernel, classified by kind), the syscall instruction tsrr uses to make the tracee
 * run syscalls of tsrr's choosing, and a debugger's breakpoints and watchpoints.
 */
import { readFileSync } from 'node:fs';
import { decodeBytes } from '../native/byteString.js';
import { unpatched, type PatchedInstruction } from './trapPatching.js';
import type { Task } from './Task.js';

const INT3 = Buffer.of(0xcc);

export type MappingKind = 'file' | 'anonymous' | 'heap' | 'stack' | 'vdso' | 'vvar' | 'vsyscall' | 'shared-anonymous';

export interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly prot: string; // "rwxp" as in /proc/PID/maps
  readonly offset: bigint;
  readonly path: string;
  readonly kind: MappingKind;
  /** The mapped object, "major:minor inode": the same in every process that shares it. */
  readonly object: string;
}

/** A hardware watchpoint: an aligned piece of 1, 2, 4 or 8 bytes (x86 debug registers); with
 * `execute`, a hardware breakpoint at `addr` (len 1). */
export interface Watchpoint {
  readonly addr: bigint;
  readonly len: 1 | 2 | 4 | 8;
  readonly access: 'write' | 'read' | 'access' | 'execute';
}

/** Debug registers of an x86-64 CPU: at most this many watchpoints at once. */
export const WATCHPOINT_SLOTS = 4;

export class AddressSpace {
  /** Address of a `syscall` instruction in the patched vDSO, set after each exec. */
  syscallInsn = 0n;
  /** Instructions tsrr replaced with ud2 to trap them (trapPatching.ts), by address. */
  patchedSites: ReadonlyMap<bigint, PatchedInstruction> = new Map();
  /** Software breakpoints a debugger put in: address → the byte their int3 replaced. */
  readonly breakpoints = new Map<bigint, number>();
  /** Hardware watchpoints a debugger set, by debug register slot; every task of the
   * process has them programmed (Task.programWatchpoints). */
  readonly watchpoints: Watchpoint[] = [];

  /** A live task of the process, whose /proc entries describe it. */
  constructor(public pid: number) {}

  /** The copy a fork makes for process `pid`: the same layout, so the same syscall
   * instruction. */
  forked(pid: number): AddressSpace {
    const as = new AddressSpace(pid);
    as.takeCodeOf(this);
    return as;
  }

  /** Takes what tsrr put into the code of `other`, whose memory this one's copies: its
   * syscall instruction and patched sites. */
  takeCodeOf(other: AddressSpace): void {
    this.syscallInsn = other.syscallInsn;
    this.patchedSites = other.patchedSites;
  }

  mappings(): Mapping[] {
    return parseMaps(decodeBytes(readFileSync(`/proc/${this.pid}/maps`)));
  }

  find(kind: MappingKind): Mapping | undefined {
    return this.mappings().find((m) => m.kind === kind);
  }

  /** Puts an int3 at `addr` (through `task`, one of the process's tasks). */
  addBreakpoint(task: Task, addr: bigint): void {
    if (this.breakpoints.has(addr)) return;
    const [orig] = task.readMem(addr, 1);
    task.writeMem(addr, INT3);
    this.breakpoints.set(addr, orig!);
  }

  removeBreakpoint(task: Task, addr: bigint): void {
    const orig = this.breakpoints.get(addr);
    if (orig === undefined) return;
    task.writeMem(addr, Buffer.of(orig));
    this.breakpoints.delete(addr);
  }

  /** Runs `fn` with the original bytes back under every breakpoint (to copy or save memory). */
  withBreakpointsLifted<T>(task: Task, fn: () => T): T {
    for (const [addr, orig] of this.breakpoints) task.writeMem(addr, Buffer.of(orig));
    try {
      return fn();
    } finally {
      for (const addr of this.breakpoints.keys()) task.writeMem(addr, INT3);
    }
  }

  /** `bytes`, read at `addr`, as the program has them: without a debugger's breakpoints and
   * tsrr's patched sites. */
  asProgramHas(addr: bigint, bytes: Buffer): Buffer {
    for (const [at, orig] of this.breakpoints) if (at >= addr && at < addr + BigInt(bytes.length)) bytes[Number(at - addr)] = orig;
    return unpatched(this.patchedSites, addr, bytes);
  }

  /** The mapping that contains `addr`. */
  at(addr: bigint): Mapping | undefined {
    return this.mappings().find((m) => addr >= m.start && addr < m.end);
  }
}

export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+ \d+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const path = m[6]!;
    const prot = m[3]!;
    out.push({
      start: BigInt('0x' + m[1]),
      end: BigInt('0x' + m[2]),
      prot,
      offset: BigInt('0x' + m[4]),
      path,
      kind: kindOf(path, prot),
      object: m[5]!,
    });
  }
  return out;
}

function kindOf(path: string, prot: string): MappingKind {
  if (path === '[heap]') return 'heap';
  if (path.startsWith('[stack')) return 'stack';
  if (path === '[vdso]') return 'vdso';
  if (path.startsWith('[vvar')) return 'vvar';
  if (path === '[vsyscall]') return 'vsyscall';
  if (path === '' || path.startsWith('[') || path.startsWith('/dev/zero') || path.startsWith('/SYSV')) {
    return prot[3] === 's' ? 'shared-anonymous' : 'anonymous';
  }
  return 'file';
}
