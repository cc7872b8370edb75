// SPDX-License-Identifier: MIT
/**
 * Several tsrr at once on one trace's checkpoints. rm-checkpoints while create-checkpoints runs:
 * they take turns (the checkpoints' lock), both succeed, and every checkpoint left is whole and
 * restores. A writer killed with SIGKILL leaves nothing locked, and the next writer removes what
 * it left half written.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CheckpointStore } from '../../plugins/pcp/CheckpointStore.js';
import { assertNoneLeft, compile, countEvents, describeRun, freshDir, start, tsrr, tsrrAsync, type Run } from './helpers.js';

const PCP = ['--plugin', 'pcp'];
const INTERVAL = '20';

/** Asserts a command ended well, with nothing on stderr but tsrr's own notices. */
function assertOk(what: string, r: Run): void {
  const info = describeRun(what, r);
  assert.equal(r.signal, null, info);
  assert.equal(r.status, 0, info);
  assert.doesNotMatch(r.stderr, /internal error|^\s+at |cannot|corrupt|missing/im, info);
}

describe('checkpoints of one trace used by several tsrr at once', () => {
  let trace: string;
  let output: Buffer;
  let frames: number;

  before(() => {
    trace = join(freshDir(), 'trace');
    const r = tsrr(['record', '-o', trace, compile('anonmem')], { timeout: 30_000 });
    assert.equal(r.status, 0, describeRun('record', r));
    output = r.stdout;
    frames = countEvents(trace);
  });

  /** Every listed checkpoint is whole (its files read, its chunks are stored undamaged), and
   * the latest restores. */
  function assertConsistent(what: string): number[] {
    const store = new CheckpointStore(trace);
    const listed = store.list().map((c) => c.frame);
    for (const cp of store.list()) {
      assert.doesNotThrow(() => {
        store.manifest(cp);
        store.state(cp);
        store.verify(cp);
      }, `${what}: the checkpoint at event ${cp.frame}`);
    }
    const leftovers = readdirSync(store.dir).filter((n) => n.startsWith('.'));
    assert.deepEqual(leftovers, [], `${what}: temporary files left`);
    if (listed.length > 0) {
      const r = tsrr([...PCP, 'replay', '-a', '--strict-pcp', '-g', String(frames), trace], { timeout: 30_000 });
      assertOk(`${what}: replay from the latest checkpoint`, r);
      assert.match(r.stderr, new RegExp(`^tsrr: starting from the checkpoint at event ${listed.at(-1)}$`, 'm'));
      assert.deepEqual(r.stdout.toString(), output.toString(), `${what}: not the recorded output`);
    }
    assertNoneLeft([trace]);
    return listed;
  }

  test('rm-checkpoints while create-checkpoints runs: both succeed, and what is left is whole', async () => {
    /** Removals of checkpoints that create-checkpoints had made, while it went on. */
    let during = 0;
    for (let round = 0; round < 2; round++) {
      let done = false;
      const create = tsrrAsync([...PCP, 'create-checkpoints', '-i', INTERVAL, trace], 60_000).finally(() => (done = true));
      // One removal after another until the writing ends, starting at a different point each round.
      await sleep(300 * round);
      for (let n = 0; !done && n < 30; n++) {
        const rm = await tsrrAsync([...PCP, 'rm-checkpoints', trace], 60_000);
        assertOk(`round ${round}: rm-checkpoints`, rm);
        const m = /^tsrr: removed (\d+) checkpoints?$/m.exec(rm.stderr);
        assert.ok(m, describeRun(`round ${round}: rm-checkpoints`, rm));
        if (!done && Number(m[1]) > 0) during++;
      }
      const created = await create;
      assertOk(`round ${round}: create-checkpoints`, created);
      assert.match(created.stderr, /^tsrr: created \d+ checkpoints? in /m);
      assertConsistent(`round ${round}`);
    }
    assert.ok(during > 0, 'no rm-checkpoints removed checkpoints while create-checkpoints was writing');
  });

  test('a writer killed with SIGKILL leaves nothing locked, and the next writer removes its leftovers', async () => {
    const store = new CheckpointStore(trace);
    const rm = tsrr([...PCP, 'rm-checkpoints', trace]);
    assertOk('rm-checkpoints', rm);
    const writer = start([...PCP, 'create-checkpoints', '-i', '1', trace]);
    // Killed once it has written a checkpoint, most likely while it writes the next.
    while (store.list().length === 0 && writer.child.exitCode === null) await sleep(20);
    writer.child.kill('SIGKILL');
    await writer.exited;
    // What a writer killed half way leaves, whether or not this one did.
    const dead = 4_000_000; // above pid_max's default: no live process has it
    mkdirSync(join(store.dir, `.tmp-7-${dead}`));
    writeFileSync(join(store.dir, `.tmp-7-${dead}`, 'state'), 'half');
    writeFileSync(join(store.chunks.dir, `.7-0.pack.tmp-${dead}`), 'half');
    const at = Date.now();
    const next = tsrr([...PCP, 'create-checkpoints', '-i', INTERVAL, '-e', '20', trace], { timeout: 30_000 });
    assertOk('create-checkpoints after a killed one', next);
    assert.doesNotMatch(next.stderr, /waiting/, describeRun('create-checkpoints after a killed one', next));
    assert.ok(Date.now() - at < 20_000, 'the next writer waited for the killed one');
    assert.ok(!existsSync(join(store.dir, `.tmp-7-${dead}`)), 'the temporary checkpoint directory is left');
    assert.deepEqual(readdirSync(store.chunks.dir).filter((n) => n.startsWith('.')), [], 'temporary packs are left');
    assertConsistent('after the killed writer');
  });
});
