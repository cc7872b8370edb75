// SPDX-License-Identifier: MIT
/**
 * Record and replay overhead against baselines measured in the same run: the native program,
 * `strace -f -o /dev/null`, and strace pinned to one CPU as tsrr pins itself. Prints the median
 * of RUNS runs of each and the ratios. Usage: node dist/bench/record-replay.js [RUNS]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'core', 'cli.js');
const RUNS = Number(process.argv[2] ?? 3);
const work = mkdtempSync(join(tmpdir(), 'tsrr-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function compile(name: string): string {
  const out = join(work, name);
  const r = spawnSync('gcc', ['-O2', '-o', out, join(ROOT, 'bench', 'programs', `${name}.c`)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

/** Median wall time of `argv` in milliseconds; fails loudly if the command fails. */
function time(argv: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    rmSync(join(work, 'trace'), { recursive: true, force: true });
    rmSync(join(work, 'copy.bin'), { force: true });
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], cwd: work });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const big = join(work, 'big.bin');
writeFileSync(big, randomBytes(50 << 20));
const cpu = String(cpus().length - 1);

const workloads: { name: string; argv: string[] }[] = [
  { name: 'compute-bound', argv: [compile('compute'), '3000000000'] },
  { name: 'syscall-heavy (200k syscalls)', argv: [compile('syscalls'), '100000'] },
  { name: 'file copy 50 MB', argv: ['/bin/cp', big, join(work, 'copy.bin')] },
];

const rows: string[][] = [['workload', 'native ms', 'strace -f', 'strace pinned', 'record', 'replay', 'record/native', 'record/strace', 'record/strace pinned', 'replay/record']];
for (const w of workloads) {
  const native = time(w.argv);
  const strace = time(['strace', '-f', '-o', '/dev/null', ...w.argv]);
  const pinned = time(['taskset', '-c', cpu, 'strace', '-f', '-o', '/dev/null', ...w.argv]);
  // Record into one directory and replay it; the replay timing reuses the last recording.
  const record = time([process.execPath, CLI, 'record', '-o', join(work, 'trace'), ...w.argv]);
  const recorded = join(work, 'replayed');
  rmSync(recorded, { recursive: true, force: true });
  spawnSync(process.execPath, [CLI, 'record', '-o', recorded, ...w.argv], { stdio: 'ignore', cwd: work });
  const replay = time([process.execPath, CLI, 'replay', '-a', recorded]);
  const f = (n: number) => n.toFixed(0);
  const x = (n: number) => n.toFixed(2) + 'x';
  rows.push([w.name, f(native), f(strace), f(pinned), f(record), f(replay), x(record / native), x(record / strace), x(record / pinned), x(replay / record)]);
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
console.log(`(median of ${RUNS} runs each; times in ms are wall clock; tsrr pins tracer and tracee to CPU ${cpu})`);
