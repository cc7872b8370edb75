// SPDX-License-Identifier: MIT
/** Shared by the end-to-end tests: run the tsrr CLI, compile C test programs, temp dirs, find
 * processes left behind, assert clean refusals. */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnOptions, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** `args` with TSRR_TEST_RECORD_FLAGS (space-separated) after `record`: a suite run again
 * with `-n` records without syscall buffering. */
function withRecordFlags(args: string[]): string[] {
  const flags = (process.env.TSRR_TEST_RECORD_FLAGS ?? '').split(' ').filter(Boolean);
  const at = args.indexOf('record');
  return flags.length === 0 || at < 0 ? args : [...args.slice(0, at + 1), ...flags, ...args.slice(at + 1)];
}

/** Runs `tsrr ARGS` and waits for it (60 s at most). */
export function tsrr(args: string[], opts: SpawnSyncOptions = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...withRecordFlags(args)], { timeout: 60_000, maxBuffer: 1 << 28, ...opts });
  return { status: r.status, signal: r.signal, stdout: r.stdout as Buffer, stderr: String(r.stderr) };
}

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix = 'tsrr-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const scratch = tempDir();
let scratchDirs = 0;
/** A fresh directory, under one temporary directory per test process (one exit hook for all). */
export function freshDir(): string {
  const dir = join(scratch, String(scratchDirs++));
  mkdirSync(dir);
  return dir;
}

const built = tempDir('tsrr-programs-');

/** gcc flags for programs whose whole memory a test compares between two replays: bound at
 * load. Lazy binding saves the vector registers with XSAVEC, which skips those the CPU deems
 * unused, leaving older bytes on the stack; on this machine that depends on context switches
 * (seen: one replay in about 40), not on the program. */
export const BIND_NOW = ['-Wl,-z,now'];

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

/** A fresh directory holding a copy of the compiled program under a path of its own (so that
 * only what this test started matches it) and room for a trace. */
export function setUp(name: string): { program: string; tmp: string; dir: string } {
  // Resolved, so that it also matches the tracee's /proc/PID/exe.
  const tmp = realpathSync(freshDir());
  const program = join(tmp, name);
  copyFileSync(compile(name), program);
  chmodSync(program, 0o755);
  return { program, tmp, dir: join(tmp, 'trace') };
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

/** Events in a trace (lines of `tsrr dump`). */
export function countEvents(dir: string): number {
  const d = tsrr(['dump', dir]);
  assert.equal(d.status, 0, describeRun('dump', d));
  return d.stdout.toString().trimEnd().split('\n').length;
}

/** One line of `tsrr dump --json` (the fields tests use). */
export interface DumpEvent {
  frame: number;
  tid: number;
  kind: string;
  number?: number;
  args?: string[];
  result?: string;
  /** A buffered event's calls. */
  calls?: { number: number; fd?: number; result: string; output: string }[];
  /** A preempt's or a signal's snapshot, when replay puts it in instead of running up to it. */
  snapshot?: unknown;
}

/** The events of the trace in `dir`, as `tsrr dump --json` gives them. */
export function dumpEvents(dir: string): DumpEvent[] {
  const d = tsrr(['dump', '--json', dir]);
  assert.equal(d.status, 0, describeRun('dump --json', d));
  return d.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as DumpEvent);
}

const NR_WRITE = 1;
const NR_WRITEV = 20;

/** Bytes the events in (from, to] wrote to `fd` with write and writev (their results are what
 * was written), by any task, buffered calls included. */
export function bytesWritten(events: readonly DumpEvent[], fd: number, from: number, to: number): number {
  let n = 0;
  for (const e of events) {
    if (e.frame <= from || e.frame > to) continue;
    const calls = e.kind === 'syscall' ? [{ number: e.number!, fd: Number(e.args![0]), result: e.result! }] : e.kind === 'buffered' ? e.calls! : [];
    for (const c of calls) if ((c.number === NR_WRITE || c.number === NR_WRITEV) && c.fd === fd && BigInt(c.result) > 0n) n += Number(c.result);
  }
  return n;
}

export interface Started {
  child: ChildProcess;
  stdout: () => Buffer;
  stderr: () => string;
  /** Resolves when tsrr exits (its pipes may stay open if it leaked a tracee). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves when tsrr's stdout and stderr are closed (no process holds them any more). */
  closed: Promise<true>;
}

/** Starts `tsrr ARGS` (in `opts.cwd`, with `opts.env`, if given) without waiting for it. */
export function start(args: string[], opts: Pick<SpawnOptions, 'cwd' | 'env' | 'detached'> = {}): Started {
  const child = spawn(process.execPath, [CLI, ...withRecordFlags(args)], { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const closed = Promise.all([
    new Promise<void>((resolve) => child.stdout!.on('close', () => resolve())),
    new Promise<void>((resolve) => child.stderr!.on('close', () => resolve())),
  ]).then(() => true as const);
  return { child, stdout: () => Buffer.concat(out), stderr: () => err, exited, closed };
}

/** Like `tsrr`, without blocking (so that several commands can run at once); killed after
 * `timeoutMs`. */
export async function tsrrAsync(args: string[], timeoutMs: number, opts: Pick<SpawnOptions, 'cwd' | 'env'> = {}): Promise<Run> {
  const s = start(args, opts);
  const timer = setTimeout(() => s.child.kill('SIGKILL'), timeoutMs);
  try {
    const [{ code, signal }] = await Promise.all([s.exited, s.closed]);
    return { status: code, signal, stdout: s.stdout(), stderr: s.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/** `tsrrAsync` for each of `commands`, `atOnce` at a time; the runs in their order. */
export async function tsrrEach(commands: string[][], timeoutMs: number, atOnce = 4): Promise<Run[]> {
  const runs: Run[] = [];
  for (let i = 0; i < commands.length; i += atOnce) runs.push(...(await Promise.all(commands.slice(i, i + atOnce).map((c) => tsrrAsync(c, timeoutMs)))));
  return runs;
}

/** Each command line of `cases` is a usage error: refused (assertRefused) with exit status 1,
 * its one line naming each of its `mentions`, nothing on stdout. */
export async function assertUsageErrors(cases: [args: string[], mentions: (string | RegExp)[]][], timeoutMs = 10_000): Promise<void> {
  const runs = await tsrrEach(cases.map(([args]) => args), timeoutMs);
  cases.forEach(([args, mentions], i) => {
    const what = `tsrr ${args.join(' ')}`;
    assertRefused(what, runs[i]!, mentions);
    assert.equal(runs[i]!.status, 1, describeRun(what, runs[i]!));
    assert.equal(runs[i]!.stdout.length, 0, `${what} printed on stdout:\n${runs[i]!.stdout}`);
  });
}

export interface Proc {
  pid: number;
  state: string;
  exe: string;
  args: string;
}

/** Live processes whose command line or executable contains one of `needles`: a recorded
 * tracee has the program's path in its argv; a replayed one runs the trace's copy of it (its
 * argv is not readable any more, so pgrep -f cannot find it). */
export function processesOf(...needles: string[]): Proc[] {
  const found: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      let exe = '';
      try {
        exe = readlinkSync(`/proc/${name}/exe`);
      } catch {
        // a zombie, or a kernel thread
      }
      if (!needles.some((n) => args.includes(n) || exe.includes(n))) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
      if (state === 'Z' || state === 'X') continue;
      found.push({ pid: Number(name), state, exe, args });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The processes of `needles` still there after at most `graceMs`. */
export function waitForNoProcesses(needles: string[], graceMs = 500): Proc[] {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const left = processesOf(...needles);
    if (left.length === 0 || Date.now() > deadline) return left;
    spawnSync('sleep', ['0.05']);
  }
}

const show = (procs: Proc[]) => procs.map((p) => `${p.pid} ${p.state} exe ${p.exe}: ${p.args}`).join('\n');

/** Asserts that after at most `graceMs` no process of `needles` is left, none stopped (T, t)
 * and none running; `ps -o stat` of each is in the message. */
export function assertNoneLeft(needles: string[], graceMs = 500): void {
  const left = waitForNoProcesses(needles, graceMs);
  if (left.length === 0) return;
  const ps = spawnSync('ps', ['-o', 'pid,stat,args', '-p', left.map((p) => p.pid).join(',')], { encoding: 'utf8' }).stdout;
  const stopped = left.filter((p) => /^[tT]/.test(p.state));
  assert.deepEqual(show(stopped), '', `processes left stopped:\n${ps}`);
  assert.deepEqual(show(left), '', `processes left running:\n${ps}`);
}

/** Asserts a clean refusal: finished in time with a non-zero status, no stack trace, no
 * "internal error", and on stderr exactly one line `tsrr: ...` naming each of `mentions`, after
 * at most one line matching `allowedFirst` (a notice printed before the error was found).
 * Returns that line. */
export function assertRefused(what: string, r: Run, mentions: (string | RegExp)[], allowedFirst?: RegExp): string {
  const info = describeRun(what, r);
  assert.equal(r.signal, null, `${what} did not finish in time (or died of a signal)\n${info}`);
  assert.notEqual(r.status, 0, `${what} succeeded\n${info}`);
  assert.notEqual(r.status, null, info);
  assert.doesNotMatch(r.stderr, /internal error/i, info);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `stack trace on stderr\n${info}`);
  const lines = r.stderr.split('\n');
  assert.equal(lines.at(-1), '', `stderr must end with a newline\n${info}`);
  const body = lines.slice(0, -1);
  if (allowedFirst && body.length > 1 && allowedFirst.test(body[0]!)) body.shift();
  assert.equal(body.length, 1, `stderr must be exactly one line${allowedFirst ? ` (after ${allowedFirst}, if any)` : ''}\n${info}`);
  const line = body[0]!;
  assert.ok(line.startsWith('tsrr: '), `stderr must start with "tsrr: "\n${info}`);
  for (const m of mentions) {
    if (typeof m === 'string') assert.ok(line.includes(m), `the message does not name ${JSON.stringify(m)}\n${info}`);
    else assert.match(line, m, info);
  }
  return line;
}

/** Waits for `p` at most `ms`; undefined on timeout. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `cond` every 20 ms for at most `ms`. */
export async function waitFor(what: string, cond: () => boolean, ms: number, info: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}\n${info()}`);
    await sleep(20);
  }
}

/** Ends a run that a failed assertion left behind. */
export function cleanup(s: Started): void {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
}
