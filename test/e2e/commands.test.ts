// SPDX-License-Identifier: MIT
/**
 * rr's everyday commands: doctor (what works on this machine, and a failing check where ptrace
 * is forbidden), rm, mv and ls (names under the trace root, latest-trace kept right, traces
 * being recorded and directories that are not traces refused).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, assertRefused, compile, describeRun, freshDir, runNative, start, tsrr, type Run } from './helpers.js';

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
