// SPDX-License-Identifier: MIT
/** Running real gdb in batch mode on `tsrr replay`, and checking what it printed. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, type Run } from './helpers.js';

export const hasGdb = spawnSync('gdb', ['--version']).status === 0;
export const GDB_TIMEOUT = 120_000;
let runs = 0;

/** Replays `trace` under gdb (started by tsrr, with its default plugins unless `tsrrArgs` before
 * `replay` say otherwise) running
 * `commands` in batch mode; `out` is what tsrr and gdb printed on stdout and stderr, in the
 * order they did (gdb prints monitor output on stderr). */
export async function underGdb(trace: string, commands: string[], opts: { tsrrArgs?: string[]; replayArgs?: string[]; env?: NodeJS.ProcessEnv; dir: string }): Promise<Run & { out: string }> {
  const n = runs++;
  const script = join(opts.dir, `script${n}.gdb`);
  writeFileSync(script, commands.join('\n') + '\n');
  const args = [...(opts.tsrrArgs ?? []), 'replay', ...(opts.replayArgs ?? []), trace, '--', '-batch', '-nx', '-x', script];
  const log = join(opts.dir, `gdb${n}.out`);
  const fd = openSync(log, 'w');
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', fd, fd], env: opts.env });
  closeSync(fd);
  const timer = setTimeout(() => child.kill('SIGKILL'), GDB_TIMEOUT);
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, sig) => resolve([code, sig])));
  clearTimeout(timer);
  const out = readFileSync(log, 'utf8');
  return { status, signal, stdout: Buffer.from(out), stderr: out, out };
}

/** Asserts `out` matches `patterns` one after the other. */
export function assertLines(out: string, patterns: RegExp[]): void {
  let at = 0;
  for (const p of patterns) {
    const rest = out.slice(at);
    const m = p.exec(rest);
    assert.ok(m, `gdb's output lacks ${p} (in order) after:\n${rest}\n--- all of it:\n${out}`);
    at += m.index + m[0].length;
  }
}
