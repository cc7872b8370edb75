// SPDX-License-Identifier: MIT
/** Reading /proc about tasks that may be gone by the time it is read. */
import { readFileSync } from 'node:fs';

/** A file's text, '' if it cannot be read (a /proc file of a task that is gone). */
export function readIfThere(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** The /proc/PID/map_files entry of `pid`'s mapping [start, end) (named in hex without
 * leading zeros): the mapped file itself, opened. */
export function mapFilesPath(pid: number | 'self', start: bigint, end: bigint): string {
  return `/proc/${pid}/map_files/${start.toString(16)}-${end.toString(16)}`;
}

/** The state letter of `tid` in /proc (R, S, D, t, Z, ...); undefined once it is gone. */
export function procState(tid: number): string | undefined {
  const stat = readIfThere(`/proc/${tid}/stat`);
  return stat ? stat[stat.lastIndexOf(')') + 2] : undefined;
}
