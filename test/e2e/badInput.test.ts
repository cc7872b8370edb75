// SPDX-License-Identifier: MIT
/**
 * Bad input must be refused cleanly: a non-zero exit, exactly one line `tsrr: ...` on stderr that
 * names the problem (the file, the frame, the option), never a stack trace or "internal error",
 * quickly (a hang is a failure), and no process left behind. Covers missing and damaged traces
 * (truncated, bit flips, a newer format version, a missing events file), programs that cannot
 * be run, unknown options and commands, an out-of-range -g, bad option values of record, of
 * --plugin and of pcp's commands. Names that are not UTF-8 are not bad input: byteNames.test.ts.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHeader, encodeHeader } from '../../core/TraceHeader.js';
import { HEADER_MAGIC, PREFIX_BYTES, framed, readPrefix } from '../../core/traceFile.js';
import { CLI, assertNoneLeft, assertRefused, assertUsageErrors, compile, countEvents, describeRun, freshDir, runNative, setUp, tsrr, tsrrAsync, type Run } from './helpers.js';

/** A failing command must be done well within this (it reads a few files, nothing more). */
const FAST_MS = 10_000;

const run = (args: string[], cwd?: string): Run => tsrr(args, { timeout: FAST_MS, input: '', ...(cwd ? { cwd } : {}) });

/** Offsets of the blocks of an events file. */
function blockOffsets(events: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = 0; at < events.length; at += PREFIX_BYTES + readPrefix(events, at).length) offsets.push(at);
  return offsets;
}

/** The CPUs this process (and so tsrr) may run on. */
const allowedCpus = (): number[] =>
  /^Cpus_allowed_list:\s*(.*)$/m
    .exec(readFileSync('/proc/self/status', 'utf8'))![1]!
    .split(',')
    .flatMap((r) => {
      const [a, b = a] = r.split('-').map(Number);
      return Array.from({ length: b! - a! + 1 }, (_, i) => a! + i);
    });

const INSPECTORS = [['dump'], ['dump', '--json'], ['traceinfo'], ['ps']];

describe('bad input', () => {
  let program: string;
  let good: string;
  let frames: number;
  let recorded: Buffer;

  before(() => {
    ({ program, dir: good } = setUp('sleeper'));
    const r = tsrr(['record', '-o', good, program, '3'], { timeout: 30_000 });
    assert.equal(r.status, 0, describeRun('record', r));
    assert.match(r.stdout.toString(), /tick 2\nsleeper done\n$/);
    recorded = r.stdout;
    frames = countEvents(good);
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
    const runs = await Promise.all(commands.map((cmd) => tsrrAsync([...cmd, dir], FAST_MS)));
    commands.forEach((cmd, i) => {
      const what = `tsrr ${cmd.join(' ')} ${dir}`;
      const r = runs[i]!;
      assertRefused(what, r, mentions);
      assert.equal(r.stdout.length, 0, `${what} printed on stdout:\n${r.stdout}`);
    });
    assertNoneLeft([program, dir]);
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

  /** A trace cut off in its last block (a recording killed or out of space while writing it)
   * replays up to there, with one warning that says where it ends; the inspectors read it. */
  async function assertReplaysUpToCut(dir: string): Promise<void> {
    const file = join(dir, 'events');
    const r = await tsrrAsync(['replay', '-a', dir], FAST_MS);
    assert.equal(r.status, 0, describeRun('replay of a cut-off trace', r));
    assert.match(r.stderr.toString(), new RegExp(`^tsrr: warning: replayed to event \\d+, where the trace ends: ${file} is cut off after frame \\d+ [^\n]*\n$`));
    assert.ok(recorded.subarray(0, r.stdout.length).equals(r.stdout), `replay printed other output than the recording:\n${r.stdout}`);
    for (const cmd of INSPECTORS) {
      const i = await tsrrAsync([...cmd, dir], FAST_MS);
      assert.equal(i.status, 0, describeRun(`tsrr ${cmd.join(' ')} of a cut-off trace`, i));
    }
    assertNoneLeft([program, dir]);
  }

  test('events file cut in the middle of its last block: replays up to there', async () => {
    const dir = copyTrace();
    const file = join(dir, 'events');
    const bytes = readFileSync(file);
    const offsets = blockOffsets(bytes);
    assert.ok(offsets.length >= 2, `the recording wrote ${offsets.length} block(s); a block is written every 100 ms`);
    const last = offsets.at(-1)!;
    truncateSync(file, last + PREFIX_BYTES + Math.floor(readPrefix(bytes, last).length / 2));
    await assertReplaysUpToCut(dir);
  });

  test('events file cut inside a block prefix: replays up to there', async () => {
    const dir = copyTrace();
    const file = join(dir, 'events');
    truncateSync(file, blockOffsets(readFileSync(file)).at(-1)! + PREFIX_BYTES / 2);
    await assertReplaysUpToCut(dir);
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
    assertNoneLeft([program, good]);
  });

  test('record of a program that does not exist (relative path)', () => {
    const cwd = freshDir();
    const name = `no-such-prog-${process.pid}`;
    const out = join(cwd, 'trace');
    assertRefused('record ./no-such-prog', run(['record', '-o', out, `./${name}`], cwd), [`./${name}`]);
    assert.ok(!existsSync(join(out, 'header')), 'a failed record left a trace behind');
    assertNoneLeft([name]);
  });

  test('record of a program that is not in PATH', () => {
    const cwd = freshDir();
    const name = `no-such-prog-in-path-${process.pid}`;
    const out = join(cwd, 'trace');
    assertRefused('record no-such-prog-in-path', run(['record', '-o', out, name], cwd), [name]);
    assert.ok(!existsSync(join(out, 'header')), 'a failed record left a trace behind');
    assertNoneLeft([name]);
  });

  test('record of a file that is not executable', () => {
    const cwd = freshDir();
    const file = join(cwd, `not-executable-${process.pid}`);
    copyFileSync(compile('sleeper'), file);
    chmodSync(file, 0o644);
    const out = join(cwd, 'trace');
    assertRefused('record of a non-executable file', run(['record', '-o', out, file, '3'], cwd), [file, /execut/]);
    assert.ok(!existsSync(join(out, 'header')), 'a failed record left a trace behind');
    assertNoneLeft([file]);
  });

  test('a truncated executable (its exec fails past the point of no return) is refused in time, recorded or as a trace\'s copy', () => {
    const cwd = freshDir();
    const file = join(cwd, `truncated-${process.pid}`);
    copyFileSync(compile('sleeper'), file);
    const cut = Math.floor(statSync(file).size * 0.6); // program headers intact, segments cut short
    truncateSync(file, cut);
    assert.equal(runNative([file]).signal, 'SIGSEGV', 'the truncated program faults without tsrr');
    const out = join(cwd, 'trace');
    assertRefused('record of a truncated executable', run(['record', '-o', out, file], cwd), [file, /signal 11/]);
    const dir = copyTrace();
    const copy = readdirSync(join(dir, 'files')).find((n) => n.includes('sleeper'))!;
    truncateSync(join(dir, 'files', copy), cut);
    assertRefused('replay of a trace whose program copy is truncated', run(['replay', '-a', dir]), [copy, /changed after recording/]);
    assertNoneLeft([file, dir]);
  });

  test('record of a program that makes a 32-bit syscall (int 0x80): refused, naming it (a fault, as without tsrr, where the kernel has no 32-bit syscalls), nothing left running', () => {
    const int80 = compile('int80');
    const native = runNative([int80]);
    const out = join(freshDir(), 'trace');
    if (native.signal === 'SIGSEGV') {
      // A kernel without 32-bit syscalls (ia32_emulation off): int 0x80 faults, under tsrr too.
      const rec = run(['record', '-o', out, int80], freshDir());
      assert.equal(rec.status, 128 + 11, describeRun('record', rec));
      const rep = run(['replay', '-a', out], freshDir());
      assert.equal(rep.status, 0, describeRun('replay', rep));
    } else {
      assert.equal(native.stdout.toString(), 'int 0x80 getpid: 1\n');
      assertRefused('record of int 0x80', run(['record', '-o', out, int80], freshDir()), ['int 0x80', /32-bit/]);
    }
    assertNoneLeft([int80]);
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
    assertNoneLeft([program]);
    assertRefused('record --bogus ./x', run(['record', '--bogus', './x'], cwd), ['bogus']);
  });

  test('unknown option of replay', () => {
    const r = run(['replay', '--frobnicate']);
    assertRefused('replay --frobnicate', r, ['frobnicate']);
    const g = run(['replay', '-a', '--frobnicate', good]);
    assertRefused('replay -a --frobnicate TRACE', g, ['frobnicate']);
    assert.equal(g.stdout.length, 0, `replay printed on stdout:\n${g.stdout}`);
    assertNoneLeft([program]);
  });

  test('record refuses a bad --bind-to-cpu, -o or --checkpoint-interval, or none, and leaves no trace', async () => {
    const out = join(freshDir(), 'trace');
    const past = String(Math.max(...allowedCpus()) + 1);
    const rec = (...options: string[]) => ['record', '-o', out, ...options, program, '3'];
    await assertUsageErrors([
      [rec('--bind-to-cpu', past), ['--bind-to-cpu', past, 'may run on']],
      [rec('--bind-to-cpu', 'abc'), ['--bind-to-cpu', 'abc']],
      [rec('--bind-to-cpu', '-1'), ['--bind-to-cpu', '-1']],
      [rec('--bind-to-cpu', '1.5'), ['--bind-to-cpu', '1.5']],
      [['record', '-o', out, '--bind-to-cpu'], ['--bind-to-cpu', 'needs a value']],
      [['record', '-o'], ['-o', 'needs a value']],
      [['record', '-o', '', program], ['-o', 'needs a value']],
      [rec('-o', `${out}2`), ['-o', out, 'more than once']],
      [['--plugin', 'pcp', ...rec('--checkpoint-interval', '0.5')], ['--checkpoint-interval', '0.5']],
      [['--plugin', 'pcp', 'record', '-o', out, '--checkpoint-interval'], ['--checkpoint-interval', 'needs a value']],
    ]);
    assert.ok(!existsSync(out) && !existsSync(`${out}2`), 'a refused record left a trace behind');
    assertNoneLeft([program]);
  });

  test('--bind-to-cpu takes only a CPU tsrr may run on, as taskset left them; the default is one of those', (t) => {
    const cpus = allowedCpus();
    if (cpus.length < 2) return t.skip('one CPU to run on');
    const [first, last] = [String(cpus[0]), String(cpus.at(-1))];
    const pinned = (args: string[]) => spawnSync('taskset', ['-c', first, process.execPath, CLI, ...args], { timeout: FAST_MS, input: '' });
    const refused = pinned(['record', '-o', join(freshDir(), 'trace'), '--bind-to-cpu', last, program, '1']);
    assertRefused('taskset -c FIRST tsrr record --bind-to-cpu LAST', { ...refused, stderr: String(refused.stderr) }, ['--bind-to-cpu', last, `(${first})`]);
    const dir = join(freshDir(), 'trace');
    const rec = pinned(['record', '-o', dir, program, '1']);
    assert.equal(rec.status, 0, describeRun('taskset -c FIRST tsrr record', { ...rec, stderr: String(rec.stderr) }));
    const info = JSON.parse(tsrr(['traceinfo', dir]).stdout.toString()) as { machine: { boundCpu: number } };
    assert.equal(info.machine.boundCpu, cpus[0]);
  });

  test('--plugin without a value', async () => {
    await assertUsageErrors([
      [['--plugin'], ['--plugin', 'needs a value']],
      [['--plugin=', 'ls'], ['--plugin', 'needs a value']],
      [['ls', '--plugin'], ['--plugin', 'needs a value']],
      [['--plugin', '', 'ls'], ['--plugin', 'needs a value']],
    ]);
  });

  test('create-checkpoints and rm-checkpoints refuse bad event numbers and intervals, and touch nothing', async () => {
    const pcp = (...args: string[]) => ['--plugin', 'pcp', ...args, good];
    await assertUsageErrors([
      [pcp('create-checkpoints', '-i', 'abc'), ['--interval', 'abc']],
      [pcp('create-checkpoints', '-s', '-1'), ['--start', '-1']],
      [pcp('create-checkpoints', '-e', '1.5'), ['--end', '1.5']],
      [[...pcp('create-checkpoints'), '-i'], ['--interval', 'needs a value']],
      [pcp('rm-checkpoints', '-g', '2', '-g', 'x'), ['--goto', 'x']],
      [[...pcp('rm-checkpoints'), '-g'], ['--goto', 'needs a value']],
    ]);
    assert.ok(!existsSync(join(good, 'checkpoints')), 'a refused command made checkpoints');
  });

  test('a UTF-8 path and arguments that are not ASCII are kept as they are', () => {
    const dir = join(freshDir(), 'tráce ✓');
    const rec = tsrr(['record', '-o', dir, '/bin/echo', 'héllo ✓'], { timeout: 30_000 });
    assert.equal(rec.status, 0, describeRun('record', rec));
    assert.equal(rec.stdout.toString(), 'héllo ✓\n');
    const rep = tsrr(['replay', '-a', dir], { timeout: 30_000 });
    assert.equal(rep.status, 0, describeRun('replay', rep));
    assert.equal(rep.stdout.toString(), 'héllo ✓\n');
  });

  test('unknown command', () => {
    assertRefused('tsrr frobnicate-cmd', run(['frobnicate-cmd']), ['frobnicate-cmd']);
    assertRefused('tsrr frobnicate-cmd ARG', run(['frobnicate-cmd', good]), ['frobnicate-cmd']);
  });
});
