// SPDX-License-Identifier: MIT
/**
 * Plugins as users load them: from an rr.config.ts (the event-counter fixture, written as a
 * third-party plugin would be) and with --plugin. A plugin that throws, a plugin that cannot be
 * found and a config that exports nonsense must each fail cleanly, naming the culprit, and leave
 * no tracee behind.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, readdirSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, compile, describeRun, tempDir, tsrr, type Run } from './helpers.js';

const FIXTURES = join(ROOT, 'test', 'fixtures');

/** A fresh directory holding a copy of the compiled program under a path of its own (so that
 * only what this test started matches it) and room for a trace. */
function setUp(name: string): { program: string; tmp: string; dir: string } {
  const tmp = realpathSync(tempDir());
  const program = join(tmp, name);
  copyFileSync(compile(name), program);
  chmodSync(program, 0o755);
  return { program, tmp, dir: join(tmp, 'trace') };
}

/** Asserts that after at most `graceMs` no live process has `needle` in its command line or
 * executable path (the tracee's argv[0] is the program's unique path). */
function assertNoneLeft(needle: string, graceMs = 500): void {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const found: string[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
      try {
        const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
        let exe = '';
        try {
          exe = readlinkSync(`/proc/${name}/exe`);
        } catch {
          // a zombie, or a kernel thread
        }
        if (!args.includes(needle) && !exe.includes(needle)) continue;
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
        if (state !== 'Z' && state !== 'X') found.push(`${name} ${state} ${exe}: ${args}`);
      } catch {
        // gone meanwhile
      }
    }
    if (found.length === 0) return;
    if (Date.now() > deadline) assert.fail(`processes left:\n${found.join('\n')}`);
    spawnSync('sleep', ['0.05']);
  }
}

/** Non-zero exit, one line `tsrr: ...` on stderr without a stack trace, naming each of `mentions`. */
function assertFailsCleanly(what: string, r: Run, mentions: (string | RegExp)[]): void {
  const info = describeRun(what, r);
  assert.equal(r.signal, null, `${what} did not finish in time (or died of a signal)\n${info}`);
  assert.notEqual(r.status, 0, `${what} succeeded\n${info}`);
  assert.notEqual(r.status, null, info);
  assert.doesNotMatch(r.stderr, /internal error/i, info);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `stack trace on stderr\n${info}`);
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 2, `stderr must be exactly one line\n${info}`);
  assert.ok(lines[0]!.startsWith('tsrr: ') && lines[1] === '', info);
  for (const m of mentions) {
    if (typeof m === 'string') assert.ok(lines[0]!.includes(m), `the message does not name ${JSON.stringify(m)}\n${info}`);
    else assert.match(lines[0]!, m, info);
  }
}

describe('plugins', () => {
  test('the event-counter fixture, loaded from rr.config.ts, sees every recorded event', () => {
    const { program, tmp, dir } = setUp('sleeper');
    const countFile = join(tmp, 'count');
    const r = tsrr(['record', '-o', dir, program, '5'], {
      cwd: join(FIXTURES, 'event-counter'),
      env: { ...process.env, EVENT_COUNT_FILE: countFile },
      timeout: 30_000,
    });
    assert.equal(r.status, 0, describeRun('record', r));
    assert.match(r.stdout.toString(), /tick 4\nsleeper done\n$/);
    assert.ok(existsSync(countFile), `the plugin did not write ${countFile}: it was not loaded, or its hook never saw the end\n${r.stderr}`);
    const count = Number(readFileSync(countFile, 'utf8'));
    const dump = tsrr(['dump', dir]);
    assert.equal(dump.status, 0, describeRun('dump', dump));
    const events = dump.stdout.toString().trimEnd().split('\n').length;
    assert.ok(events > 10, `only ${events} events recorded`);
    assert.equal(count, events, `the plugin counted ${count} events, the trace has ${events}`);
    assertNoneLeft(program);
  });

  test('a plugin whose hook throws fails the recording, naming the plugin and the hook', () => {
    const { program, dir } = setUp('sleeper');
    const plugin = join(FIXTURES, 'throwing-plugin.mjs');
    // 300 iterations of 10 ms: a tracee that survived the failure would still be running.
    const r = tsrr(['--plugin', plugin, 'record', '-o', dir, program, '300'], { timeout: 30_000 });
    assertFailsCleanly('record with the throwing plugin', r, ['thrower', 'Session.hooks.eventRecorded']);
    assert.doesNotMatch(r.stdout.toString(), /sleeper done/, 'the recording went on to the end');
    assertNoneLeft(program);
  });

  test('--plugin with a name that is neither first-party nor installed: not found', () => {
    const { program, dir } = setUp('sleeper');
    const r = tsrr(['--plugin', 'no-such-plugin-xyz', 'record', '-o', dir, program, '3'], { timeout: 30_000 });
    assertFailsCleanly('--plugin no-such-plugin-xyz', r, ['no-such-plugin-xyz', 'not found']);
    assert.equal(r.stdout.length, 0, 'the program ran although its plugin was missing');
    assertNoneLeft(program);
  });

  test('--plugin with a path to no file: not found', () => {
    const { program, tmp: cwd, dir } = setUp('sleeper');
    const r = tsrr(['--plugin', './missing.js', 'record', '-o', dir, program, '3'], { cwd, timeout: 30_000 });
    assertFailsCleanly('--plugin ./missing.js', r, ['./missing.js', 'not found']);
    assert.equal(r.stdout.length, 0, 'the program ran although its plugin was missing');
    assertNoneLeft(program);
  });

  test('a config whose default export is not a config names the config file', () => {
    const { program, tmp: cwd, dir } = setUp('sleeper');
    const config = join(cwd, 'rr.config.mjs');
    writeFileSync(config, 'export default 42;\n');
    const r = tsrr(['record', '-o', dir, program, '3'], { cwd, timeout: 30_000 });
    assertFailsCleanly('record with rr.config.mjs exporting 42', r, [config]);
    assert.equal(r.stdout.length, 0, 'the program ran although the config is invalid');
    assertNoneLeft(program);
  });
});
