// SPDX-License-Identifier: MIT
/** Reading /proc about tasks that may be gone by the time it is read. */
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import type { Mapping } from './AddressSpace.js';
import { identityOfObject, identityOfStats } from './fileChange.js';
import { decodeBytes, encodeBytes, hasRawBytes } from '../native/byteString.js';

/** A file's text, '' if it cannot be read (a /proc file of a task that is gone). */
export function readIfThere(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** Where a symbolic link (/proc's exe, fd/N, cwd, ...) points, names as byteString.ts has them. */
export const readLink = (path: string): string => decodeBytes(readlinkSync(encodeBytes(path), { encoding: 'buffer' }));

/** The /proc/PID/map_files entry of `pid`'s mapping [start, end) (named in hex without
 * leading zeros): the mapped file itself, opened. */
export function mapFilesPath(pid: number | 'self', start: bigint, end: bigint): string {
  return `/proc/${pid}/map_files/${start.toString(16)}-${end.toString(16)}`;
}

/** A path that names the file `pid`'s mapping `m` maps: its own path where that still names
 * it (and is UTF-8, which Node's fs needs: byteString.ts), else the mapping's
 * /proc/PID/map_files entry (which only CAP_SYS_ADMIN may open). */
export function mappedFilePath(pid: number, m: Mapping): string {
  let identity: string | undefined;
  try {
    identity = hasRawBytes(m.path) ? undefined : identityOfStats(statSync(m.path));
  } catch {
    // deleted, renamed or not a path
  }
  return identity === identityOfObject(m.object) ? m.path : mapFilesPath(pid, m.start, m.end);
}

/** The state letter of `tid` in /proc (R, S, D, t, Z, ...); undefined once it is gone. */
export function procState(tid: number): string | undefined {
  const stat = readIfThere(`/proc/${tid}/stat`);
  return stat ? stat[stat.lastIndexOf(')') + 2] : undefined;
}
