// SPDX-License-Identifier: MIT
/**
 * The worked examples of examples/plugins, run as the README shows them, from a directory
 * outside this project (their `import ... from 'tsrr'` must find the running tsrr): the
 * syscall counter prints the same counts in record and replay; the checkpointed counter's
 * state, saved in every checkpoint by its own serializer, restores to what a replay from the
 * start has at the same event.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, describeRun, setUp, tsrr } from './helpers.js';

const EXAMPLES = join(ROOT, 'examples', 'plugins');
const COUNTER = ['--plugin', join(EXAMPLES, 'syscall-counter.ts')];
const CHECKPOINTED = ['--plugin', 'pcp', '--plugin', join(EXAMPLES, 'checkpointed-counter.ts')];

/** The line `plugin: ...` a plugin printed on stderr. */
function lineOf(plugin: string, stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.startsWith(`${plugin}: `));
  assert.equal(lines.length, 1, `expected one line from ${plugin} on stderr:\n${stderr}`);
  return lines[0]!;
}

describe('examples/plugins', () => {
  let tmp: string;
  let trace: string;
  let recorded: string;
  before(() => {
    const s = setUp('sleeper');
    tmp = s.tmp;
    trace = s.dir;
    const r = tsrr([...COUNTER, 'record', '-o', trace, s.program, '20'], { cwd: tmp });
    assert.equal(r.status, 0, describeRun('record with syscall-counter', r));
    recorded = r.stderr;
  });

  test('syscall-counter prints the same counts in record and replay', () => {
    const line = lineOf('syscall-counter', recorded);
    // sleeper writes a line and sleeps 20 times (the sleep's name depends on the C library).
    assert.match(line, /^syscall-counter: \d+ syscalls: .*\bwrite (2[0-9])\b/);
    const r = tsrr([...COUNTER, 'replay', '-a', trace], { cwd: tmp });
    assert.equal(r.status, 0, describeRun('replay with syscall-counter', r));
    assert.equal(lineOf('syscall-counter', r.stderr), line);
  });

  test('checkpointed-counter: the count restored from a checkpoint is the count of a replay from the start', () => {
    const made = tsrr([...CHECKPOINTED, 'create-checkpoints', '-i', '15', trace], { cwd: tmp });
    assert.equal(made.status, 0, describeRun('create-checkpoints', made));
    const kinds = tsrr([...CHECKPOINTED, 'checkpoints', trace], { cwd: tmp });
    assert.match(kinds.stdout.toString(), /example\/syscall-count/, describeRun('checkpoints', kinds));
    const frames = readdirSync(join(trace, 'checkpoints')).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
    assert.ok(frames.length >= 3, `only ${frames.length} checkpoints\n${made.stderr}`);
    // At a checkpoint's event (which replays no event: the count is the restored one alone) and
    // past two others (short of the last checkpoint, so within the trace whatever its length).
    for (const goal of [frames.at(-1)!, frames.at(-2)! + 2, frames.at(-3)! + 1]) {
      const fromCheckpoint = tsrr([...CHECKPOINTED, 'replay', '-a', '-g', String(goal), trace], { cwd: tmp });
      assert.equal(fromCheckpoint.status, 0, describeRun(`replay -g ${goal}`, fromCheckpoint));
      assert.match(fromCheckpoint.stderr, /tsrr: starting from the checkpoint at event \d+\n/, `replay -g ${goal} did not start from a checkpoint\n${fromCheckpoint.stderr}`);
      const fromStart = tsrr([...CHECKPOINTED, 'replay', '--ignore-pcp', '-a', '-g', String(goal), trace], { cwd: tmp });
      assert.equal(fromStart.status, 0, describeRun(`replay --ignore-pcp -g ${goal}`, fromStart));
      const line = lineOf('checkpointed-counter', fromStart.stderr);
      assert.match(line, new RegExp(`^checkpointed-counter: [1-9]\\d* syscall events up to event ${goal}$`));
      assert.equal(lineOf('checkpointed-counter', fromCheckpoint.stderr), line, `replay -g ${goal}: from the checkpoint and from the start`);
    }
  });
});
