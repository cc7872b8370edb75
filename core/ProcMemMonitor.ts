// SPDX-License-Identifier: MIT
/**
 * An fd of /proc/PID/mem (or /proc/PID/task/TID/mem) of a traced process: what the program
 * writes through it changes that process's memory, which replay must do too. While recording,
 * such a write's event carries the bytes it left there (RemoteWrites), as process_vm_writev's
 * does; calls on the fd are never buffered.
 */
import type { FileMonitor } from './FileMonitor.js';

export class ProcMemMonitor implements FileMonitor {
  static readonly KIND = 'core/proc-mem';
  readonly kind = ProcMemMonitor.KIND;

  /** `target`: the process (or thread) whose memory the fd is, as the trace knows it. */
  constructor(readonly target: number) {}

  /** The target of a path /proc/PID/mem or /proc/PID/task/TID/mem, if it is one. */
  static targetOf(path: string): number | undefined {
    const m = /^\/proc\/(\d+)\/(?:task\/(\d+)\/)?mem$/.exec(path);
    return m ? Number(m[2] ?? m[1]) : undefined;
  }
}
