// SPDX-License-Identifier: MIT
/**
 * An fd of /proc/PID/status (or /proc/PID/task/TID/status) of a traced task: read natively, it
 * would show tsrr's seccomp filter and the no_new_privs tsrr may have set (Seccomp,
 * Seccomp_filters, NoNewPrivs). While recording, what each read returns gets the program's own
 * values instead, where they are as long (the trace has what the program read); calls on the
 * fd are never buffered.
 */
import type { FileMonitor } from './FileMonitor.js';

export class ProcStatusMonitor implements FileMonitor {
  static readonly KIND = 'core/proc-status';
  readonly kind = ProcStatusMonitor.KIND;

  /** `target`: the task whose status the fd is, as the trace knows it. */
  constructor(readonly target: number) {}

  /** The target of a path /proc/PID/status or /proc/PID/task/TID/status, if it is one. */
  static targetOf(path: string): number | undefined {
    const m = /^\/proc\/(\d+)\/(?:task\/(\d+)\/)?status$/.exec(path);
    return m ? Number(m[2] ?? m[1]) : undefined;
  }

  /** `text`, status lines as a read returned them, with each field of `values` given its
   * value where that keeps the text's length (a read's result cannot change). */
  static hide(text: string, values: Readonly<Record<string, (shown: number) => number>>): string {
    return text.replace(/^(\w+):(\s+)(\d+)$/gm, (line, field: string, space: string, shown: string) => {
      const own = values[field]?.(Number(shown));
      return own === undefined || String(own).length !== shown.length ? line : `${field}:${space}${own}`;
    });
  }
}
