// SPDX-License-Identifier: MIT
/**
 * Both sides of CPUID faulting on any machine: the suites it touches most (event numbers that
 * cpuid events shift, the dynamic loader's trapped cpuid after each exec, checkpoints at
 * trapped instructions) run again recording with `--no-cpuid-faulting`, as on a CPU without
 * it (cpuid then runs natively on the pinned CPU and replay compares it). On such a CPU the
 * run repeats the suites as they are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, compile, freshDir, tsrr } from './helpers.js';

test('record --no-cpuid-faulting: the trace says so, has no cpuid events, and replays', () => {
  const trace = join(freshDir(), 'trace');
  const rec = tsrr(['record', '--no-cpuid-faulting', '-o', trace, compile('cpuid')]);
  assert.equal(rec.status, 0, rec.stderr);
  const info = JSON.parse(tsrr(['traceinfo', trace]).stdout.toString());
  assert.equal(info.machine.cpuidFaulting, false);
  assert.doesNotMatch(tsrr(['dump', trace]).stdout.toString(), / cpuid /);
  const rep = tsrr(['replay', '-a', trace]);
  assert.equal(rep.status, 0, rep.stderr);
  assert.ok(rep.stdout.equals(rec.stdout));
});

test('the record, process tree and checkpoint suites pass without cpuid faulting too', { timeout: 1_200_000 }, () => {
  const suites = ['recordReplay', 'processTree', 'pcp'].map((s) => join(ROOT, 'dist', 'test', 'e2e', `${s}.test.js`));
  const env: NodeJS.ProcessEnv = { ...process.env, TSRR_TEST_RECORD_FLAGS: '--no-cpuid-faulting' };
  delete env.NODE_TEST_CONTEXT; // a test runner of its own, not a child of this one
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...suites], { encoding: 'utf8', env, timeout: 1_150_000 });
  const failed = r.stdout.split('\n').filter((l) => /^\s*not ok/.test(l));
  assert.equal(r.status, 0, `with --no-cpuid-faulting: ${failed.join('\n')}\n${r.stdout.slice(-4000)}\n${r.stderr}`);
  assert.match(r.stdout, /# fail 0/);
});
