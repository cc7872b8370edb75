// SPDX-License-Identifier: MIT
/**
 * The FdTable is which fds a process has monitors on; tasks created with CLONE_FILES share
 * one. It follows dup, dup2, dup3, fcntl(F_DUPFD*), close and close_range from their recorded
 * results, so record and replay see the same table although replay opens no real files.
 */
import { NR } from '../native/syscalls.js';
import type { FileMonitor } from './FileMonitor.js';

const F_DUPFD = 0n;
const F_DUPFD_CLOEXEC = 1030n;
const CLOSE_RANGE_CLOEXEC = 4n;

/** fds from `first` to `last` now stand for another file, or (`closed`) none. */
export interface FdChange {
  first: number;
  last: number;
  closed: boolean;
}

/** The largest fd number (the kernel's limit on open files, at most). */
const MAX_FD = 1 << 20;

export class FdTable {
  readonly monitors = new Map<number, FileMonitor>();

  /** A copy, for a process forked without CLONE_FILES. */
  clone(): FdTable {
    const t = new FdTable();
    for (const [fd, m] of this.monitors) t.monitors.set(fd, m);
    return t;
  }

  get(fd: number): FileMonitor | undefined {
    return this.monitors.get(fd);
  }

  set(fd: number, monitor: FileMonitor): void {
    this.monitors.set(fd, monitor);
  }

  /** Updates the table after syscall `nr` returned `result` (negative: failed, nothing changed);
   * returns the fds that now stand for another file or none: `closed` when none. */
  afterSyscall(nr: number, args: readonly bigint[], result: bigint): FdChange | undefined {
    if (result < 0n) return undefined;
    const fd = (i: number) => Number(BigInt.asIntN(32, args[i]!));
    switch (nr) {
      case NR.close:
        this.monitors.delete(fd(0));
        return { first: fd(0), last: fd(0), closed: true };
      case NR.close_range: {
        if ((args[2]! & CLOSE_RANGE_CLOEXEC) !== 0n) return undefined; // marks close-on-exec, closes nothing
        for (const f of [...this.monitors.keys()]) if (f >= fd(0) && BigInt(f) <= args[1]!) this.monitors.delete(f);
        const last = args[1]! > BigInt(MAX_FD) ? MAX_FD : Number(args[1]!);
        return { first: fd(0), last, closed: true };
      }
      case NR.dup:
        return this.copy(fd(0), Number(result));
      case NR.dup2:
      case NR.dup3:
        return fd(0) !== fd(1) ? this.copy(fd(0), fd(1)) : undefined;
      case NR.fcntl:
        return args[1] === F_DUPFD || args[1] === F_DUPFD_CLOEXEC ? this.copy(fd(0), Number(result)) : undefined;
      case NR.open:
      case NR.openat:
      case NR.openat2:
      case NR.creat:
      case NR.memfd_create:
        // A new file (other new fds, pipes, sockets, ..., take numbers that were closed).
        return { first: Number(result), last: Number(result), closed: false };
    }
    return undefined;
  }

  private copy(from: number, to: number): FdChange {
    const m = this.monitors.get(from);
    if (m) this.monitors.set(to, m);
    else this.monitors.delete(to);
    return { first: to, last: to, closed: false };
  }
}
