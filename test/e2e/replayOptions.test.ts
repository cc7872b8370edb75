// SPDX-License-Identifier: MIT
/** `replay -f PID` / `-p PID` stop where a process starts or execs, as rr's do; a process the
 * trace does not have, or -g with either, is refused. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRefused, compile, describeRun, setUp, tsrr } from './helpers.js';

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
