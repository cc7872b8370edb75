// SPDX-License-Identifier: MIT
/**
 * The one error class. `code` is a stable string that tests and programs match on; `context`
 * names what was involved (file, frame, plugin, hook, ...). The CLI prints `message` alone,
 * on one line, and exits non-zero; a stack trace means a bug in tsrr, not bad input. It lives
 * in native/, the lowest layer, so that every layer throws it.
 */
export type ErrorCode =
  | 'BAD_ARGUMENT'
  | 'BAD_PACKET'
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_MISMATCH'
  | 'CHECKPOINT_NEEDS_KIND'
  | 'CHECKPOINT_TOO_NEW'
  | 'CHECKPOINTS_LOCKED'
  | 'CONFIG_ERROR'
  | 'DIVERGENCE'
  | 'INTERNAL'
  | 'INTERRUPTED'
  | 'NO_TRACE'
  | 'NOT_BUILT'
  | 'PLUGIN_ERROR'
  | 'PLUGIN_NOT_FOUND'
  | 'PROGRAM_NOT_FOUND'
  | 'SOCKET_FAILED'
  | 'TRACE_CORRUPT'
  | 'TRACE_TOO_NEW'
  | 'TRACE_TOO_OLD'
  | 'TRACE_TRUNCATED'
  | 'TRACE_WRITE_FAILED'
  | 'TRACEE_FAILED'
  | 'UNSUPPORTED';

export class TsrrError extends Error {
  override readonly name = 'TsrrError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isTsrrError = (e: unknown): e is TsrrError => e instanceof Error && (e as TsrrError).name === 'TsrrError';
