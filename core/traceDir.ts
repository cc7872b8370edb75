// SPDX-License-Identifier: MIT
/**
 * Where traces live: $_RR_TRACE_DIR, else ~/.local/share/tsrr (honouring XDG_DATA_HOME), one
 * directory per recording named PROG-N, and `latest-trace` pointing at the newest.
 */
import { existsSync, mkdirSync, readdirSync, realpathSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { strerror } from '../native/libc.js';
import { TsrrError } from '../native/TsrrError.js';

export function traceRoot(): string {
  if (process.env._RR_TRACE_DIR) return resolve(process.env._RR_TRACE_DIR);
  const data = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'tsrr');
}

/** Makes directory `dir` (with `parents`); where it cannot be made (other than that it exists
 * already), an error that names it. */
function makeDir(dir: string, parents: boolean): void {
  try {
    mkdirSync(dir, { recursive: parents });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EEXIST') throw e;
    throw new TsrrError('TRACE_WRITE_FAILED', `cannot create the trace directory ${dir}: ${strerror(-(err.errno ?? 0))}`, { dir });
  }
}

/** Makes the directory a recording goes to, given with -o (it may be there already, empty). */
export function makeTraceDir(dir: string): string {
  makeDir(dir, true);
  return dir;
}

/** Makes a fresh directory for a recording of `program` under the trace root: PROG-0, PROG-1, ... */
export function newTraceDir(program: string): string {
  const root = traceRoot();
  makeDir(root, true);
  const name = basename(program).replace(/[^\w.+-]/g, '_') || 'trace';
  for (let n = 0; ; n++) {
    const dir = join(root, `${name}-${n}`);
    try {
      makeDir(dir, false);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Points latest-trace at `dir` (atomically, so a reader never sees it missing). */
export function markLatest(dir: string): void {
  const root = traceRoot();
  const tmp = join(root, `.latest-trace.${process.pid}`);
  symlinkSync(basename(dir) === dir ? dir : resolve(dir), tmp);
  renameSync(tmp, join(root, 'latest-trace'));
}

/** The trace a command names: a path, a name under the trace root, or latest-trace. */
export function resolveTrace(arg: string | undefined): string {
  if (arg === undefined) {
    const latest = join(traceRoot(), 'latest-trace');
    if (!existsSync(latest)) throw new TsrrError('NO_TRACE', `no trace given and no ${latest} (record something first)`, { dir: latest });
    return realpathSync(latest);
  }
  if (existsSync(arg)) return resolve(arg);
  const named = join(traceRoot(), arg);
  if (existsSync(named)) return named;
  throw new TsrrError('NO_TRACE', `no trace at ${arg} (nor ${named})`, { dir: arg });
}

/** The traces under the root, oldest first. */
export function listTraces(): { name: string; dir: string; mtimeMs: number }[] {
  const root = traceRoot();
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'header')))
    .map((d) => ({ name: d.name, dir: join(root, d.name), mtimeMs: statSync(join(root, d.name)).mtimeMs }))
    .sort((a, b) => a.mtimeMs - b.mtimeMs);
}
