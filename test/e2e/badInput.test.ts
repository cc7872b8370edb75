// SPDX-License-Identifier: MIT
/**
 * Bad input must be refused cleanly: a non-zero exit, exactly one line `tsrr: ...` on stderr that
 * names the problem (the file, the frame, the option), never a stack trace or "internal error",
 * quickly (a hang is a failure), and no process left behind. Covers missing and damaged traces
 * (truncated, bit flips, a newer format version, a missing events file), programs that cannot
 * be run, unknown options and commands, and an out-of-range -g.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHeader, encodeHeader } from '../../core/TraceHeader.js';
import { HEADER_MAGIC, PREFIX_BYTES, framed, readPrefix } from '../../core/traceFile.js';
import { CLI, compile, describeRun, tempDir, tsrr, type Run } from './helpers.js';

/** A failing command must be done well within this (it reads a few files, nothing more). */
const FAST_MS = 10_000;

const run = (args: string[], cwd?: string): Run => tsrr(args, { timeout: FAST_MS, input: '', ...(cwd ? { cwd } : {}) });

/** Like `run`, without blocking, so that several commands can run at once. */
function runAsync(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), FAST_MS);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/** Asserts the clean refusal described above; each of `mentions` must appear in the message. */
function assertRefused(what: string, r: Run, mentions: (string | RegExp)[]): string {
  const info = describeRun(what, r);
  assert.equal(r.signal, null, `${what} did not finish within ${FAST_MS} ms (or died of a signal)\n${info}`);
  assert.notEqual(r.status, 0, `${what} succeeded\n${info}`);
  assert.notEqual(r.status, null, info);
  assert.doesNotMatch(r.stderr, /internal error/i, info);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `stack trace on stderr\n${info}`);
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 2, `stderr must be exactly one line\n${info}`);
  assert.equal(lines[1], '', `stderr must end with a newline\n${info}`);
  const line = lines[0]!;
  assert.ok(line.startsWith('tsrr: '), `stderr must start with "tsrr: "\n${info}`);
  for (const m of mentions) {
    if (typeof m === 'string') assert.ok(line.includes(m), `the message does not name ${JSON.stringify(m)}\n${info}`);
    else assert.match(line, m, info);
  }
  return line;
}

/** Live processes whose command line or executable contains `needle` (a recorded tracee has the
 * program's path in its argv; a replayed one runs the trace's copy of the program and its argv
 * is no longer readable, so pgrep -f would miss it), given up to `graceMs` to go away; each as
 * "PID STATE EXE: ARGS". */
function leftovers(needle: string, graceMs = 500): string[] {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const found: string[] = [];
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
        if (!args.includes(needle) && !exe.includes(needle)) continue;
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
        if (state !== 'Z' && state !== 'X') found.push(`${name} ${state} ${exe}: ${args}`);
      } catch {
        // gone meanwhile
      }
    }
    if (found.length === 0 || Date.now() > deadline) return found;
    spawnSync('sleep', ['0.05']);
  }
}

function assertNoneLeft(...needles: string[]): void {
  for (const needle of needles) {
    const left = leftovers(needle);
    assert.deepEqual(left, [], `processes left running:\n${left.join('\n')}`);
  }
}

const base = tempDir();
let dirs = 0;
/** A fresh directory (all under one temporary directory). */
function freshDir(): string {
  const dir = join(base, String(dirs++));
  mkdirSync(dir);
  return dir;
}

/** A copy of the compiled program under a path of its own, so that only what this test started
 * matches it. */
function uniqueProgram(name: string): string {
  const path = join(freshDir(), name);
  copyFileSync(compile(name), path);
  chmodSync(path, 0o755);
  return path;
}

/** Offsets of the blocks of an events file. */
function blockOffsets(events: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = 0; at < events.length; at += PREFIX_BYTES + readPrefix(events, at).length) offsets.push(at);
  return offsets;
}

const INSPECTORS = [['dump'], ['dump', '--json'], ['traceinfo'], ['ps']];

describe('bad input', () => {
  let program: string;
  let good: string;
  let frames: number;

  before(() => {
    program = uniqueProgram('sleeper');
    good = join(freshDir(), 'trace');
    const r = tsrr(['record', '-o', good, program, '3'], { timeout: 30_000 });
    assert.equal(r.status, 0, describeRun('record', r));
    assert.match(r.stdout.toString(), /tick 2\nsleeper done\n$/);
    const d = tsrr(['dump', good]);
    assert.equal(d.status, 0, describeRun('dump', d));
    frames = d.stdout.toString().trimEnd().split('\n').length;
    assert.ok(frames > 5, `only ${frames} events recorded`);
    assert.ok(readFileSync(join(good, 'events')).length > PREFIX_BYTES);
  });

  /** A fresh copy of the good trace to damage. */
  function copyTrace(): string {
    const dir = join(freshDir(), 'trace');
    cpSync(good, dir, { recursive: true });
    return dir;
  }

  /** Replay, dump, traceinfo and ps of `dir` must all be refused, naming `mentions`. */
  async function assertAllRefuse(dir: string, mentions: (string | RegExp)[]): Promise<void> {
    const commands = [['replay', '-a'], ...INSPECTORS];
    const runs = await Promise.all(commands.map((cmd) => runAsync([...cmd, dir])));
    commands.forEach((cmd, i) => {
      const what = `tsrr ${cmd.join(' ')} ${dir}`;
      const r = runs[i]!;
      assertRefused(what, r, mentions);
      assert.equal(r.stdout.length, 0, `${what} printed on stdout:\n${r.stdout}`);
    });
    assertNoneLeft(program, dir);
  }

  test('replay of a directory that does not exist', async () => {
    const dir = join(freshDir(), 'no-such-trace');
    await assertAllRefuse(dir, [dir]);
  });

  test('replay of an empty directory', async () => {
    const dir = join(freshDir(), 'empty');
    mkdirSync(dir);
    await assertAllRefuse(dir, [dir, /not a tsrr trace|header/]);
  });

  test('replay of a directory without a header', async () => {
    const dir = copyTrace();
    rmSync(join(dir, 'header'));
    await assertAllRefuse(dir, [join(dir, 'header')]);
  });

  test('events file cut in the middle of its last block', async () => {
    const dir = copyTrace();
    const file = join(dir, 'events');
    const bytes = readFileSync(file);
    const last = blockOffsets(bytes).at(-1)!;
    const length = readPrefix(bytes, last).length;
    truncateSync(file, last + PREFIX_BYTES + Math.floor(length / 2));
    await assertAllRefuse(dir, [file, 'truncated']);
  });

  test('events file cut inside a block prefix', async () => {
    const dir = copyTrace();
    const file = join(dir, 'events');
    const last = blockOffsets(readFileSync(file)).at(-1)!;
    truncateSync(file, last + PREFIX_BYTES / 2);
    await assertAllRefuse(dir, [file, 'truncated']);
  });

  test('events file with one bit flipped in a block', async () => {
    const dir = copyTrace();
    const file = join(dir, 'events');
    const bytes = readFileSync(file);
    const at = blockOffsets(bytes)[0]!;
    const length = readPrefix(bytes, at).length;
    bytes[at + PREFIX_BYTES + Math.floor(length / 2)]! ^= 0x10;
    writeFileSync(file, bytes);
    await assertAllRefuse(dir, [file, 'corrupt', /frames \d+-\d+/]);
  });

  test('header with one bit flipped', async () => {
    const dir = copyTrace();
    const file = join(dir, 'header');
    const bytes = readFileSync(file);
    const length = readPrefix(bytes, 0).length;
    bytes[PREFIX_BYTES + Math.floor(length / 2)]! ^= 0x04;
    writeFileSync(file, bytes);
    await assertAllRefuse(dir, [file, 'corrupt']);
  });

  test('trace with a newer format version', async () => {
    const dir = copyTrace();
    const file = join(dir, 'header');
    const bytes = readFileSync(file);
    const p = readPrefix(bytes, 0);
    const header = decodeHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + p.length));
    writeFileSync(file, framed(HEADER_MAGIC, p.count, encodeHeader({ ...header, formatVersion: 99 })));
    await assertAllRefuse(dir, ['99', /upgrade/i]);
  });

  test('events file missing', async () => {
    const dir = copyTrace();
    const file = join(dir, 'events');
    rmSync(file);
    await assertAllRefuse(dir, [file, 'missing']);
  });

  test('replay -g beyond the end of the trace', () => {
    const r = run(['replay', '-a', '-g', '999999', good]);
    assertRefused('replay -a -g 999999', r, ['999999', String(frames)]);
    assert.equal(r.stdout.length, 0, `replay printed on stdout:\n${r.stdout}`);
    assertNoneLeft(program, good);
  });

  test('record of a program that does not exist (relative path)', () => {
    const cwd = freshDir();
    const name = `no-such-prog-${process.pid}`;
    const out = join(cwd, 'trace');
    assertRefused('record ./no-such-prog', run(['record', '-o', out, `./${name}`], cwd), [`./${name}`]);
    assert.ok(!existsSync(join(out, 'header')), 'a failed record left a trace behind');
    assertNoneLeft(name);
  });

  test('record of a program that is not in PATH', () => {
    const cwd = freshDir();
    const name = `no-such-prog-in-path-${process.pid}`;
    const out = join(cwd, 'trace');
    assertRefused('record no-such-prog-in-path', run(['record', '-o', out, name], cwd), [name]);
    assert.ok(!existsSync(join(out, 'header')), 'a failed record left a trace behind');
    assertNoneLeft(name);
  });

  test('record of a file that is not executable', () => {
    const cwd = freshDir();
    const file = join(cwd, `not-executable-${process.pid}`);
    copyFileSync(compile('sleeper'), file);
    chmodSync(file, 0o644);
    const out = join(cwd, 'trace');
    assertRefused('record of a non-executable file', run(['record', '-o', out, file, '3'], cwd), [file, /execut/]);
    assert.ok(!existsSync(join(out, 'header')), 'a failed record left a trace behind');
    assertNoneLeft(file);
  });

  test('record with no program', () => {
    const cwd = freshDir();
    assertRefused('record', run(['record'], cwd), [/program/]);
    assertRefused('record -o DIR', run(['record', '-o', join(cwd, 'trace')], cwd), [/program/]);
    assert.ok(!existsSync(join(cwd, 'trace', 'header')), 'a failed record left a trace behind');
  });

  test('unknown option of record', () => {
    const cwd = freshDir();
    const out = join(cwd, 'trace');
    assertRefused('record --bogus', run(['record', '-o', out, '--bogus', program, '3'], cwd), ['bogus']);
    assert.ok(!existsSync(join(out, 'header')), 'a refused record left a trace behind');
    assertNoneLeft(program);
    assertRefused('record --bogus ./x', run(['record', '--bogus', './x'], cwd), ['bogus']);
  });

  test('unknown option of replay', () => {
    const r = run(['replay', '--frobnicate']);
    assertRefused('replay --frobnicate', r, ['frobnicate']);
    const g = run(['replay', '-a', '--frobnicate', good]);
    assertRefused('replay -a --frobnicate TRACE', g, ['frobnicate']);
    assert.equal(g.stdout.length, 0, `replay printed on stdout:\n${g.stdout}`);
    assertNoneLeft(program);
  });

  test('unknown command', () => {
    assertRefused('tsrr frobnicate-cmd', run(['frobnicate-cmd']), ['frobnicate-cmd']);
    assertRefused('tsrr frobnicate-cmd ARG', run(['frobnicate-cmd', good]), ['frobnicate-cmd']);
  });
});
