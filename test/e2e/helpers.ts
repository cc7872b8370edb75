// SPDX-License-Identifier: MIT
/** Shared by the end-to-end tests: run the tsrr CLI, compile C test programs, temp dirs. */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(ROOT, 'dist', 'core', 'cli.js');
export const PROGRAMS = join(ROOT, 'test', 'programs');

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `tsrr ARGS` and waits for it (60 s at most). */
export function tsrr(args: string[], opts: SpawnSyncOptions = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { timeout: 60_000, maxBuffer: 1 << 28, ...opts });
  return { status: r.status, signal: r.signal, stdout: r.stdout as Buffer, stderr: String(r.stderr) };
}

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix = 'tsrr-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const built = tempDir('tsrr-programs-');

/** Compiles test/programs/NAME.c (once per test process) and returns the executable's path. */
export function compile(name: string, flags: string[] = []): string {
  const out = join(built, name);
  try {
    statSync(out);
    return out;
  } catch {
    mkdirSync(built, { recursive: true });
  }
  const r = spawnSync('gcc', ['-O1', '-g', '-Wall', '-o', out, join(PROGRAMS, `${name}.c`), ...flags], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${name}.c failed:\n${r.stderr}`);
  return out;
}

/** Records `argv` into a new trace directory, then replays it on autopilot. */
export function recordAndReplay(argv: string[], opts: SpawnSyncOptions = {}): { dir: string; record: Run; replay: Run } {
  const dir = join(tempDir(), 'trace');
  const record = tsrr(['record', '-o', dir, ...argv], opts);
  const replay = tsrr(['replay', '-a', dir], { ...opts, input: '' });
  return { dir, record, replay };
}

/** Runs `argv` directly, without tsrr (for comparing against a recording). */
export function runNative(argv: string[], opts: SpawnSyncOptions = {}): Run {
  const r = spawnSync(argv[0]!, argv.slice(1), { timeout: 60_000, maxBuffer: 1 << 28, ...opts });
  return { status: r.status, signal: r.signal, stdout: r.stdout as Buffer, stderr: String(r.stderr) };
}

/** How a run ended and what it wrote to stderr, for assertion messages. */
export function describeRun(what: string, r: Run): string {
  return `${what}: status ${r.status} signal ${r.signal}\nstderr: ${r.stderr}`;
}
