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

  /** Updates the table after syscall `nr` returned `result` (negative: failed, nothing changed). */
  afterSyscall(nr: number, args: readonly bigint[], result: bigint): void {
    if (result < 0n) return;
    const fd = (i: number) => Number(BigInt.asIntN(32, args[i]!));
    switch (nr) {
      case NR.close:
        this.monitors.delete(fd(0));
        return;
      case NR.close_range:
        if ((args[2]! & CLOSE_RANGE_CLOEXEC) !== 0n) return; // marks close-on-exec, closes nothing
        for (const f of [...this.monitors.keys()]) if (f >= fd(0) && BigInt(f) <= args[1]!) this.monitors.delete(f);
        return;
      case NR.dup:
        this.copy(fd(0), Number(result));
        return;
      case NR.dup2:
      case NR.dup3:
        if (fd(0) !== fd(1)) this.copy(fd(0), fd(1));
        return;
      case NR.fcntl:
        if (args[1] === F_DUPFD || args[1] === F_DUPFD_CLOEXEC) this.copy(fd(0), Number(result));
    }
  }

  private copy(from: number, to: number): void {
    const m = this.monitors.get(from);
    if (m) this.monitors.set(to, m);
    else this.monitors.delete(to);
  }
}
