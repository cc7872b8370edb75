// SPDX-License-Identifier: MIT
/**
 * rr's everyday commands: doctor (what works on this machine, and a failing check where ptrace
 * is forbidden), rm, mv and ls (names under the trace root, latest-trace kept right, traces
 * being recorded and directories that are not traces refused), dump's event specs and -t, -M,
 * implicit commands, help COMMAND, --version, record -v and record's help.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { CLI, ROOT, assertRefused, compile, describeRun, dumpEvents, freshDir, runNative, setUp, start, tsrr, type Run } from './helpers.js';

/** A trace root of its own, and tsrr run with it. */
function traceRoot(): { root: string; run: (args: string[]) => Run } {
  const root = realpathSync(freshDir());
  return { root, run: (args) => tsrr(args, { env: { ...process.env, _RR_TRACE_DIR: root }, input: '' }) };
}

function ok(what: string, r: Run): string {
  assert.equal(r.status, 0, describeRun(what, r));
  return r.stdout.toString();
}

describe('doctor', () => {
  test('says what works here; recording does, so it exits 0', () => {
    const out = ok('doctor', tsrr(['doctor']));
    for (const name of ['kernel', 'native parts', 'ptrace', 'seccomp', 'pagemap', 'rdtsc trapping', 'CPUID faulting', 'debug registers', 'perf events', 'dirty pages', 'libzstd', 'gdb']) {
      assert.match(out, new RegExp(`^(ok|missing) +${name} `, 'm'), `no line for ${name}:\n${out}`);
    }
    assert.match(out, /^ok +ptrace +a child was seized/m);
    assert.match(out, /^tsrr can record and replay here$/m);
    const checks = JSON.parse(ok('doctor --json', tsrr(['doctor', '--json']))) as { name: string; state: string; detail: string }[];
    assert.deepEqual(checks.filter((c) => c.state === 'fail'), []);
    assert.equal(checks.find((c) => c.name === 'kernel')?.detail.includes('x86_64'), true);
  });

  test('without gdb on PATH: gdb missing, with the fix; recording still works', () => {
    const r = tsrr(['doctor'], { env: { ...process.env, PATH: '/nonexistent' } });
    const out = ok('doctor', r);
    assert.match(out, /^missing +gdb +gdb cannot be run: ENOENT/m);
    assert.match(out, /fix: install gdb/);
  });

  test('where ptrace is forbidden (a seccomp policy): fails, exit 1, with the fix, promptly', () => {
    const r = runNative([compile('noptrace'), process.execPath, CLI, 'doctor'], { timeout: 20_000 });
    assert.equal(r.status, 1, describeRun('doctor under noptrace', r));
    const out = r.stdout.toString();
    assert.match(out, /^FAIL +ptrace +PTRACE_SEIZE of a child failed: Operation not permitted/m);
    assert.match(out, /fix: a seccomp policy forbids ptrace/);
    assert.match(out, /^FAIL +seccomp +not tried: it needs ptrace/m);
    assert.match(out, /^missing +debug registers +not tried: it needs ptrace/m);
    assert.match(out, /^tsrr cannot record here: ptrace, seccomp/m);
  });
});

describe('rm, mv, ls', () => {
  test('ls sorts by name, -t newest first, -r reverses, -l adds size, time and command; latest marked', () => {
    const { root, run } = traceRoot();
    ok('record', run(['record', '/bin/echo', 'first']));
    ok('record', run(['record', '/bin/true']));
    ok('record', run(['record', '/bin/echo', 'third']));
    assert.equal(ok('ls', run(['ls'])), 'echo-0\necho-1 (latest)\ntrue-0\n');
    assert.equal(ok('ls -r', run(['ls', '-r'])), 'true-0\necho-1 (latest)\necho-0\n');
    assert.equal(ok('ls -t', run(['ls', '-t'])), 'echo-1 (latest)\ntrue-0\necho-0\n');
    assert.equal(ok('ls -tr', run(['ls', '-tr'])), 'echo-0\ntrue-0\necho-1 (latest)\n');
    const long = ok('ls -l', run(['ls', '-l'])).trimEnd().split('\n');
    assert.equal(long.length, 3);
    assert.match(long[0]!, /^echo-0 +\d+(\.\d)?[KMG] +\d{4}-\d\d-\d\d \d\d:\d\d +\/bin\/echo first$/);
    assert.match(long[1]!, /^echo-1 \(latest\) +\S+ +\S+ \S+ +\/bin\/echo third$/);
    const json = JSON.parse(ok('ls --json', run(['ls', '--json']))) as { name: string; bytes: number; command: string; latest: boolean }[];
    assert.deepEqual(json.map((t) => [t.name, t.latest, t.command]), [['echo-0', false, '/bin/echo first'], ['echo-1', true, '/bin/echo third'], ['true-0', false, '/bin/true']]);
    assert.ok(json.every((t) => t.bytes > 0));
    assert.equal(ok('ls in an empty root', traceRoot().run(['ls'])), '');
    assert.ok(existsSync(join(root, 'echo-0')));
  });

  test('mv renames under the trace root, latest-trace follows; rm removes, and latest-trace with it', () => {
    const { root, run } = traceRoot();
    ok('record', run(['record', '/bin/echo', 'one']));
    ok('record', run(['record', '/bin/echo', 'two']));
    ok('mv', run(['mv', 'echo-1', 'second']));
    assert.equal(realpathSync(join(root, 'latest-trace')), join(root, 'second'));
    assert.equal(ok('replay', run(['replay', '-a'])), 'two\n');
    ok('mv', run(['mv', 'echo-0', 'first']));
    assert.equal(realpathSync(join(root, 'latest-trace')), join(root, 'second'), 'latest-trace moved with a trace it did not point at');
    const elsewhere = join(freshDir(), 'moved');
    ok('mv to a path', run(['mv', 'first', elsewhere]));
    assert.equal(ok('replay', run(['replay', '-a', elsewhere])), 'one\n');
    ok('rm', run(['rm', 'latest-trace']));
    assert.equal(existsSync(join(root, 'second')), false);
    assert.throws(() => readlinkSync(join(root, 'latest-trace')), /ENOENT/);
    ok('rm by path', run(['rm', elsewhere]));
    assert.equal(existsSync(elsewhere), false);
    assert.equal(ok('ls', run(['ls'])), '');
  });

  test('refused: what is not a trace, a missing one, a name taken, a trace being recorded', async () => {
    const { root, run } = traceRoot();
    ok('record', run(['record', '/bin/true']));
    const notTrace = join(root, 'notes');
    mkdirSync(notTrace);
    writeFileSync(join(notTrace, 'keep'), 'x');
    assertRefused('rm of a plain directory', run(['rm', notTrace]), ['is not a tsrr trace', notTrace]);
    assert.ok(existsSync(join(notTrace, 'keep')));
    assertRefused('mv of a plain directory', run(['mv', 'notes', 'x']), ['is not a tsrr trace']);
    assertRefused('rm of nothing', run(['rm', 'nothing-here']), ['no trace at nothing-here']);
    assertRefused('mv onto a name taken', run(['mv', 'true-0', 'notes']), ['already exists']);
    assertRefused('mv to latest-trace', run(['mv', 'true-0', 'latest-trace']), ['cannot name a trace']);
    assertRefused('rm without a trace', run(['rm']), ['rm needs a trace']);
    assertRefused('mv without a new name', run(['mv', 'true-0']), ['mv needs a trace and its new name']);

    const busy = join(root, 'busy');
    const rec = start(['record', '-o', busy, compile('sleeper'), '3000'], { env: { ...process.env, _RR_TRACE_DIR: root } });
    try {
      for (let i = 0; i < 300 && !rec.stdout().toString().includes('sleeper starts'); i++) await sleep(50);
      assertRefused('rm of a trace being recorded', run(['rm', 'busy']), ['is being recorded', 'not removing']);
      assertRefused('mv of a trace being recorded', run(['mv', 'busy', 'other']), ['is being recorded', 'not renaming']);
      assert.match(ok('ls -l', run(['ls', '-l'])), /^busy \(recording\) /m);
    } finally {
      rec.child.kill('SIGTERM');
      await rec.exited;
    }
    ok('rm once recorded', run(['rm', 'busy']));
    assert.equal(existsSync(busy), false);
  });
});

/** The frame numbers of `tsrr dump` lines. */
const frames = (out: string) => out.trimEnd().split('\n').filter(Boolean).map((l) => Number(l.split(' ')[0]));

describe('dump: event specs and -t', () => {
  test('N, N-M and N- print those events, in the order given; -t only one thread\'s', () => {
    const { program, dir } = setUp('fork_exec');
    ok('record', tsrr(['record', '-o', dir, program]));
    const all = dumpEvents(dir);
    const count = all.length;
    assert.deepEqual(frames(ok('dump', tsrr(['dump', dir]))), all.map((e) => e.frame));
    assert.deepEqual(frames(ok('dump 2-4', tsrr(['dump', dir, '2-4']))), [2, 3, 4]);
    assert.deepEqual(frames(ok('dump 3 1-2', tsrr(['dump', dir, '3', '1-2']))), [3, 1, 2]);
    assert.deepEqual(frames(ok('dump N-', tsrr(['dump', dir, `${count - 2}-`]))), [count - 2, count - 1, count]);
    assert.deepEqual(frames(ok('dump 2-M beyond the end', tsrr(['dump', dir, `${count - 1}-${count + 50}`]))), [count - 1, count]);
    const json = ok('dump --json 1-2', tsrr(['dump', '--json', dir, '1-2'])).trimEnd().split('\n').map((l) => JSON.parse(l) as { frame: number });
    assert.deepEqual(json.map((e) => e.frame), [1, 2]);

    const tids = [...new Set(all.map((e) => e.tid))];
    assert.ok(tids.length >= 2, 'fork_exec has two processes');
    for (const tid of tids) {
      const mine = all.filter((e) => e.tid === tid).map((e) => e.frame);
      assert.deepEqual(frames(ok('dump -t', tsrr(['dump', '-t', String(tid), dir]))), mine);
      assert.deepEqual(frames(ok('dump -t with a range', tsrr(['dump', dir, '-t', String(tid), `1-${mine[1]}`]))), mine.slice(0, 2));
    }
  });

  test('the latest trace when the first word is an event spec; bad specs and threads refused', () => {
    const { root, run } = traceRoot();
    ok('record', run(['record', '/bin/true']));
    assert.deepEqual(frames(ok('dump 1-3', run(['dump', '1-3']))), [1, 2, 3]);
    assert.deepEqual(frames(ok('dump NAME 2', run(['dump', 'true-0', '2']))), [2]);
    const count = frames(ok('dump', run(['dump']))).length;
    assertRefused('dump 0', run(['dump', '0']), ['0', 'not a range of events']);
    assertRefused('dump 5-2', run(['dump', 'true-0', '5-2']), ['5-2']);
    assertRefused('dump beyond the end', run(['dump', String(count + 1)]), [`the trace has events 1-${count}`]);
    assertRefused('dump x-y', run(['dump', 'true-0', 'x-y']), ['"x-y" is not an event']);
    assertRefused('dump -t absent', run(['dump', '-t', '4194304']), ['no thread 4194304', join(root, 'true-0')]);
    assertRefused('dump -t 0', run(['dump', '-t', '0']), ['-t/--tid 0']);
  });
});

describe('-M: marked replay output', () => {
  test('each line of stdout and stderr starts with [tsrr PID EVENT], the event of the write that began it', () => {
    const dir = join(freshDir(), 'trace');
    const script = 'printf one; printf " two\\nthree\\n"; echo err >&2';
    const rec = tsrr(['record', '-o', dir, '/bin/sh', '-c', script]);
    assert.equal(rec.stdout.toString(), 'one two\nthree\n', describeRun('record', rec));
    const plain = tsrr(['replay', '-a', dir], { input: '' });
    assert.equal(plain.stdout.toString(), 'one two\nthree\n', describeRun('replay', plain));
    for (const args of [['-M', 'replay', '-a', dir], ['replay', '-a', '-M', dir], ['replay', '-a', '--mark-stdio', dir]]) {
      const r = tsrr(args, { input: '' });
      const info = describeRun(args.join(' '), r);
      assert.equal(r.status, 0, info);
      const lines = r.stdout.toString().split('\n');
      assert.equal(lines.length, 3, info);
      const marks = lines.slice(0, 2).map((l) => /^\[tsrr (\d+) (\d+)\] (.*)$/.exec(l));
      assert.ok(marks.every(Boolean), info);
      assert.deepEqual(marks.map((m) => m![3]), ['one two', 'three']);
      const [pid, first] = [Number(marks[0]![1]), Number(marks[0]![2])];
      const second = Number(marks[1]![2]);
      assert.ok(first < second, `"three" was written after "one": ${info}`);
      const events = dumpEvents(dir);
      assert.equal(events.find((e) => e.frame === first)?.tid, pid, 'the mark names the process that wrote');
      assert.equal(events.find((e) => e.frame === second)?.tid, pid);
      assert.match(r.stderr, new RegExp(`^\\[tsrr ${pid} \\d+\\] err$`, 'm'), info);
    }
    assertRefused('-M with record', tsrr(['-M', 'record', '-o', join(freshDir(), 't'), '/bin/true']), ['-M', 'not record']);
    assertRefused('-M with dump', tsrr(['-M', 'dump', dir]), ['-M', 'not dump']);
  });
});

describe('the command line as rr\'s', () => {
  test('tsrr PROG records, a bare program name too; tsrr TRACEDIR replays', () => {
    const { root, run } = traceRoot();
    assert.equal(ok('tsrr /bin/echo', run(['/bin/echo', 'by', 'path'])), 'by path\n');
    assert.equal(ok('tsrr echo', run(['echo', 'by', 'name'])), 'by name\n');
    assert.equal(ok('tsrr -n PROG', run(['-n', '/bin/echo', '-n', 'no', 'buffer'])), 'no buffer');
    assert.equal(ok('ls', run(['ls'])), 'echo-0\necho-1\necho-2 (latest)\n');
    assert.equal(ok('tsrr -a TRACEDIR', run(['-a', join(root, 'echo-0')])), 'by path\n');
    assert.equal(ok('tsrr TRACEDIR -a', run([join(root, 'echo-1'), '-a'])), 'by name\n');
    assertRefused('tsrr TRACEDIR without a debugger', run(['--no-plugin', 'gdbserver', join(root, 'echo-0')]), ['needs -a']);
    assertRefused('tsrr NOT-A-PROGRAM', run(['./no-such-program']), ['no such program: ./no-such-program']);
  });

  test('help COMMAND, --version', () => {
    assert.equal(ok('help record', tsrr(['help', 'record'])), ok('record --help', tsrr(['record', '--help'])));
    assert.equal(ok('help', tsrr(['help'])), ok('--help', tsrr(['--help'])));
    assert.match(ok('help rm', tsrr(['help', 'rm'])), /^tsrr rm \[trace\]/);
    assertRefused('help nosuch', tsrr(['help', 'nosuch']), ['no command nosuch']);
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal(ok('--version', tsrr(['--version'])), `tsrr version ${version}\n`);
  });

  test('record -v NAME=VALUE sets the program\'s environment, in record and replay alike', () => {
    const dir = join(freshDir(), 'trace');
    const rec = tsrr(['record', '-v', 'TSRR_T1=one', '--env', 'TSRR_T2=a=b', '-v', 'TSRR_T3=', '-o', dir, '/bin/sh', '-c', 'echo "$TSRR_T1|$TSRR_T2|${TSRR_T3-unset}|${TSRR_T4-unset}"']);
    assert.equal(ok('record -v', rec), 'one|a=b||unset\n');
    assert.equal(ok('replay', tsrr(['replay', '-a', dir])), 'one|a=b||unset\n');
    assertRefused('-v without =', tsrr(['record', '-v', 'NOEQUALS', '/bin/true']), ['-v/--env', 'NOEQUALS', 'NAME=VALUE']);
    assertRefused('-v =x', tsrr(['record', '-v', '=x', '/bin/true']), ['-v/--env']);
  });

  test('record\'s help: a description, every option in the usage line; pcp\'s options only where they apply', () => {
    // Core's own options (pcp, on by default, adds its own: below).
    const help = ok('record --help', tsrr(['--no-plugin', 'pcp', 'record', '--help']));
    const [usage, description] = help.split('\n\n').map((p) => p.replaceAll('\n', ' '));
    assert.match(description!, /^Runs PROG under the recorder/);
    const options = [...help.slice(help.indexOf('Options:')).matchAll(/^\s+(?:(-\w), )?(--[\w-]+)/gm)].map((m) => ({ short: m[1], long: m[2]! }));
    assert.ok(options.length >= 8, help);
    for (const { short, long } of options) {
      if (['--help', '--version', '--plugin', '--no-plugin'].includes(long)) continue; // tsrr's own, in tsrr --help
      const negated = long.replace(/^--/, '--no-');
      assert.ok((short && usage!.includes(short)) || usage!.includes(long) || usage!.includes(negated), `${long} is not in the usage line: ${usage}`);
    }
    const pcpHelp = (command: string) => ok(`${command} --help`, tsrr(['--plugin', 'pcp', command, '--help']));
    assert.match(pcpHelp('record'), /--checkpoint-interval/);
    assert.doesNotMatch(pcpHelp('record'), /--ignore-pcp|--strict-pcp|--mark-stdio/);
    assert.match(pcpHelp('replay'), /--ignore-pcp[\s\S]*--strict-pcp/);
    assert.match(pcpHelp('replay'), /-M, --mark-stdio/);
    assert.doesNotMatch(pcpHelp('replay'), /--checkpoint-interval/);
    assert.doesNotMatch(pcpHelp('dump'), /--checkpoint-interval|--ignore-pcp|--strict-pcp|--mark-stdio/);
  });
});
