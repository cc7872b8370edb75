// SPDX-License-Identifier: MIT
/**
 * The lock on one trace's checkpoints: flock(2) on TRACE/checkpoints/lock, held alone by whoever
 * writes or deletes there and shared by readers. The kernel drops a flock when the file that
 * holds it closes, so a tsrr killed in any way leaves nothing locked, and a writer holding the
 * lock knows that any temporary file it finds is a dead writer's. Taken again by the process
 * that holds it (a hook of a write that writes), it is the same lock.
 */
import { closeSync, constants, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { TsrrError, procState, writeAll } from '../../core/index.js';
import { LOCK, tryFlock } from '../../native/libc.js';

/** How long a tsrr waits for another to finish with the checkpoints before it gives up: a
 * holder writes one checkpoint or reads one, and a stopped one (Ctrl-Z) must not hang it. */
const GIVE_UP_MS = 60_000;
/** How long it waits before it says so. */
const SAY_MS = 1_000;

const held = new Map<string, { exclusive: boolean }>();
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Who holds the lock in `file`, as well as can be told: the pid the last exclusive holder
 * wrote, if that process still exists. */
function holder(file: string): string {
  const pid = Number.parseInt(readFileSync(file, 'latin1'), 10);
  return pid > 0 && procState(pid) !== undefined ? `another tsrr (pid ${pid})` : 'another tsrr';
}

/** Runs `fn` holding the lock in `file`, `exclusive` to write or delete; `fn` learns whether
 * the lock was taken for it (not when this process held it already). A reader that cannot
 * open the lock file (a trace it may not write) reads unlocked: no writer could write there. */
export function withCheckpointLock<T>(file: string, exclusive: boolean, fn: (taken: boolean) => T): T {
  const mine = held.get(file);
  if (mine) {
    if (exclusive && !mine.exclusive) throw new TsrrError('INTERNAL', `${file}: a write under a shared checkpoint lock`, { file });
    return fn(false);
  }
  let fd: number;
  try {
    fd = openSync(file, (exclusive ? constants.O_RDWR : constants.O_RDONLY) | constants.O_CREAT, 0o644);
  } catch (e) {
    if (!exclusive) return fn(false);
    throw new TsrrError('TRACE_WRITE_FAILED', `cannot lock the checkpoints in ${dirname(file)}: ${(e as Error).message}`, { file });
  }
  try {
    const start = Date.now();
    let said = false;
    while (!tryFlock(fd, exclusive ? LOCK.EX : LOCK.SH)) {
      const waited = Date.now() - start;
      if (waited >= GIVE_UP_MS) {
        throw new TsrrError('CHECKPOINTS_LOCKED', `the checkpoints in ${dirname(file)} stayed locked by ${holder(file)} for ${GIVE_UP_MS / 1000} s`, { file });
      }
      if (!said && waited >= SAY_MS) {
        writeAll(2, `tsrr: waiting for ${holder(file)} to finish with the checkpoints in ${dirname(file)}\n`);
        said = true;
      }
      Atomics.wait(pause, 0, 0, 10);
    }
    if (exclusive) {
      ftruncateSync(fd, 0);
      writeSync(fd, `${process.pid}\n`, 0);
    }
    held.set(file, { exclusive });
    try {
      return fn(true);
    } finally {
      held.delete(file);
    }
  } finally {
    closeSync(fd); // drops the lock
  }
}
