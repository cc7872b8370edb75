// SPDX-License-Identifier: MIT
/** Reading /proc about tasks that may be gone by the time it is read. */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { TsrrError } from '../native/TsrrError.js';
import type { Mapping } from './AddressSpace.js';
import { identityOfObject, identityOfStats } from './fileChange.js';

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

/** The file `pid`'s mapping `m` maps, opened for reading; undefined if the mapping is gone.
 * Through /proc/PID/map_files where tsrr may open it (it needs CAP_SYS_ADMIN), else through the
 * mapping's path where that still names the mapped file; an error where neither does, so that
 * tsrr never goes on without a file it needs. */
export function openMappedFile(pid: number, m: Mapping): number | undefined {
  try {
    return openSync(mapFilesPath(pid, m.start, m.end), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return undefined; // gone meanwhile
  }
  let fd: number | undefined;
  try {
    fd = openSync(m.path, 'r');
    if (identityOfStats(fstatSync(fd)) === identityOfObject(m.object)) return fd;
  } catch {
    // no such file any more, or not readable
  }
  if (fd !== undefined) closeSync(fd);
  throw new TsrrError('UNSUPPORTED', `cannot open the file mapped at 0x${m.start.toString(16)} in process ${pid} (${m.path}): its path no longer names it, and /proc/PID/map_files needs CAP_SYS_ADMIN`, { pid, file: m.path });
}

/** The state letter of `tid` in /proc (R, S, D, t, Z, ...); undefined once it is gone. */
export function procState(tid: number): string | undefined {
  const stat = readIfThere(`/proc/${tid}/stat`);
  return stat ? stat[stat.lastIndexOf(')') + 2] : undefined;
}
