// SPDX-License-Identifier: MIT
/** The tracee's stdout and stderr: on replay, what it writes there goes to tsrr's own. */
import { writeAll } from './writeAll.js';
import type { FileMonitor } from './FileMonitor.js';

export class StdioMonitor implements FileMonitor {
  static readonly KIND = 'core/stdio';
  readonly kind = StdioMonitor.KIND;

  /** `target` is the fd of tsrr's own that replayed output goes to (1 or 2). */
  constructor(readonly target: number) {}

  replayedWrite(_task: unknown, data: Buffer): void {
    writeAll(this.target, data);
  }
}
