// SPDX-License-Identifier: MIT
/**
 * Going back under gdb in a long replay: bench/programs/revloop.c runs a loop of N iterations
 * (100,000 by default), each with a syscall (an event), calling marker() every 1,000. gdb
 * stops at the end of the loop, then times (in gdb, with Python) reverse-continue to the
 * previous marker() hits, and reverse-stepi, for:
 *   none        the gdbserver plugin alone: every step back replays from the start;
 *   in-memory   with the pcp plugin: in-memory (fork) checkpoints taken as replay moves;
 *   persistent  the same after `create-checkpoints -i 10000` (and in-memory ones).
 * Ratios are against `none`, measured in the same run. reverse-stepi is timed 100 times with
 * checkpoints, and only a few times without (each takes seconds).
 * Usage: node dist/bench/reverse.js [ITERATIONS]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'core', 'cli.js');
const iterations = process.argv[2] ?? '100000';
const work = mkdtempSync(join(tmpdir(), 'tsrr-bench-reverse-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function tsrr(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`tsrr ${args.join(' ')} failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  return r.stdout + r.stderr;
}

const exe = join(work, 'revloop');
const cc = spawnSync('gcc', ['-O1', '-g', '-o', exe, join(ROOT, 'bench', 'programs', 'revloop.c')], { encoding: 'utf8' });
if (cc.status !== 0) throw new Error(cc.stderr);
const trace = join(work, 'trace');
tsrr(['record', '-o', trace, exe, iterations]);

/** Runs gdb commands, timing each `[name, command]` pair; returns milliseconds by name and
 * what gdb printed. */
function underGdb(plugins: string[], steps: (string | [string, string])[]): { ms: Map<string, number[]>; out: string } {
  const lines = ['python import time'];
  for (const s of steps) {
    if (typeof s === 'string') lines.push(s);
    else lines.push('python t = time.time()', s[1], `python print("TIME ${s[0]} %.1f" % ((time.time() - t) * 1000))`);
  }
  const script = join(work, 'script.gdb');
  writeFileSync(script, lines.join('\n') + '\n');
  const out = tsrr([...plugins, 'replay', trace, '--', '-batch', '-nx', '-x', script]);
  const ms = new Map<string, number[]>();
  for (const m of out.matchAll(/^TIME (\S+) ([\d.]+)$/gm)) ms.set(m[1]!, [...(ms.get(m[1]!) ?? []), Number(m[2])]);
  return { ms, out };
}

const hits = (n: number): [string, string][] => Array.from({ length: n }, () => ['rc', 'reverse-continue']);
const stepsBack = (n: number): [string, string][] => Array.from({ length: n }, () => ['rsi', 'reverse-stepi']);

interface Row {
  name: string;
  rcFirst: number;
  rcNext: number;
  rsi: number;
}

function measure(name: string, plugins: string[], rsiCount: number): Row {
  const { ms, out } = underGdb(plugins, ['break done', 'continue', 'break marker', ...hits(5), 'print i', 'delete', 'print $pc', ...stepsBack(rsiCount), `stepi ${rsiCount}`, 'print $pc']);
  if (!/\$1 = 9[0-9]000/.test(out) && iterations === '100000') throw new Error(`${name}: reverse-continue did not go back to marker(95000):\n${out}`);
  const pcs = [...out.matchAll(/\$[23] = \(void \(\*\)\(\)\) (0x[0-9a-f]+)/g)].map((m) => m[1]);
  if (pcs.length !== 2 || pcs[0] !== pcs[1]) throw new Error(`${name}: stepi after reverse-stepi did not come back (${pcs.join(' ')}):\n${out}`);
  const rc = ms.get('rc')!;
  const rsi = ms.get('rsi')!;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { name, rcFirst: rc[0]!, rcNext: mean(rc.slice(1)), rsi: mean(rsi) };
}

const rows = [measure('none', ['--plugin', 'gdbserver'], 3), measure('in-memory', ['--plugin', 'pcp', '--plugin', 'gdbserver'], 100)];
tsrr(['--plugin', 'pcp', 'create-checkpoints', '-i', '10000', trace]);
rows.push(measure('persistent', ['--plugin', 'pcp', '--plugin', 'gdbserver'], 100));

const base = rows[0]!;
const f = (n: number) => n.toFixed(1);
const x = (n: number, b: number) => `${(b / n).toFixed(1)}x`;
console.log(`revloop ${iterations} iterations; ms per command, and how many times faster than none`);
console.log('checkpoints  reverse-continue (first)  reverse-continue (next 4, mean)  reverse-stepi (mean)');
for (const r of rows) {
  console.log(`${r.name.padEnd(12)} ${f(r.rcFirst).padStart(10)} ${x(r.rcFirst, base.rcFirst).padStart(8)}   ${f(r.rcNext).padStart(14)} ${x(r.rcNext, base.rcNext).padStart(8)}        ${f(r.rsi).padStart(10)} ${x(r.rsi, base.rsi).padStart(8)}`);
}
console.log(`reverse-stepi: 100 in a row with checkpoints (total ${f(rows[1]!.rsi * 100)} ms in-memory, ${f(rows[2]!.rsi * 100)} ms persistent), 3 without`);
