// SPDX-License-Identifier: MIT
/**
 * Huge mappings that hold little (a 64 GiB sparse file mapped shared, a 16 GiB memfd, a
 * terabyte of reserved address space) record and replay, and the trace holds what they hold:
 * copies of mapped files keep their holes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { compile, describeRun, freshDir, tsrr } from './helpers.js';

test('huge sparse mappings record and replay, and the trace holds only their data', () => {
  const program = compile('sparse');
  const dir = freshDir();
  const trace = join(dir, 'trace');
  const rec = tsrr(['record', '-o', trace, program], { cwd: dir });
  assert.equal(rec.status, 0, describeRun('record', rec));
  assert.equal(rec.stdout.toString(), 'file: 0 2 x\nmemfd: 42\nreserved: 7\n');
  const rep = tsrr(['replay', '-a', trace]);
  assert.equal(rep.status, 0, describeRun('replay', rep));
  assert.ok(rep.stdout.equals(rec.stdout), `replay printed\n${rep.stdout}`);
  const kib = Number(spawnSync('du', ['-sk', trace], { encoding: 'utf8' }).stdout.split('\t')[0]);
  assert.ok(kib < 64 * 1024, `the trace takes ${kib} KiB on disk`);
});
