// SPDX-License-Identifier: MIT
/**
 * Where traces live: $_RR_TRACE_DIR, else ~/.local/share/tsrr (honouring XDG_DATA_HOME), one
 * directory per recording named PROG-N, and `latest-trace` pointing at the newest.
 */
import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readdirSync, realpathSync, renameSync, rmSync, rmdirSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { decodeBytes, encodeBytes, hasRawBytes, shown } from '../native/byteString.js';
import { LOCK, strerror, tryFlock } from '../native/libc.js';
import { TsrrError } from '../native/TsrrError.js';
import { startEnvironment } from './startArguments.js';
import { readLink } from './procfs.js';

export function traceRoot(): string {
  const env = new Map(startEnvironment());
  if (env.get('_RR_TRACE_DIR')) return absolute(env.get('_RR_TRACE_DIR')!);
  const data = env.get('XDG_DATA_HOME') || join(homedir(), '.local', 'share');
  return join(data, 'tsrr');
}

/** `path` made absolute: process.cwd() has U+FFFD for bytes that are not UTF-8. */
export function absolute(path: string): string {
  return isAbsolute(path) ? path : join(readLink('/proc/self/cwd'), path);
}

/** The real path of a directory, as byteString.ts decodes it. */
export const realName = (dir: string): string => decodeBytes(realpathSync.native(encodeBytes(dir), { encoding: 'buffer' }));

const O_PATH = 0o10000000;
/** The directories `fsName` stands in for, by the name it gave them. */
const standIns = new Map<string, string>();

/** A name of existing directory `dir` that Node's fs takes: `dir` itself when it is UTF-8, else
 * /proc/TSRR/fd/N of the directory held open (fs encodes the names it is given as UTF-8, so
 * other bytes cannot be named to it; the trace's files are reached through this one). */
export function fsName(dir: string): string {
  if (!hasRawBytes(dir)) return dir;
  // One held-open fd per directory, however often it is named (ls -l names each trace twice).
  const known = [...standIns].find(([, d]) => d === dir);
  if (known) return known[0];
  const name = `/proc/${process.pid}/fd/${openSync(encodeBytes(dir), O_PATH | constants.O_DIRECTORY)}`;
  standIns.set(name, dir);
  return name;
}

/** The path of a directory `fsName` named. */
export const pathOf = (dir: string): string => standIns.get(dir) ?? dir;

/** `text` (a message) with the directories `fsName` named by their own names, and bytes that
 * are not UTF-8 as \xHH. */
export function shownPaths(text: string): string {
  for (const [name, dir] of standIns) text = text.replace(new RegExp(`${name}(?![0-9])`, 'g'), dir);
  return shown(text);
}

/**
 * The directory a recording writes, made its own: created (with missing parents) or found
 * empty, and claimed by creating its events file exclusively (and locking it), so that two
 * recordings never share one. A directory whose recording was killed before it wrote its header
 * is claimed again once its lock is gone. It knows which directories it created, and `discard`
 * removes only what this run made.
 */
export class TraceDirClaim {
  private constructor(
    /** The directory's path (byteString.ts). */
    readonly path: string,
    /** Its name for Node's fs (`fsName`). */
    readonly dir: string,
    /** The events file, open for writing. */
    readonly eventsFd: number,
    /** The outermost directory this run created (undefined: `dir` was there already). */
    private readonly made: string | undefined,
  ) {}

  /** Claims `dir` (tsrr record -o DIR). */
  static take(dir: string): TraceDirClaim {
    dir = absolute(dir);
    return TraceDirClaim.claim(dir, makeDir(dir, true));
  }

  /** Claims a new directory PROG-N under the trace root. */
  static fresh(program: string): TraceDirClaim {
    const root = traceRoot();
    makeDir(root, true);
    const name = basename(program).replace(/[^\w.+-]/g, '_') || 'trace';
    for (let n = 0; ; n++) {
      const dir = join(root, `${name}-${n}`);
      if (existsSync(encodeBytes(dir))) continue;
      const made = makeDir(dir, false);
      if (made) return TraceDirClaim.claim(dir, made);
    }
  }

  private static claim(path: string, made: string | undefined): TraceDirClaim {
    const dir = fsName(path);
    let fd: number;
    try {
      fd = openSync(join(dir, 'events'), 'wx');
    } catch (e) {
      const stale = (e as NodeJS.ErrnoException).code === 'EEXIST' ? staleClaim(dir) : undefined;
      if (stale === undefined) {
        removeMade(path, made);
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new TsrrError('BAD_ARGUMENT', `trace directory ${path} already holds a trace (or one is being recorded into it)`, { dir: path });
        throw e;
      }
      fd = stale;
    }
    // Held while this run lives: a later claim tells a dead run's directory from a live one.
    tryFlock(fd, LOCK.EX);
    if (readdirSync(dir).length > 1) {
      closeSync(fd);
      unlinkSync(join(dir, 'events'));
      throw new TsrrError('BAD_ARGUMENT', `trace directory ${path} already exists and is not empty`, { dir: path });
    }
    return new TraceDirClaim(path, dir, fd, made);
  }

  /** Removes what this run put in the directory (all of it: the directory was empty when
   * claimed), then the directories it created. */
  discard(): void {
    for (const name of readdirSync(this.dir)) rmSync(join(this.dir, name), { recursive: true, force: true });
    removeMade(this.path, this.made);
  }
}

/** A claim younger than this may not have its lock yet. */
const STALE_MS = 10_000;

/** The events file of `dir` if the recording that claimed it died before it wrote its header
 * (killed outright), opened and locked, with what else that recording made removed; else
 * undefined. */
function staleClaim(dir: string): number | undefined {
  if (existsSync(join(dir, 'header'))) return undefined;
  let fd: number;
  try {
    fd = openSync(join(dir, 'events'), 'r+');
  } catch {
    return undefined;
  }
  const st = fstatSync(fd);
  if (st.size !== 0 || Date.now() - st.mtimeMs < STALE_MS || !tryFlock(fd, LOCK.EX)) {
    closeSync(fd);
    return undefined;
  }
  for (const name of readdirSync(dir)) if (name !== 'events') rmSync(join(dir, name), { recursive: true, force: true });
  return fd;
}

/** Makes directory `dir` (with missing parents if `parents`) and returns the outermost one it
 * made: undefined if `dir` was there already (or another run made it first). Where it cannot be
 * made, an error that names it. */
function makeDir(dir: string, parents: boolean): string | undefined {
  try {
    if (!parents) return mkdirSync(encodeBytes(dir)), dir;
    const first = mkdirSync(encodeBytes(dir), { recursive: true });
    // Named in UTF-8 (U+FFFD for other bytes): the ancestor of `dir` as deep as it.
    return first === undefined ? undefined : dir.split('/').slice(0, first.split('/').length).join('/');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EEXIST' && !parents) return undefined;
    if (err.code === 'EEXIST' || err.code === 'ENOTDIR') throw new TsrrError('BAD_ARGUMENT', `trace directory ${dir} cannot be made: it or a directory above it is a file`, { dir });
    throw new TsrrError('TRACE_WRITE_FAILED', `cannot create the trace directory ${dir}: ${strerror(-(err.errno ?? 0))}`, { dir });
  }
}

/** Removes the directories from `dir` up to `made`, the outermost one this run created, as
 * far as they are empty (another run may have put something there since). */
function removeMade(dir: string, made: string | undefined): void {
  if (made === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    try {
      rmdirSync(encodeBytes(d));
    } catch {
      return;
    }
    if (d === made || d === dirname(d)) return;
  }
}

/** Points latest-trace at `dir` (atomically, so a reader never sees it missing). */
export function markLatest(dir: string): void {
  const root = traceRoot();
  const tmp = join(root, `.latest-trace.${process.pid}`);
  symlinkSync(encodeBytes(basename(dir) === dir ? dir : absolute(dir)), encodeBytes(tmp));
  renameSync(encodeBytes(tmp), encodeBytes(join(root, 'latest-trace')));
}

/** The trace a command names (a path, a name under the trace root, or latest-trace), as a
 * name Node's fs takes. */
export function resolveTrace(arg: string | undefined): string {
  if (arg === undefined) {
    const latest = join(traceRoot(), 'latest-trace');
    if (!existsSync(encodeBytes(latest))) throw new TsrrError('NO_TRACE', `no trace given and no ${latest} (record something first)`, { dir: latest });
    return fsName(realName(latest));
  }
  if (existsSync(encodeBytes(arg))) return fsName(absolute(arg));
  const named = join(traceRoot(), arg);
  if (existsSync(encodeBytes(named))) return fsName(named);
  throw new TsrrError('NO_TRACE', `no trace at ${arg} (nor ${named})`, { dir: arg });
}

/** The trace latest-trace points at (resolved), if it points at one. */
export function latestTrace(): string | undefined {
  try {
    return realName(join(traceRoot(), 'latest-trace'));
  } catch {
    return undefined;
  }
}

/** Whether `dir` holds a trace (its header and events) rather than anything else. */
export const isTrace = (dir: string): boolean => existsSync(encodeBytes(join(dir, 'header'))) && existsSync(encodeBytes(join(dir, 'events')));

/**
 * Runs `fn` on the trace TRACE names (resolved to its real path) holding its events file's lock,
 * which a recording holds while it writes: so that `fn` never moves or removes a trace being
 * recorded, nor anything that is not a trace. `doing` says what, for the refusals.
 */
export function withFinishedTrace<T>(arg: string, doing: string, fn: (dir: string) => T): T {
  const dir = realName(resolveTrace(arg));
  // A recording writes its header after it claimed the directory: asked first.
  if (beingRecorded(dir)) throw new TsrrError('BAD_ARGUMENT', `${dir} is being recorded: not ${doing} it`, { dir });
  if (!statSync(encodeBytes(dir)).isDirectory() || !isTrace(dir)) throw new TsrrError('NO_TRACE', `${dir} is not a tsrr trace (no header and events): not ${doing} it`, { dir });
  const fd = lockedEvents(dir);
  if (fd === undefined) throw new TsrrError('BAD_ARGUMENT', `${dir} is being recorded: not ${doing} it`, { dir });
  try {
    return fn(dir);
  } finally {
    closeSync(fd);
  }
}

/** Whether a recording is writing trace `dir` now. */
export function beingRecorded(dir: string): boolean {
  let fd: number | undefined;
  try {
    fd = lockedEvents(dir);
  } catch {
    return false; // no events file: nothing records there
  }
  if (fd === undefined) return true;
  closeSync(fd);
  return false;
}

/** The events file of `dir`, open and holding the lock a recording holds while it writes it;
 * undefined while one does. */
function lockedEvents(dir: string): number | undefined {
  const fd = openSync(encodeBytes(join(dir, 'events')), 'r');
  if (tryFlock(fd, LOCK.EX)) return fd;
  closeSync(fd);
  return undefined;
}

/** The traces under the root, oldest first (by their last event). */
export function listTraces(): { name: string; dir: string; mtimeMs: number }[] {
  const root = traceRoot();
  if (!existsSync(encodeBytes(root))) return [];
  return readdirSync(encodeBytes(root), { withFileTypes: true, encoding: 'buffer' })
    .filter((d) => d.isDirectory())
    .map((d) => ({ name: decodeBytes(d.name), dir: join(root, decodeBytes(d.name)) }))
    .filter((t) => isTrace(t.dir))
    .map((t) => ({ ...t, mtimeMs: statSync(encodeBytes(join(t.dir, 'events'))).mtimeMs }))
    .sort((a, b) => a.mtimeMs - b.mtimeMs);
}
