// SPDX-License-Identifier: MIT
/**
 * An fd of a file that some tracee maps shared (rr's mmapped-file monitor). Replay maps such a
 * file as a shared copy of its own; while recording, calls that change the file through this
 * fd write its new bytes into the trace (a FileChange, see core/fileChange.ts), which replay
 * applies to that copy, so its mappings see what they saw. Calls on it are never buffered.
 */
import type { FileMonitor } from './FileMonitor.js';

export class MmappedFileMonitor implements FileMonitor {
  static readonly KIND = 'core/mmapped-file';
  readonly kind = MmappedFileMonitor.KIND;

  /** `identity`: the file's "device:inode". */
  constructor(readonly identity: string) {}
}
