// SPDX-License-Identifier: MIT
/**
 * Persistent checkpoints on a program that touches 256 MiB in phases (bench/programs/phases.c):
 * checkpoint write time and throughput, size on disk against touched memory, the second
 * checkpoint against the first, restore time, and `replay -a -g N` near the end of the trace
 * with checkpoints against --ignore-pcp, measured in the same run.
 * Usage: node dist/bench/pcp.js [CALLS_PER_PHASE]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'core', 'cli.js');
const TIMINGS_PLUGIN = join(ROOT, 'dist', 'bench', 'pcpTimings.js');
const calls = process.argv[2] ?? '100000';
const work = mkdtempSync(join(tmpdir(), 'tsrr-bench-pcp-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const timings = join(work, 'timings');
const TOUCHED = 256 * 1048576;

function tsrr(args: string[]): { ms: number; stdout: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, '--plugin', 'pcp', '--plugin', TIMINGS_PLUGIN, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, PCP_TIMINGS: timings },
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`tsrr ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/** Milliseconds between `start` and `end` timing records of `frame`. */
function span(start: string, end: string, frame: number): number {
  const recs = readFileSync(timings, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { what: string; frame: number; ns: string });
  const t = (what: string) => BigInt(recs.filter((r) => r.what === what && r.frame === frame).pop()!.ns);
  return Number(t(end) - t(start)) / 1e6;
}

const exe = join(work, 'phases');
const cc = spawnSync('gcc', ['-O2', '-o', exe, join(ROOT, 'bench', 'programs', 'phases.c')], { encoding: 'utf8' });
if (cc.status !== 0) throw new Error(cc.stderr);
const trace = join(work, 'trace');
const record = tsrr(['record', '-o', trace, exe, calls]);
// Frames of the "phase N done" writes: the first checkpoints go right after phases 0 and 1.
// The dump goes through a file and only write events are parsed: holding all of it in this
// process would weigh on the measurements that follow.
const dumpFile = join(work, 'dump.jsonl');
const fd = openSync(dumpFile, 'w');
spawnSync(process.execPath, [CLI, 'dump', '--json', trace], { stdio: ['ignore', fd, 'inherit'] });
closeSync(fd);
const writes = readFileSync(dumpFile, 'utf8')
  .split('\n')
  .filter((l) => l.includes('"number":1,'))
  .map((l) => JSON.parse(l) as { frame: number; args: string[] })
  .filter((e) => e.args[0] === '1')
  .map((e) => e.frame);
rmSync(dumpFile);
const [f0, f1, f7] = [writes[0]!, writes[1]!, writes[7]!];

tsrr(['create-checkpoints', '-s', String(f0), '-i', String(f1 - f0), '-e', String(f1), trace]);
const write0 = span('write-start', 'write-end', f0);
const write1 = span('write-start', 'write-end', f1);
// Then one every INTERVAL events to the end, as a user would make them.
const INTERVAL = 50000;
tsrr(['create-checkpoints', '-s', String(f1 + INTERVAL), '-i', String(INTERVAL), trace]);
const list = JSON.parse(tsrr(['checkpoints', '--json', trace]).stdout) as { event: number; stored: number; memory: number }[];
const stored = (f: number) => list.find((c) => c.event === f)!.stored;

const restore = tsrr(['replay', '-a', '-g', String(f0), trace]);
const restoreMs = span('restore-start', 'restore-end', f0);
const withPcp = tsrr(['replay', '-a', '-g', String(f7), trace]);
const from = list.filter((c) => c.event <= f7).pop()!.event;
const without = tsrr(['replay', '-a', '-g', String(f7), '--ignore-pcp', trace]);

const mb = (bytes: number) => (bytes / 1048576).toFixed(1) + ' MiB';
const rows: [string, string][] = [
  ['trace', `${writes.length} phases, ${f7} events; record ${(record.ms / 1000).toFixed(1)} s`],
  ['checkpoint write, 256 MiB touched', `${write0.toFixed(0)} ms (${(TOUCHED / 1048576 / (write0 / 1000)).toFixed(0)} MB/s of touched memory)`],
  ['size on disk / touched memory', `${mb(stored(f0))} / 256 MiB = ${(stored(f0) / TOUCHED).toFixed(2)}`],
  ['second checkpoint (a contiguous 1/16 changed)', `${write1.toFixed(0)} ms, ${mb(stored(f1))} = ${(stored(f1) / stored(f0)).toFixed(3)} of the first`],
  ['restore of the first checkpoint', `${restoreMs.toFixed(0)} ms (whole command ${restore.ms.toFixed(0)} ms)`],
  [`replay -a -g ${f7} (checkpoints every ${INTERVAL})`, `${withPcp.ms.toFixed(0)} ms with pcp (from event ${from}), ${without.ms.toFixed(0)} ms with --ignore-pcp: ${(without.ms / withPcp.ms).toFixed(1)}x faster`],
];
const w = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
