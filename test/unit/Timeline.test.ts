// SPDX-License-Identifier: MIT
/** The gdb server's checkpoints: which ones a place can be reached from, and thinning. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Timeline, atEvent, reaches, type Position, type SavedState } from '../../plugins/gdbserver/Timeline.js';

const REGS = Buffer.alloc(8);
const event = (frame: number): Position => ({ frame, rec: 1, regs: REGS, walk: { from: frame, steps: 0 } });
const walked = (from: number, steps: number, rec = 1, frame = from): Position => ({ frame, rec, regs: REGS, walk: { from, steps } });
const stop = (frame: number, rec = 1): Position => ({ frame, rec, regs: REGS });

function saved(log: string[], name: string): SavedState {
  return { restore: () => assert.fail('not restored here'), drop: () => log.push(name) };
}

describe('reaches', () => {
  const cases: [string, Position, Position, boolean, boolean][] = [
    // name, checkpoint, place, non-strict, strict
    ['an earlier event', event(5), stop(9), true, true],
    ['a later event', event(9), stop(5), false, false],
    ['the same event, a stop after it', event(5), stop(5), true, true],
    ['the same event itself', event(5), event(5), true, false],
    ['a walk, fewer steps', walked(5, 3), walked(5, 7), true, true],
    ['a walk, the same steps', walked(5, 7), walked(5, 7), true, false],
    ['a walk, more steps', walked(5, 8), walked(5, 7), false, false],
    ['a walk of another task', walked(5, 3, 2), walked(5, 7, 1), false, false],
    ['a walk from another event', walked(4, 3, 1, 5), walked(5, 7), false, false],
    ['a walk, a stop at its frame', walked(5, 3), stop(5), false, false],
    ['a walk that crossed events, before a later one', walked(5, 300, 1, 7), stop(8), true, true],
    ['a stop at the same frame', stop(5), stop(5), false, false],
    ['a stop at an earlier frame', stop(4), event(5), true, true],
  ];
  for (const [name, c, p, loose, strict] of cases) {
    test(name, () => {
      assert.equal(reaches(c, p, false), loose);
      assert.equal(reaches(c, p, true), strict);
    });
  }
  test('atEvent', () => {
    assert.ok(atEvent(event(3)));
    assert.ok(!atEvent(walked(3, 1)));
    assert.ok(!atEvent(walked(2, 0, 1, 3)));
    assert.ok(!atEvent(stop(3)));
  });
});

describe('Timeline', () => {
  test('the latest checkpoint a place is reached from, and events before it', () => {
    const t = new Timeline();
    const log: string[] = [];
    t.add(event(10), saved(log, 'e10'), false);
    t.add(event(20), saved(log, 'e20'), false);
    t.add(walked(20, 16), saved(log, 'w16'), false);
    t.add(walked(20, 48), saved(log, 'w48'), false);
    assert.equal(t.latest(walked(20, 40), false)?.place.walk?.steps, 16);
    assert.equal(t.latest(walked(20, 48), false)?.place.walk?.steps, 48);
    assert.equal(t.latest(walked(20, 48), true)?.place.walk?.steps, 16);
    assert.equal(t.latest(stop(20), true)?.place.frame, 20);
    assert.equal(t.latest(event(20), true)?.place.frame, 10);
    assert.equal(t.latest(event(5), false), undefined);
    assert.deepEqual(t.eventsBefore(stop(25)).map((c) => c.place.frame), [20, 10]);
    assert.ok(t.hasEvent(20) && !t.hasEvent(15));
  });

  test('user checkpoints are numbered and kept; automatic ones are thinned where densest', () => {
    const t = new Timeline();
    const log: string[] = [];
    const mine = t.add(stop(7), saved(log, 'user'), true);
    assert.equal(mine.id, 1);
    for (let i = 0; i < 32; i++) t.add(event(i * 100), saved(log, `e${i * 100}`), false);
    assert.deepEqual(log, []);
    // The 33rd: the closest to the one before it goes, except the one just added (e3150, 50
    // after e3100): e100, 93 after the user's at 7.
    t.add(event(3150), saved(log, 'e3150'), false);
    assert.deepEqual(log, ['e100']);
    assert.equal(t.byId(1), mine);
    assert.deepEqual(t.numbered(), [mine]);
    t.remove(mine);
    assert.equal(log[1], 'user');
    t.dropAll();
    assert.equal(log.length, 34);
  });
});
