// SPDX-License-Identifier: MIT
/**
 * A FileMonitor marks an fd that needs handling beyond "emulate its syscalls": stdio whose
 * output replay reproduces, and, from plugins, any other kind. Kinds are open strings
 * ("core/stdio", "acme/socket") so a plugin adds one without touching core.
 */
import type { Task } from './Task.js';

export interface FileMonitor {
  readonly kind: string;
  /** Replay: the tracee wrote `data` to the fd (the write itself was emulated). */
  replayedWrite?(task: Task, data: Buffer): void;
}
