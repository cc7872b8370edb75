// SPDX-License-Identifier: MIT
/**
 * Calls through the legacy vsyscall page (gettimeofday, time and getcpu at fixed addresses,
 * which old static programs use). The kernel emulates them on the fault the call takes: no
 * syscall stop, only seccomp sees them, and after a filter's SECCOMP_RET_TRACE stop it returns
 * to the caller with no exit stop either. So recording makes the call itself at that stop
 * (tsrr's clock and the tracee's CPU are the tracee's) and skips the kernel's; replay, which
 * installs a filter stopping these calls only, puts the recorded outcome in at the same stop.
 */
import { readdirSync } from 'node:fs';
import { gettimeofday, writeProcessMemory } from '../native/libc.js';
import { NR, syscallName } from '../native/syscalls.js';
import { TsrrError } from '../native/TsrrError.js';
import { readIfThere } from './procfs.js';
import { SECCOMP_RET, assemble } from './seccompFilters.js';
import type { Task } from './Task.js';

const PAGE = 0xffffffffff600000n;

/** Whether a call stopped at `ip` came through the vsyscall page. */
export function isVsyscall(ip: bigint): boolean {
  return (ip & ~0xfffn) === PAGE;
}

/** A seccomp filter that stops calls from the vsyscall page (SECCOMP_RET_TRACE) and allows
 * every other. */
export function vsyscallFilter(): Buffer {
  return assemble([
    [0x20, 0, 0, 12], // ld instruction_pointer, high half
    [0x15, 0, 3, Number(PAGE >> 32n)],
    [0x20, 0, 0, 8], // low half
    [0x54, 0, 0, 0xfffff000], // and: its page
    [0x15, 1, 0, Number(PAGE & 0xffffffffn)],
    [0x06, 0, 0, SECCOMP_RET.ALLOW],
    [0x06, 0, 0, SECCOMP_RET.TRACE],
  ]);
}

/** Recording, at the filter's stop of a vsyscall: makes call `nr` for `task`, writes its
 * output where the task asked, and returns its result. */
export function emulateVsyscall(task: Task, nr: number, args: readonly bigint[]): bigint {
  const out = (addr: bigint, data: Buffer) => {
    if (addr === 0n) return;
    if (writeProcessMemory(task.tid, addr, data) !== data.length) {
      throw new TsrrError('UNSUPPORTED', `task ${task.rec} called ${syscallName(nr)} through the vsyscall page with a pointer it cannot write (0x${addr.toString(16)}), which the kernel answers with SIGSEGV`, { tid: task.rec });
    }
  };
  if (nr === NR.getcpu) {
    const cpu = cpuOf(task.tid);
    out(args[0]!, u32(cpu));
    out(args[1]!, u32(nodeOf(cpu)));
    return 0n;
  }
  const [tv, tz] = gettimeofday();
  if (nr === NR.time) {
    out(args[0]!, tv.subarray(0, 8));
    return tv.readBigInt64LE(0);
  }
  out(args[0]!, tv);
  out(args[1]!, tz);
  return 0n;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** The CPU `tid` last ran on (the 39th field of its stat). */
function cpuOf(tid: number): number {
  const stat = readIfThere(`/proc/${tid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[36] ?? 0);
}

/** The NUMA node of `cpu` (0 where the kernel shows none). */
function nodeOf(cpu: number): number {
  try {
    const node = readdirSync(`/sys/devices/system/cpu/cpu${cpu}`).find((n) => /^node\d+$/.test(n));
    return node ? Number(node.slice(4)) : 0;
  } catch {
    return 0;
  }
}
