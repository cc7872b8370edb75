// SPDX-License-Identifier: MIT
/**
 * What a call changed in a file (for a file that some tracee maps shared): which fd it wrote
 * through, and the file's size and the bytes in the range it wrote, read back from the file
 * after the call. One description for write, pwrite, writev, ftruncate, fallocate,
 * copy_file_range, sendfile and splice.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync, type Stats } from 'node:fs';
import { NR } from '../native/syscalls.js';
import type { FileChange } from './Event.js';

/** A file's identity, "device:inode". */
export const identityOfStats = (st: Stats): string => `${st.dev}:${st.ino}`;

/** The identity of the file at a path (or /proc/PID/fd/N). */
export const identityOf = (path: string): string => identityOfStats(statSync(path));

/** The identity of a mapped object as /proc/PID/maps shows it ("major:minor inode", hex). */
export function identityOfObject(object: string): string {
  const m = /^([0-9a-f]+):([0-9a-f]+) (\d+)$/.exec(object);
  if (!m) return object;
  const major = BigInt(`0x${m[1]}`);
  const minor = BigInt(`0x${m[2]}`);
  // The kernel's encoding of dev_t, which stat's st_dev is.
  const dev = (minor & 0xffn) | ((major & 0xfffn) << 8n) | ((minor & ~0xffn) << 12n) | ((major & ~0xfffn) << 32n);
  return `${dev}:${m[3]}`;
}

const fdArg = (args: readonly bigint[], i: number): number => Number(BigInt.asIntN(32, args[i] ?? 0n));

/** Calls that change a file through an fd: the argument holding the fd. */
const WRITTEN_FD = new Map<number, number>([
  [NR.write, 0], [NR.pwrite64, 0], [NR.writev, 0], [NR.pwritev, 0], [NR.pwritev2, 0],
  [NR.ftruncate, 0], [NR.fallocate, 0], [NR.copy_file_range, 2], [NR.sendfile, 0], [NR.splice, 2],
]);

/** The fd call `nr` with `args` changes a file through, if it is such a call. */
export function writtenFd(nr: number, args: readonly bigint[]): number | undefined {
  const i = WRITTEN_FD.get(nr);
  return i === undefined ? undefined : fdArg(args, i);
}

/** Where the call wrote, given the fd's position after it (calls that use and move it) and
 * the value of an offset pointer after it (copy_file_range, splice). */
export function writtenAt(nr: number, args: readonly bigint[], result: bigint, pos: () => bigint, pointee: (addr: bigint) => bigint): bigint {
  switch (nr) {
    case NR.pwrite64:
    case NR.pwritev:
      return args[3]!;
    case NR.pwritev2:
      return BigInt.asIntN(64, args[3]!) === -1n ? pos() - result : args[3]!;
    case NR.fallocate:
      return args[2]!;
    case NR.copy_file_range:
    case NR.splice:
      return args[3] === 0n ? pos() - result : pointee(args[3]!) - result;
  }
  return pos() - result;
}

/** The file position /proc/PID/fdinfo/N tells. */
export function fdPosition(fdInfoPath: string): bigint {
  return BigInt(/^pos:\s*(\d+)/m.exec(readFileSync(fdInfoPath, 'latin1'))?.[1] ?? '0');
}

/** The change a successful call made to the file open at `fdPath` (/proc/PID/fd/N). */
export function fileChangeOf(identity: string, fdPath: string, fdInfoPath: string, nr: number, args: readonly bigint[], result: bigint, pointee: (addr: bigint) => bigint): FileChange {
  const fd = openSync(fdPath, 'r');
  try {
    const size = BigInt(fstatSync(fd).size);
    if (nr === NR.ftruncate) return { identity, size, offset: 0n, data: Buffer.alloc(0) };
    const offset = writtenAt(nr, args, result, () => fdPosition(fdInfoPath), pointee);
    const length = nr === NR.fallocate ? args[3]! : result;
    const end = offset + length < size ? offset + length : size;
    const data = Buffer.alloc(end > offset ? Number(end - offset) : 0);
    if (data.length > 0) readSync(fd, data, 0, data.length, Number(offset));
    return { identity, size, offset, data };
  } finally {
    closeSync(fd);
  }
}
