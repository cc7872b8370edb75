// SPDX-License-Identifier: MIT
/**
 * The plugin API as a plugin sees it: the call-logger fixture logs every syscall the program
 * makes (Session.hooks.syscallMade) and how each session ended (Session.hooks.sessionEnded).
 * Record and replay must tell the same calls with the same data, each program-level call once,
 * with the syscall buffer and without it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Event } from '../../core/Event.js';
import { encodeBlock } from '../../core/eventCodec.js';
import { BLOCK_MAGIC, framed } from '../../core/traceFile.js';
import { TraceReader } from '../../core/TraceReader.js';
import { NR } from '../../native/syscalls.js';
import { ROOT, assertRefused, countEvents, describeRun, setUp, tsrr } from './helpers.js';

const LOGGER = join(ROOT, 'test', 'fixtures', 'call-logger', 'call-logger.mjs');
const TALLY = join(ROOT, 'test', 'fixtures', 'pcp', 'syscall-tally.mjs');
const PCP_FIRST = ['--plugin', 'pcp', '--plugin', TALLY];
/** Whether the suite runs with the syscall buffer off for every recording. */
const unbuffered = /(^| )(-n|--no-syscall-buffer)( |$)/.test(process.env.TSRR_TEST_RECORD_FLAGS ?? '');

/** Runs tsrr with the call logger writing to LOG.record / LOG.replay (and .end files). */
function logged(log: string, args: string[]) {
  const r = tsrr(['--plugin', LOGGER, ...args], { env: { ...process.env, CALL_LOG: log }, timeout: 60_000 });
  return r;
}

interface Call {
  frame: number;
  tid: number;
  name: string;
  args: string[] | undefined;
  result: string;
  buffered: boolean;
}

function calls(file: string): Call[] {
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => {
      const [frame, tid, name, args, , , result, buffered] = line.split(' ');
      return { frame: Number(frame), tid: Number(tid), name: name!, args: args === '-' ? undefined : args!.split(','), result: result!, buffered: buffered === 'buffered' };
    });
}

const ends = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n');

describe('plugin API', () => {
  for (const flags of [[], ['-n']]) {
    test(`syscallMade tells the same calls in record and replay, each once${flags.length ? ' (record -n)' : ''}`, () => {
      const { program, tmp, dir } = setUp('callmix');
      const log = join(tmp, 'calls');
      const rec = logged(log, ['record', ...flags, '-o', dir, program, tmp]);
      assert.equal(rec.status, 0, describeRun('record', rec));
      const rep = logged(log, ['replay', '-a', dir]);
      assert.equal(rep.status, 0, describeRun('replay', rep));
      const recorded = readFileSync(`${log}.record`, 'utf8');
      assert.equal(readFileSync(`${log}.replay`, 'utf8'), recorded, 'replay told other calls than record');
      const all = calls(`${log}.record`);
      // What the program does, whatever the machine: 4 x 20 writes and preads of 8 bytes, one
      // waitpid (however often SIGCHLD interrupts it), and its exit.
      const of = (name: string) => all.filter((c) => c.name === name);
      assert.equal(of('write').filter((c) => c.result === '8').length, 80, recorded);
      assert.equal(of('pread64').filter((c) => c.result === '8').length, 80, recorded);
      assert.equal(of('wait4').length, 1, recorded);
      assert.equal(of('exit_group').length, 2, recorded);
      assert.equal(of('exit_group')[0]!.result, '?');
      const buffered = all.filter((c) => c.buffered);
      if (flags.length > 0 || unbuffered) assert.equal(buffered.length, 0);
      else {
        assert.ok(buffered.some((c) => c.name === 'pread64') && buffered.every((c) => c.args === undefined), recorded);
        assert.ok(all.some((c) => c.name === 'openat' && !c.buffered && c.args?.length === 6), recorded);
      }
      // Three threads and the child called.
      assert.equal(new Set(of('pread64').map((c) => c.tid)).size, 4);
      assert.deepEqual(ends(`${log}.record.end`), [`exited ${countEvents(dir)}`]);
    });
  }

  test('a call a signal interrupted is told once, with the result the program saw', () => {
    const { program, tmp, dir } = setUp('restart');
    const log = join(tmp, 'calls');
    const rec = logged(log, ['record', '-o', dir, program]);
    assert.equal(rec.status, 0, describeRun('record', rec));
    const rep = logged(log, ['replay', '-a', dir]);
    assert.equal(rep.status, 0, describeRun('replay', rep));
    assert.equal(readFileSync(`${log}.replay`, 'utf8'), readFileSync(`${log}.record`, 'utf8'));
    // The parent's one-byte reads of its pipe: restarted (SA_RESTART), then failed with EINTR
    // and read again. The kernel's restart is no call of the program's.
    const all = calls(`${log}.record`);
    const reads = all.filter((c) => c.name === 'read' && c.args?.[2] === '1');
    assert.deepEqual(reads.map((c) => c.result), ['1', '-4', '1'], readFileSync(`${log}.record`, 'utf8'));
    assert.ok(!all.some((c) => c.name === 'restart_syscall' || ['-512', '-513', '-514', '-516'].includes(c.result)));
  });

  test('sessionEnded tells why each session ended', () => {
    const { program, tmp, dir } = setUp('callmix');
    const log = join(tmp, 'calls');
    assert.equal(logged(log, ['record', '-o', dir, program, tmp]).status, 0);
    assert.equal(logged(log, ['replay', '-a', dir]).status, 0);
    assert.equal(logged(log, ['replay', '-a', '-g', '20', dir]).status, 0);
    // A trace tampered with: the first brk asks for another address.
    const reader = TraceReader.open(dir);
    const events = [...reader.events()];
    reader.close();
    const brk = events.find((e) => e.data.kind === 'syscall' && e.data.number === NR.brk && e.frame > 20)!;
    const tampered = events.map((e) => (e === brk && e.data.kind === 'syscall' ? new Event(e.frame, e.tid, { ...e.data, args: [e.data.args[0]! + 0x1000n, ...e.data.args.slice(1)] }) : e));
    writeFileSync(join(dir, 'events'), framed(BLOCK_MAGIC, tampered.length, encodeBlock(1, tampered)));
    const diverged = logged(log, ['replay', '-a', dir]);
    assert.notEqual(diverged.status, 0, describeRun('replay of the tampered trace', diverged));
    const last = events.at(-1)!.frame;
    assert.deepEqual(ends(`${log}.record.end`), [`exited ${last}`]);
    const replayEnds = ends(`${log}.replay.end`);
    assert.deepEqual(replayEnds.slice(0, 2), [`exited ${last}`, 'reached 20']);
    assert.match(replayEnds[2]!, /^divergence \d+$/);
    assert.ok(Number(replayEnds[2]!.split(' ')[1]) < brk.frame);
    // The diverging replay told the calls before the divergence, as the recording had them.
    const told = readFileSync(`${log}.replay`, 'utf8');
    assert.ok(told.length > 1 && readFileSync(`${log}.record`, 'utf8').startsWith(told), told);
  });

  describe('pcp serializers of a third-party plugin (the syscall-tally fixture)', () => {
    /** Runs tsrr with the tally fixture writing to TALLY.record / TALLY.replay / TALLY.saves. */
    const tallied = (tally: string, args: string[], env: Record<string, string> = {}) =>
      tsrr(args, { env: { ...process.env, TALLY_FILE: tally, ...env }, timeout: 60_000 });
    /** A recording of sleeper with checkpoints every 20 events taken while recording. */
    function recorded(plugins: string[], env: Record<string, string> = {}) {
      const { program, tmp, dir } = setUp('sleeper');
      const tally = join(tmp, 'tally');
      const r = tallied(tally, [...plugins, 'record', '--checkpoint-interval', '20', '-o', dir, program, '10'], env);
      return { r, dir, tally };
    }

    for (const plugins of [PCP_FIRST, ['--plugin', TALLY, '--plugin', 'pcp']]) {
      test(`record-time checkpoints hold the state plugins reach after their event (${plugins[1] === 'pcp' ? 'pcp' : 'syscall-tally'} listed first)`, () => {
        const { r, dir, tally } = recorded(plugins);
        assert.equal(r.status, 0, describeRun('record', r));
        assert.deepEqual([...new Set(ends(`${tally}.saves`))], ['record record'], 'save() was told another phase');
        // Near the end, from the latest checkpoint, and from the start: the same tally.
        const goal = String(countEvents(dir) - 2);
        const fromCheckpoint = tallied(tally, [...plugins, 'replay', '-a', '-g', goal, dir]);
        assert.equal(fromCheckpoint.status, 0, describeRun('replay from a checkpoint', fromCheckpoint));
        assert.match(fromCheckpoint.stderr, /starting from the checkpoint at event \d+/);
        const restored = readFileSync(`${tally}.replay`, 'utf8');
        const fromStart = tallied(tally, [...plugins, 'replay', '--ignore-pcp', '-a', '-g', goal, dir]);
        assert.equal(fromStart.status, 0, describeRun('replay --ignore-pcp', fromStart));
        assert.equal(restored, readFileSync(`${tally}.replay`, 'utf8'), 'the checkpoint restored another tally than replay reaches from the start');
      });
    }

    test('create-checkpoints tells save() it is a replay', () => {
      const { r, dir, tally } = recorded(PCP_FIRST);
      assert.equal(r.status, 0, describeRun('record', r));
      rmSync(`${tally}.saves`);
      const made = tallied(tally, [...PCP_FIRST, 'create-checkpoints', '-i', '30', dir]);
      assert.equal(made.status, 0, describeRun('create-checkpoints', made));
      assert.deepEqual([...new Set(ends(`${tally}.saves`))], ['replay replay']);
    });

    test('an error in a serializer names the plugin that registered the kind', () => {
      const { r } = recorded(PCP_FIRST, { TALLY_THROW: 'save' });
      const line = assertRefused('record with a failing save()', r, ['plugin syscall-tally', '"tally/counts"', 'boom in save']);
      assert.doesNotMatch(line, /plugin pcp/);
      const { r: ok, dir, tally } = recorded(PCP_FIRST);
      assert.equal(ok.status, 0, describeRun('record', ok));
      const made = tallied(tally, [...PCP_FIRST, 'create-checkpoints', '-i', '30', dir], { TALLY_THROW: 'save' });
      assert.doesNotMatch(assertRefused('create-checkpoints with a failing save()', made, ['plugin syscall-tally', 'boom in save'], /^tsrr: starting from/), /plugin pcp/);
      const load = tallied(tally, [...PCP_FIRST, 'replay', '-a', '-g', '50', dir], { TALLY_THROW: 'load' });
      assert.doesNotMatch(assertRefused('replay with a failing load()', load, ['plugin syscall-tally', 'boom in load'], /^tsrr: starting from/), /plugin pcp/);
    });

    test('a checkpoint holding an optional kind restores without its plugin, with a warning', () => {
      const { r, dir, tally } = recorded(PCP_FIRST, { TALLY_OPTIONAL: '1' });
      assert.equal(r.status, 0, describeRun('record', r));
      const without = tallied(tally, ['--plugin', 'pcp', 'replay', '-a', '-g', '50', dir]);
      assert.equal(without.status, 0, describeRun('replay without syscall-tally', without));
      assert.match(without.stderr, /^tsrr: starting from the checkpoint at event (2|4)0$/m);
      const warnings = without.stderr.split('\n').filter((l) => l.includes('warning'));
      assert.equal(warnings.length, 1, without.stderr);
      assert.match(warnings[0]!, /^tsrr: warning: .*"tally\/counts".*syscall-tally.*not loaded/);
      // A kind that is not optional makes the checkpoints unusable without the plugin.
      const needed = recorded(PCP_FIRST);
      const refused = tallied(needed.tally, ['--plugin', 'pcp', 'replay', '-a', '-g', '50', needed.dir]);
      assert.equal(refused.status, 0, describeRun('replay without syscall-tally', refused));
      assert.match(refused.stderr, /cannot be used .*"tally\/counts".*syscall-tally.*starting from the beginning/);
    });
  });
});
