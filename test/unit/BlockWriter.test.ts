// SPDX-License-Identifier: MIT
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockWriter } from '../../core/BlockWriter.js';
import { PREFIX_BYTES, readPrefix } from '../../core/traceFile.js';
import { TsrrError } from '../../native/TsrrError.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsrr-blocks-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const body = (n: number) => new Uint8Array(4096).fill(n);

/** The counts of the blocks in `file`, in order. */
function counts(file: string): number[] {
  const buf = readFileSync(file);
  const out: number[] = [];
  for (let at = 0; at < buf.length; at += PREFIX_BYTES + readPrefix(buf, at).length) out.push(readPrefix(buf, at).count);
  return out;
}

test('blocks from the thread and from the caller land in the order they were written', () => {
  const file = join(dir, 'events');
  const fd = openSync(file, 'wx');
  const w = new BlockWriter(fd, file);
  w.write(body(1), 1, false); // no thread yet: written at once
  assert.deepEqual(counts(file), [1]);
  for (let i = 2; i <= 40; i++) w.write(body(i), i, i % 3 !== 0); // more than the queue holds
  w.close();
  closeSync(fd);
  assert.deepEqual(counts(file), Array.from({ length: 40 }, (_, i) => i + 1));
});

test('a block the thread cannot write fails the next write and the close, naming the file', () => {
  const file = join(dir, 'events');
  writeFileSync(file, '');
  const fd = openSync(file, 'r'); // writes fail: EBADF
  const w = new BlockWriter(fd, file);
  w.write(body(1), 1, true);
  assert.throws(() => w.drain(), (e: unknown) => e instanceof TsrrError && e.code === 'TRACE_WRITE_FAILED' && e.message.includes(file) && e.message.includes('Bad file descriptor'));
  assert.throws(() => w.write(body(2), 2, true), (e: unknown) => e instanceof TsrrError && e.code === 'TRACE_WRITE_FAILED');
  assert.throws(() => w.close(), (e: unknown) => e instanceof TsrrError && e.code === 'TRACE_WRITE_FAILED');
  closeSync(fd);
});

test('without a thread, a failed write fails at once', () => {
  const file = join(dir, 'events');
  writeFileSync(file, '');
  const fd = openSync(file, 'r');
  const w = new BlockWriter(fd, file);
  assert.throws(() => w.write(body(1), 1, false), (e: unknown) => e instanceof TsrrError && e.code === 'TRACE_WRITE_FAILED' && e.message.includes(file));
  w.close();
  closeSync(fd);
});
