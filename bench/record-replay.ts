// SPDX-License-Identifier: MIT
/**
 * Record and replay overhead, with syscall buffering and without (record -n), against baselines
 * measured in the same run: the native program and `strace -f -o /dev/null`. Prints the median
 * of RUNS runs of each and the ratios, the trace's size and how fast it grows per second of
 * recording, and tsrr's peak memory while recording (with /usr/bin/time, where there is one);
 * a workload that tsrr fails to record or replay is marked failed, with the reason under the
 * table, and the exit status is 1. Workloads are picked by name with ONLY=substring.
 * Usage: node dist/bench/record-replay.js [RUNS]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'core', 'cli.js');
const RUNS = Number(process.argv[2] ?? 3);
const work = mkdtempSync(join(tmpdir(), 'tsrr-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function compile(name: string, flags: string[] = []): string {
  const out = join(work, name);
  const r = spawnSync('gcc', ['-O2', '-o', out, join(ROOT, 'bench', 'programs', `${name}.c`), ...flags], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

/** Median wall time of `argv` in milliseconds; fails loudly if the command fails or runs for
 * more than 10 minutes (killed then; a tracee dies with its tracer). */
function time(argv: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    rmSync(join(work, 'trace'), { recursive: true, force: true });
    rmSync(join(work, 'copy.bin'), { force: true });
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], cwd: work, timeout: 600_000, killSignal: 'SIGKILL' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.error?.message ?? r.status ?? r.signal}): ${r.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const big = join(work, 'big.bin');
writeFileSync(big, randomBytes(200 << 20));
const cpu = String(cpus().length - 1);
const source = join(work, 'unit.c');
writeFileSync(source, readFileSync(join(ROOT, 'bench', 'programs', 'syscalls.c')));
const TIME = '/usr/bin/time';

/** Bytes of the files under `dir`. */
function sizeOf(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .reduce((n, d) => n + statSync(join(d.parentPath ?? d.path, d.name)).size, 0);
}

/** tsrr's peak resident memory (MiB) recording `argv`, if /usr/bin/time can tell. */
function peakMiB(argv: string[]): number {
  if (!existsSync(TIME)) return NaN;
  rmSync(join(work, 'trace'), { recursive: true, force: true });
  const r = spawnSync(TIME, ['-f', 'peak %M', process.execPath, CLI, 'record', '-o', join(work, 'trace'), ...argv], { stdio: ['ignore', 'ignore', 'pipe'], cwd: work, encoding: 'utf8' });
  const m = /peak (\d+)/.exec(r.stderr);
  return m ? Number(m[1]) / 1024 : NaN;
}

const workloads: { name: string; argv: string[] }[] = [
  // tsrr's own start and end, which every other row includes.
  { name: 'start-up (/bin/true)', argv: ['/bin/true'] },
  { name: 'compute-bound', argv: [compile('compute'), '3000000000'] },
  { name: 'syscall-heavy (2M calls)', argv: [compile('syscalls'), '500000'] },
  { name: 'file copy 200 MB', argv: ['/bin/cp', big, join(work, 'copy.bin')] },
  { name: 'fork-heavy (200 processes)', argv: ['/bin/sh', '-c', 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done'] },
  { name: 'multithreaded (4 threads)', argv: [compile('threads', ['-pthread']), '12000'] },
  { name: 'ls -lR /usr', argv: ['/bin/ls', '-lR', '/usr'] },
  { name: 'gcc -c', argv: ['/usr/bin/gcc', '-O2', '-c', '-o', join(work, 'unit.o'), source] },
  { name: 'python3 -c startup', argv: ['/usr/bin/python3', '-c', 'import json, os; print(json.dumps(dict(os.environ))[:10])'] },
  { name: 'sh -c pipeline', argv: ['/bin/sh', '-c', 'seq 200000 | sort -r | gzip -c | wc -c'] },
].filter((w) => !process.env.ONLY || w.name.includes(process.env.ONLY));

const rows: string[][] = [['workload', 'native ms', 'strace -f', 'record', 'replay', 'record -n', 'replay -n', 'record/native', 'replay/native', 'record -n/native', 'replay -n/native', 'record/strace', 'trace MiB', 'MiB/s recorded', 'tsrr peak MiB']];
const failures: string[] = [];

/** Median record and replay times of `argv`, recorded with `flags`, and the trace's size. */
function recordAndReplay(argv: string[], flags: string[]): { record: number; replay: number; traceMiB: number } {
  const record = time([process.execPath, CLI, 'record', ...flags, '-o', join(work, 'trace'), ...argv]);
  // The replay timing replays a recording of its own (time() removes the trace it makes).
  const recorded = join(work, 'replayed');
  rmSync(recorded, { recursive: true, force: true });
  spawnSync(process.execPath, [CLI, 'record', ...flags, '-o', recorded, ...argv], { stdio: 'ignore', cwd: work });
  return { record, replay: time([process.execPath, CLI, 'replay', '-a', recorded]), traceMiB: sizeOf(recorded) / 1048576 };
}

for (const w of workloads) {
  const native = time(w.argv);
  const strace = time(['strace', '-f', '-o', '/dev/null', ...w.argv]);
  // A workload that tsrr fails on gets a row saying so (the reason goes below the table), and the
  // others are still measured.
  let buffered = { record: NaN, replay: NaN, traceMiB: NaN };
  let plain = { record: NaN, replay: NaN, traceMiB: NaN };
  let peak = NaN;
  try {
    buffered = recordAndReplay(w.argv, []);
    plain = recordAndReplay(w.argv, ['-n']);
    peak = peakMiB(w.argv);
  } catch (e) {
    failures.push(`${w.name}: ${(e as Error).message.trim()}`);
  }
  const f = (n: number) => (Number.isNaN(n) ? 'failed' : n.toFixed(0));
  const x = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(2) + 'x');
  const mib = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(1));
  rows.push([
    w.name, f(native), f(strace), f(buffered.record), f(buffered.replay), f(plain.record), f(plain.replay),
    x(buffered.record / native), x(buffered.replay / native), x(plain.record / native), x(plain.replay / native), x(buffered.record / strace),
    mib(buffered.traceMiB), mib(buffered.traceMiB / (buffered.record / 1000)), mib(peak),
  ]);
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
console.log(`(median of ${RUNS} runs each; times in ms are wall clock; tsrr pins tracer and tracee to CPU ${cpu})`);
for (const failure of failures) console.log(`failed: ${failure}`);
if (failures.length > 0) process.exitCode = 1;
