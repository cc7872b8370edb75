// SPDX-License-Identifier: MIT
/**
 * Damage anywhere in a trace or its checkpoints never gives a silently wrong replay. With a
 * fixed seed, 200 mutations (bit flips, truncations, zeroed ranges, deleted files) spread over
 * every kind of file a trace and its persistent checkpoints hold; after each, `replay -a -g G`
 * (with pcp) must print what the recording printed up to G, or stop short of it where the
 * trace says it ends with a warning, or fail with one line naming a file of the trace: never
 * other output with exit 0, never a stack trace, never a hang, nothing left running.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { assertNoneLeft, compile, countEvents, describeRun, freshDir, tsrr, tsrrAsync, type Run } from './helpers.js';

const MUTATIONS = 200;
const TIMEOUT_MS = 30_000;

/** mulberry32: the same mutations on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The kind of a trace file, by its path relative to the trace. */
function kindOf(rel: string): string {
  if (rel.startsWith('files/')) return 'files/*';
  if (rel.startsWith('checkpoints/packs/')) return rel.endsWith('.idx') ? 'pack index' : 'pack';
  if (rel.startsWith('checkpoints/')) return `checkpoint ${rel.split('/').at(-1)}`;
  return rel;
}

function filesUnder(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name), root) : [relative(root, join(dir, d.name))]));
}

type Op = 'flip' | 'truncate' | 'zero' | 'delete';
const OPS: Op[] = ['flip', 'truncate', 'zero', 'delete'];

/** Applies `op` to `file` at places `rnd` picks; returns what it did. */
function mutate(file: string, op: Op, rnd: () => number): string {
  const size = statSync(file).size;
  if (op === 'delete' || size === 0) {
    unlinkSync(file);
    return 'deleted';
  }
  if (op === 'truncate') {
    const to = Math.floor(rnd() * size);
    truncateSync(file, to);
    return `cut to ${to} of ${size} bytes`;
  }
  const bytes = readFileSync(file);
  if (op === 'flip') {
    const at = Math.floor(rnd() * size);
    bytes[at]! ^= 1 << Math.floor(rnd() * 8);
    writeFileSync(file, bytes);
    return `bit flipped at byte ${at}`;
  }
  const at = Math.floor(rnd() * size);
  const length = 1 + Math.floor(rnd() * Math.min(4096, size - at));
  bytes.fill(0, at, at + length);
  writeFileSync(file, bytes);
  return `${length} bytes zeroed at ${at}`;
}

type Outcome = 'exact' | 'cut short, with a warning' | 'refused naming a file';

/** What the replay of a damaged trace did, if it is allowed; fails the test otherwise. */
function judge(what: string, r: Run, expected: Buffer, dir: string): Outcome {
  const info = describeRun(what, r);
  assert.equal(r.signal, null, `hung (killed after ${TIMEOUT_MS} ms) or died of a signal\n${info}`);
  assert.doesNotMatch(r.stderr, /internal error|^\s+at /im, `stack trace\n${info}`);
  const lines = r.stderr.split('\n').slice(0, -1);
  for (const l of lines) assert.ok(l.startsWith('tsrr: '), `stderr line not from tsrr\n${info}`);
  const prefix = expected.subarray(0, r.stdout.length).equals(r.stdout);
  if (r.status === 0) {
    if (r.stdout.equals(expected)) return 'exact';
    assert.ok(prefix, `replay printed other output than the recording, with exit 0\n${info}`);
    assert.ok(lines.some((l) => l.includes('where the trace ends') && l.includes(dir)), `replay stopped short without saying where the trace ends\n${info}`);
    return 'cut short, with a warning';
  }
  assert.ok(prefix, `a failed replay printed other output than the recording\n${info}`);
  assert.ok(lines.length >= 1 && lines.at(-1)!.includes(dir), `the error does not name a file of the trace\n${info}`);
  for (const l of lines.slice(0, -1)) assert.match(l, /^tsrr: (starting from|warning:)/, `more than one error line\n${info}`);
  return 'refused naming a file';
}

describe('damaged traces and checkpoints (fuzz)', () => {
  let good: string;
  let files: string[];
  const goals: number[] = [];
  const expected = new Map<number, Buffer>();

  before(() => {
    const program = compile('time');
    good = join(freshDir(), 'trace');
    const r = tsrr(['record', '-o', good, program], { timeout: TIMEOUT_MS });
    assert.equal(r.status, 0, describeRun('record', r));
    const frames = countEvents(good);
    const c = tsrr(['--plugin', 'pcp', 'create-checkpoints', '-i', String(Math.max(1, Math.floor(frames / 5))), good], { timeout: 120_000 });
    assert.equal(c.status, 0, describeRun('create-checkpoints', c));
    files = filesUnder(good);
    for (const k of ['header', 'events', 'copies', 'files/*', 'checkpoint manifest', 'checkpoint state', 'checkpoint chunks', 'pack', 'pack index']) {
      assert.ok(files.some((f) => kindOf(f) === k), `the trace has no ${k}`);
    }
    // From the start, from an early and a late checkpoint, and to the end.
    goals.push(3, Math.floor(frames * 0.45), Math.floor(frames * 0.85), frames);
    for (const g of goals) {
      const ok = tsrr(['--plugin', 'pcp', 'replay', '-a', '-g', String(g), good], { timeout: TIMEOUT_MS });
      assert.equal(ok.status, 0, describeRun(`replay -g ${g} of the undamaged trace`, ok));
      expected.set(g, ok.stdout);
    }
    assert.deepEqual(expected.get(frames), r.stdout, 'the undamaged replay prints what the recording did');
  });

  test(`${MUTATIONS} mutations: exact, cut short with a warning, or one line naming a file`, async (t) => {
    const rnd = random(0x7e55);
    const kinds = [...new Set(files.map(kindOf))];
    const tally = new Map<string, Map<Outcome, number>>();
    const root = freshDir();
    const one = async (n: number) => {
      const kind = kinds[n % kinds.length]!;
      const choices = files.filter((f) => kindOf(f) === kind);
      const rel = choices[Math.floor(rnd() * choices.length)]!;
      const op = OPS[Math.floor(rnd() * OPS.length)]!;
      const goal = goals[Math.floor(rnd() * goals.length)]!;
      const dir = join(root, `t${n}`);
      cpSync(good, dir, { recursive: true });
      const did = mutate(join(dir, rel), op, rnd);
      const r = await tsrrAsync(['--plugin', 'pcp', 'replay', '-a', '-g', String(goal), dir], TIMEOUT_MS);
      const outcome = judge(`mutation ${n}: ${rel} ${did}, then replay -g ${goal}`, r, expected.get(goal)!, dir);
      const row = tally.get(kind) ?? new Map<Outcome, number>();
      row.set(outcome, (row.get(outcome) ?? 0) + 1);
      tally.set(kind, row);
      rmSync(dir, { recursive: true, force: true });
    };
    // Two at a time: each draws its random numbers before it waits, so the run is the same
    // every time.
    for (let n = 0; n < MUTATIONS; n += 2) await Promise.all([n, n + 1].filter((i) => i < MUTATIONS).map(one));
    for (const [kind, row] of tally) t.diagnostic(`${kind}: ${[...row].map(([o, c]) => `${c} ${o}`).join(', ')}`);
    assertNoneLeft([root]);
  });
});
