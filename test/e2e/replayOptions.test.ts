// SPDX-License-Identifier: MIT
/** `replay -f PID` / `-p PID` stop where a process starts or execs, as rr's do; a process the
 * trace does not have, or -g with either, is refused. Bad values of replay's options, and
 * options that need a debugger without one, are usage errors that name the option. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRefused, assertUsageErrors, compile, describeRun, setUp, tsrr } from './helpers.js';

let dir: string;
let pid: number;

before(() => {
  const { dir: trace } = setUp('random');
  dir = trace;
  const rec = tsrr(['record', '-o', dir, compile('random')]);
  assert.equal(rec.status, 0, describeRun('record', rec));
  const ps = JSON.parse(tsrr(['ps', '--json', dir]).stdout.toString()) as { pid: number }[];
  assert.equal(ps.length, 1);
  pid = ps[0]!.pid;
});

for (const option of ['-f', '-p']) {
  test(`replay -a ${option} PID stops at the process's exec, the first event`, () => {
    const r = tsrr(['replay', '-a', option, String(pid), dir], { input: '' });
    assert.equal(r.status, 0, describeRun(`replay ${option}`, r));
    assert.equal(r.stderr, 'tsrr: reached event 1\n');
    assert.equal(r.stdout.length, 0, 'nothing was printed yet at the exec');
  });

  test(`replay -a ${option} with a process the trace does not have is refused`, () => {
    assertRefused(`replay ${option} 999999`, tsrr(['replay', '-a', option, '999999', dir], { input: '' }), ['999999', 'tsrr ps']);
  });
}

test('replay -a -g with -f is refused', () => {
  assertRefused('replay -g 3 -f PID', tsrr(['replay', '-a', '-g', '3', '-f', String(pid), dir], { input: '' }), [/exclusive/]);
});

// Every kind of bad value is tried on each option in test/unit/optionValues.test.ts; here each
// of replay's numeric options refuses one, and none.
test('every numeric option of replay refuses a bad value, or none, naming the option and the value', async () => {
  await assertUsageErrors([
    ...['abc', '-3', '1.5', '99999999999999999999'].map((v): [string[], string[]] => [['replay', '-a', '-g', v, dir], ['-g', v]]),
    [['replay', '-a', dir, '-g'], ['-g', 'needs a value']],
    [['replay', '-a', '-g', '3', '-g', '4', dir], ['-g', '3, 4', 'more than once']],
    [['replay', '-a', '-f', 'abc', dir], ['-f', 'abc']],
    [['replay', '-a', '--onfork=', dir], ['--onfork', 'needs a value']],
    [['replay', '-a', '-p', '4194305', dir], ['-p', '4194305']],
    [['replay', '-a', dir, '-p'], ['-p', 'needs a value']],
    [['replay', '-s', '65536', dir], ['-s', '65536']],
    [['replay', dir, '-s'], ['-s', 'needs a value']],
  ]);
});

test('replay without -a needs a debugger plugin; -a refuses what only a debugger uses', async () => {
  const needsDebugger = ['-a', 'debugger plugin', 'gdbserver', 'turned off'];
  const noGdb = ['--no-plugin', 'gdbserver'];
  await assertUsageErrors([
    [[...noGdb, 'replay', dir], needsDebugger],
    [['--no-plugin=gdbserver', 'replay', '-g', '3', dir], needsDebugger],
    [['--plugin', 'pcp', ...noGdb, 'replay', '-s', '0', dir], needsDebugger],
    [['--no-plugin', 'gdb', 'replay', dir], ['gdb', 'not a default plugin', 'gdbserver, pcp']],
    [['replay', dir, '--no-plugin'], ['--no-plugin', 'needs a value']],
    [['replay', '-a', '-s', '0', dir], ['-s', '-a']],
    [['replay', '-a', '--dbghost', '127.0.0.1', dir], ['--dbghost', '-a']],
    [['replay', '-a', '-e', dir], ['-e', '-a']],
    [['replay', '-a', '-x', 'script.gdb', dir], ['-x', '-a']],
    [['replay', '-s', '0', '-o=-nx', dir], ['-o', '-s']],
    [['replay', '-d', '/no/such/gdb', dir], ['-d', '/no/such/gdb']],
    [['replay', '-e', '-g', '3', dir], ['goto', 'goto-exit']],
    [['replay', '-e', '-p', String(pid), dir], ['goto-exit', 'onprocess']],
    [['replay', '-a', dir, '--', '-q'], ['after --', '-q', '-a']],
    [['replay', '-s', '0', dir, '--', '-q'], ['after --', '-q', '-s']],
    [['replay', '--dbghost', '', dir], ['--dbghost', 'needs a value']],
    [['replay', '-a', '-f', String(pid), '-p', String(pid), dir], ['onfork', 'onprocess']],
    [['replay', '-a', dir, '--plugin'], ['--plugin', 'needs a value']],
    [['--plugin', 'pcp', 'replay', '-a', '--checkpoint-interval', '5', dir], ['--checkpoint-interval', 'record']],
  ]);
});
