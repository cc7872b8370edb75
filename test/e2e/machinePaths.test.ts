// SPDX-License-Identifier: MIT
/**
 * Both sides of what CPUs differ in, on any machine. Without CPUID faulting, tsrr patches cpuid
 * sites to trap (`record --no-cpuid-faulting` does so where the CPU could fault). Where the CPU
 * does not trap rdtsc (some virtual machines ignore PR_SET_TSC), tsrr patches rdtsc sites too
 * (`record --patch-rdtsc`). The suites they touch most (event numbers that trapped
 * instructions shift, the dynamic loader's cpuid and rdtsc after each exec, checkpoints at
 * trapped instructions) run again recording with both; on a machine that lacks both, the run
 * repeats the suites as they are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, compile, freshDir, tsrr } from './helpers.js';

test('record --no-cpuid-faulting: the trace says so, has the cpuid events of the patched sites, and replays', () => {
  const trace = join(freshDir(), 'trace');
  const rec = tsrr(['record', '--no-cpuid-faulting', '-o', trace, compile('cpuid')]);
  assert.equal(rec.status, 0, rec.stderr);
  const info = JSON.parse(tsrr(['traceinfo', trace]).stdout.toString());
  assert.equal(info.machine.cpuidFaulting, false);
  assert.ok(info.machine.patched.includes('cpuid'), JSON.stringify(info.machine.patched));
  assert.match(tsrr(['dump', trace]).stdout.toString(), / cpuid /);
  const rep = tsrr(['replay', '-a', trace]);
  assert.equal(rep.status, 0, rep.stderr);
  assert.ok(rep.stdout.equals(rec.stdout));
});

test('record --patch-rdtsc: the trace says so, has the rdtsc events of the program and its loader, and replays', () => {
  const trace = join(freshDir(), 'trace');
  const rec = tsrr(['record', '--patch-rdtsc', '-o', trace, compile('rdtsc')]);
  assert.equal(rec.status, 0, rec.stderr);
  const info = JSON.parse(tsrr(['traceinfo', trace]).stdout.toString());
  assert.deepEqual(info.machine.patched.filter((p: string) => p !== 'cpuid'), ['rdtsc', 'rdtscp']);
  const events = tsrr(['dump', trace]).stdout.toString().split('\n').filter((l) => / rdtsc /.test(l));
  assert.ok(events.length >= 8, `${events.length} rdtsc events, the program alone runs 8:\n${events.join('\n')}`);
  const rep = tsrr(['replay', '-a', trace]);
  assert.equal(rep.status, 0, rep.stderr);
  assert.ok(rep.stdout.equals(rec.stdout));
});

test('the record, process tree and checkpoint suites pass without cpuid faulting and with rdtsc patched too', { timeout: 1_200_000 }, () => {
  const suites = ['recordReplay', 'processTree', 'pcp'].map((s) => join(ROOT, 'dist', 'test', 'e2e', `${s}.test.js`));
  const env: NodeJS.ProcessEnv = { ...process.env, TSRR_TEST_RECORD_FLAGS: '--no-cpuid-faulting --patch-rdtsc' };
  delete env.NODE_TEST_CONTEXT; // a test runner of its own, not a child of this one
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...suites], { encoding: 'utf8', env, timeout: 1_150_000 });
  const failed = r.stdout.split('\n').filter((l) => /^\s*not ok/.test(l));
  assert.equal(r.status, 0, `with --no-cpuid-faulting --patch-rdtsc: ${failed.join('\n')}\n${r.stdout.slice(-4000)}\n${r.stderr}`);
  assert.match(r.stdout, /# fail 0/);
});
