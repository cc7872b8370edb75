// SPDX-License-Identifier: MIT
/**
 * A pidfd of a traced process (pidfd_open): pidfd_getfd through it takes one of that process's
 * fds, and with it the monitor that fd has, as a dup would (so that a write to another
 * process's stdout is echoed on replay, as it was printed while recording).
 */
import type { FileMonitor } from './FileMonitor.js';

export class PidfdMonitor implements FileMonitor {
  static readonly KIND = 'core/pidfd';
  readonly kind = PidfdMonitor.KIND;

  /** `target`: the process the pidfd refers to, as the trace knows it. */
  constructor(readonly target: number) {}
}
