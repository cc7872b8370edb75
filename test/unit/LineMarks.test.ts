// SPDX-License-Identifier: MIT
/** -M's line marks: a mark where each line begins, lines that go on across writes, each output on its own. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineMarks } from '../../core/LineMarks.js';

test('a mark begins each line, with the process and event of the write that began it', () => {
  const m = new LineMarks();
  const out = (target: number, text: string, pid: number, frame: number) => m.mark(target, Buffer.from(text), pid, frame).toString();
  assert.equal(out(1, 'a\nb\n', 10, 5), '[tsrr 10 5] a\n[tsrr 10 5] b\n');
  assert.equal(out(1, 'par', 10, 6), '[tsrr 10 6] par');
  assert.equal(out(2, 'err\n', 11, 7), '[tsrr 11 7] err\n', 'stderr is a line of its own while stdout is mid-line');
  assert.equal(out(1, 'tial\nnext', 10, 8), 'tial\n[tsrr 10 8] next');
  assert.equal(out(1, '', 10, 9), '');
  assert.equal(out(1, '\n', 10, 10), '\n');
  assert.equal(out(1, '\n\n', 12, 11), '[tsrr 12 11] \n[tsrr 12 11] \n');
});
