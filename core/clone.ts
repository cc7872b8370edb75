// SPDX-License-Identifier: MIT
/** What a fork, vfork, clone or clone3 asked for: its flags and where it puts the new tid
 * and pidfd. */
import { NR } from '../native/syscalls.js';
import type { Task } from './Task.js';

export const CLONE = {
  VM: 0x100n,
  FS: 0x200n,
  FILES: 0x400n,
  SIGHAND: 0x800n,
  PIDFD: 0x1000n,
  VFORK: 0x4000n,
  THREAD: 0x10000n,
  SYSVSEM: 0x40000n,
  SETTLS: 0x80000n,
  PARENT_SETTID: 0x100000n,
  UNTRACED: 0x800000n,
  CHILD_SETTID: 0x1000000n,
} as const;

const SIGCHLD = 17n;

export interface CloneArgs {
  readonly flags: bigint;
  /** Where CLONE_PARENT_SETTID writes the tid in the parent, 0 for nowhere. */
  readonly parentTid: bigint;
  /** Where CLONE_CHILD_SETTID writes the tid in the child, 0 for nowhere. */
  readonly childTid: bigint;
  /** Where CLONE_PIDFD writes the pidfd in the parent, 0 for nowhere. */
  readonly pidfd: bigint;
}

export function isForkCall(nr: number): boolean {
  return nr === NR.fork || nr === NR.vfork || nr === NR.clone || nr === NR.clone3;
}

/** A clone with CLONE_UNTRACED would start a task that escapes tsrr (whose seccomp filter it
 * inherits, without a tracer): the flag is dropped, in record and replay alike, and the
 * returned function puts the program's argument back at the call's exit. */
export function dropUntraced(task: Task, nr: number, args: readonly bigint[]): (() => void) | undefined {
  if (nr === NR.clone && (args[0]! & CLONE.UNTRACED) !== 0n) {
    const setFlags = (flags: bigint) => {
      task.getRegs().setArg(0, flags);
      task.setRegs();
    };
    setFlags(args[0]! & ~CLONE.UNTRACED);
    return () => setFlags(args[0]!);
  }
  const flags = nr === NR.clone3 ? task.readU64(args[0]!) : 0n;
  if ((flags & CLONE.UNTRACED) === 0n) return undefined;
  const setFlags = (value: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(value);
    task.writeMem(args[0]!, b);
  };
  setFlags(flags & ~CLONE.UNTRACED);
  return () => setFlags(flags);
}

/** The clone arguments of syscall `nr` called with `args` by `task` (clone3's are in its memory). */
export function cloneArgs(task: Task, nr: number, args: readonly bigint[]): CloneArgs {
  const only = (flags: bigint, mask: bigint, addr: bigint) => ((flags & mask) !== 0n ? addr : 0n);
  if (nr === NR.clone) {
    const flags = args[0]!;
    return { flags, parentTid: only(flags, CLONE.PARENT_SETTID, args[2]!), childTid: only(flags, CLONE.CHILD_SETTID, args[3]!), pidfd: only(flags, CLONE.PIDFD, args[2]!) };
  }
  if (nr === NR.clone3) {
    // struct clone_args: flags, pidfd, child_tid, parent_tid, ... (u64 each)
    const ca = task.readMem(args[0]!, 32);
    const flags = ca.readBigUInt64LE(0);
    return { flags, parentTid: only(flags, CLONE.PARENT_SETTID, ca.readBigUInt64LE(24)), childTid: only(flags, CLONE.CHILD_SETTID, ca.readBigUInt64LE(16)), pidfd: only(flags, CLONE.PIDFD, ca.readBigUInt64LE(8)) };
  }
  return { flags: nr === NR.vfork ? CLONE.VM | CLONE.VFORK | SIGCHLD : SIGCHLD, parentTid: 0n, childTid: 0n, pidfd: 0n };
}
