// SPDX-License-Identifier: MIT
/**
 * gdb with the pcp plugin: checkpoints (in-memory, by forking the replayed processes) and going
 * back from them. Real gdb runs scripts in batch mode on debugme.c: checkpoint, restart (also
 * after the program ended), info and delete checkpoint, seek-frame, reverse watchpoints,
 * write-checkpoints then load-checkpoints in a new gdb. For process trees and threads, a
 * checkpoint restored twice reaches an event in the same state as a replay from the start
 * (registers of every task, memory of every process: the state-dumper fixture).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertLines, hasGdb, underGdb } from './gdb.js';
import { BIND_NOW, ROOT, assertNoneLeft, compile, countEvents, describeRun, tempDir, tsrr } from './helpers.js';

const PCP_GDB = ['--plugin', 'pcp', '--plugin', 'gdbserver'];
const DUMPER = join(ROOT, 'test', 'fixtures', 'pcp', 'state-dumper.mjs');

let tmp: string;

function record(name: string, program: string): string {
  const dir = join(tmp, name);
  const r = tsrr(['record', '-o', dir, program]);
  assert.equal(r.status, 0, describeRun(`record ${name}`, r));
  return dir;
}

describe('gdb checkpoints (pcp + gdbserver)', { skip: hasGdb ? false : 'gdb is not installed' }, () => {
  let debugme: string;
  let trace: string;
  const gdb = (commands: string[], tsrrArgs = PCP_GDB, t = trace) => underGdb(t, commands, { tsrrArgs, dir: tmp });

  before(() => {
    tmp = tempDir('tsrr-gdbcp-');
    debugme = compile('debugme', ['-pthread', '-O0']);
    trace = record('trace', debugme);
  });

  test('checkpoint, restart, info and delete checkpoint, seek-frame, when; restart after the end', async () => {
    const r = await gdb([
      'break square',
      'continue',
      'continue',
      'continue',
      'checkpoint',
      'continue',
      'print x',
      'restart 1',
      'print x',
      'bt 1',
      'info checkpoints',
      'restart 9',
      'print x',
      'seek-frame 5',
      'when',
      'delete',
      'continue',
      'restart 1',
      'print x',
      'print counter',
      'delete checkpoint 1',
      'info checkpoints',
      'continue',
    ]);
    assert.equal(r.status, 0, describeRun('gdb', r));
    assertLines(r.out, [
      /Breakpoint 1, square \(x=2\)/,
      /Checkpoint 1 at event (\d+)\./,
      /Breakpoint 1, square \(x=3\)/,
      /\$1 = 3/,
      /Program stopped\./,
      /\$2 = 2/,
      /#0  square \(x=2\) at .*debugme\.c:12/,
      /1\tevent \d+\tthread [0-9a-f]+, pc 0x[0-9a-f]+\n/,
      /\$3 = 2/, // restart 9: no such checkpoint, the replay stays
      /Current event: 5\n/,
      /total 285 counter 10\nchecksum 1498500\n/,
      /(?:Program|Thread \d+) received signal SIGKILL/, // the end of the replay: rr's exit stop
      /Program stopped\./, // restart after the end
      /\$4 = 2/,
      /\$5 = 2/,
      /No checkpoints\./,
      /total 285 counter 10\nchecksum 1498500\n/,
      /(?:Program|Thread \d+) received signal SIGKILL/, // the end of the replay: rr's exit stop
    ]);
    assert.match(r.out, /tsrr: no checkpoint 9/);
    assertNoneLeft([trace]);
  });

  test('reverse-continue with a watchpoint stops before each write, with the old value', async () => {
    const r = await gdb([
      'break square',
      'continue',
      'continue',
      'continue',
      'watch counter',
      'continue',
      'continue',
      'reverse-continue',
      'print counter',
      'reverse-continue',
      'print x',
      'reverse-continue',
      'print counter',
      'continue',
      'continue',
      'print counter',
      'delete',
      'continue',
    ]);
    assert.equal(r.status, 0, describeRun('gdb', r));
    assertLines(r.out, [
      /Old value = 2\nNew value = 3/,
      /Breakpoint 1, square \(x=3\)/,
      // back over the write of 3, to the instruction that makes it
      /Old value = 3\nNew value = 2\n.*\n26\t    counter\+\+;/,
      /\$1 = 2/,
      /Breakpoint 1, square \(x=2\)/,
      /\$2 = 2/,
      /Old value = 2\nNew value = 1\n.*\n26\t    counter\+\+;/,
      /\$3 = 1/,
      /Old value = 1\nNew value = 2/, // forward again: the same write
      /Breakpoint 1, square \(x=2\)/,
      /\$4 = 2/,
      /(?:Program|Thread \d+) received signal SIGKILL/, // the end of the replay: rr's exit stop
    ]);
  });

  test('reverse-step into a function; hardware breakpoints forwards and backwards', async () => {
    const r = await gdb(['break debugme.c:26', 'continue', 'continue', 'reverse-step', 'bt 1', 'reverse-step', 'reverse-step', 'print x', 'delete', 'hbreak square', 'continue', 'continue', 'print x', 'reverse-continue', 'print x', 'delete', 'continue']);
    assert.equal(r.status, 0, describeRun('gdb', r));
    assertLines(r.out, [
      /Breakpoint 1, main \(\) at .*debugme\.c:26/,
      /Breakpoint 1, main \(\) at .*debugme\.c:26/,
      /square \(x=1\) at .*debugme\.c:14\n14\t\}/, // back into the call just made
      /#0  square \(x=1\)/,
      /13\t  return y;/,
      /12\t  int y = x \* x;/,
      /\$1 = 1/,
      /Hardware assisted breakpoint 2 at/,
      /Breakpoint 2, square \(x=2\)/,
      /Breakpoint 2, square \(x=3\)/,
      /\$2 = 3/,
      /Breakpoint 2, square \(x=2\)/,
      /\$3 = 2/,
      /(?:Program|Thread \d+) received signal SIGKILL/, // the end of the replay: rr's exit stop
    ]);
  });

  test('write-checkpoints, then load-checkpoints and restart in a new gdb', async () => {
    const t = record('persisted', debugme);
    const first = await gdb(['break square', 'continue', 'continue', 'next', 'checkpoint', 'write-checkpoints', 'write-checkpoints', 'continue'], PCP_GDB, t);
    assert.equal(first.status, 0, describeRun('gdb', first));
    const made = /Checkpoint 1 at event (\d+)\./.exec(first.out);
    assert.ok(made, first.out);
    assertLines(first.out, [new RegExp(`checkpoint 1: written to .*checkpoints/${made[1]}\\n`), /checkpoint 1: a persistent checkpoint at event \d+ exists; kept it/]);
    const second = await gdb(['load-checkpoints', 'info checkpoints', 'restart 1', 'print x', 'print y', 'bt 1', 'next', 'print y', 'continue'], PCP_GDB, t);
    assert.equal(second.status, 0, describeRun('gdb', second));
    assertLines(second.out, [
      new RegExp(`Checkpoint 1 at event ${made[1]} \\(part way to the next\\)\\.`),
      new RegExp(`1\\tevent ${made[1]}\\tpart way to the next`),
      /Program stopped\./,
      /\$1 = 1/,
      /#0  square \(x=1\) at .*debugme\.c:13/,
      /\$3 = 1/,
      /(?:Program|Thread \d+) received signal SIGKILL/, // the end of the replay: rr's exit stop
    ]);
    // -g at the checkpoint's event does not start part way past it; one event later does.
    const at = tsrr(['--plugin', 'pcp', 'replay', '-a', '-g', made[1]!, t]);
    assert.doesNotMatch(at.stderr.toString(), /starting from the checkpoint/);
    const after = tsrr(['--plugin', 'pcp', 'replay', '-a', '-g', String(Number(made[1]) + 1), t]);
    assert.equal(after.status, 0, describeRun('replay -g', after));
    assert.match(after.stderr.toString(), new RegExp(`starting from the checkpoint at event ${made[1]}`));
    // So does gdb with -g.
    const next = Number(made[1]) + 1;
    const third = await underGdb(t, ['when', 'continue'], { tsrrArgs: PCP_GDB, replayArgs: ['-g', String(next)], dir: tmp });
    assert.equal(third.status, 0, describeRun('gdb -g', third));
    assertLines(third.out, [new RegExp(`starting from the checkpoint at event ${made[1]}`), new RegExp(`Current event: ${next}\n`), /(?:Program|Thread \d+) received signal SIGKILL/]);
  });

  test('without pcp, checkpoint says what it needs', async () => {
    const r = await gdb(['break square', 'continue', 'checkpoint', 'continue'], ['--no-plugin', 'pcp']);
    assert.equal(r.status, 0, describeRun('gdb', r));
    assert.match(r.out, /cannot checkpoint here: no plugin saves replay states \(pcp, a default plugin, is turned off\)/);
  });

  /** Programs with processes and threads: a checkpoint at event X, restored to reach Y. */
  const trees = [
    { program: 'fork_pipe', flags: [] },
    { program: 'threads_condvar', flags: ['-pthread'] },
    { program: 'sigchld', flags: [] },
    { program: 'epoll', flags: ['-pthread'] },
  ];
  for (const c of trees) {
    test(`${c.program}: a checkpoint restored twice reaches a later event in the replay's state`, async () => {
      const t = record(c.program, compile(c.program, [...c.flags, ...BIND_NOW]));
      const events = countEvents(t);
      const dumpAt = (y: number, file: string) => ({ ...process.env, DUMP_AT_FRAME: String(y), DUMP_FILE: file });
      // Every fifth event from the middle on until one can be checkpointed.
      for (let x = Math.floor(events / 2); x < events - 3; x += 5) {
        const y = x + 3;
        const file = join(tmp, `${c.program}-${x}.json`);
        const env = dumpAt(y, file);
        const r = await underGdb(t, [`seek-frame ${x}`, 'checkpoint', `seek-frame ${y}`, 'restart 1', 'continue'], { tsrrArgs: ['--plugin', DUMPER, ...PCP_GDB], env, dir: tmp });
        if (/cannot checkpoint here/.test(r.out)) continue;
        assert.equal(r.status, 0, describeRun('gdb', r));
        assert.match(r.out, new RegExp(`Checkpoint 1 at event ${x}\\.`));
        assert.match(r.out, /(?:Program|Thread \d+) received signal SIGKILL/);
        const direct = join(tmp, `${c.program}-${x}-direct.json`);
        const d = tsrr(['--plugin', DUMPER, 'replay', '-a', '-g', String(y), t], { env: dumpAt(y, direct) });
        assert.equal(d.status, 0, describeRun('replay -g', d));
        const expected = JSON.parse(readFileSync(direct, 'utf8'));
        // Event y is reached twice, each time from the checkpoint: by seek-frame, by continue.
        assert.ok(!existsSync(file + '.2'), 'a third dump');
        for (const n of ['', '.1']) {
          assert.ok(existsSync(file + n), `no dump ${file + n}:\n${r.out}`);
          assert.deepEqual(JSON.parse(readFileSync(file + n, 'utf8')), expected, `dump ${n || '0'} at event ${y} (checkpoint at ${x})`);
        }
        assertNoneLeft([t]);
        return;
      }
      assert.fail(`no event of ${c.program} from the middle on could be checkpointed`);
    });
  }
});
