// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeBytes, encodeBytes, hasRawBytes, shown } from '../../native/byteString.js';

test('any bytes come back from their string', () => {
  const samples = [
    Buffer.from('plain/ascii'),
    Buffer.from('ünïcödé 😀 \u{10080}'),
    Buffer.from([0x2f, 0x74, 0xff, 0x78, 0xfe]),
    Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate is not UTF-8
    Buffer.from([0xc0, 0xaf]), // an overlong '/'
    Buffer.from([0xf4, 0x90, 0x80, 0x80]), // past U+10FFFF
    Buffer.from([0xe2, 0x82]), // cut short
    Buffer.concat([Buffer.from('\u{10080}'), Buffer.from([0x80])]),
  ];
  for (let i = 0; i < 2000; i++) samples.push(randomBytes(1 + (i % 24)));
  for (const b of samples) assert.deepEqual(encodeBytes(decodeBytes(b)), b, b.toString('hex'));
});

test('UTF-8 decodes as usual, and only other bytes count as raw', () => {
  assert.equal(decodeBytes(Buffer.from('ünï 😀 \u{10080}')), 'ünï 😀 \u{10080}');
  assert.equal(hasRawBytes('\u{10080}'), false);
  const raw = decodeBytes(Buffer.from([0x61, 0xff, 0x62]));
  assert.equal(hasRawBytes(raw), true);
  assert.equal(shown(raw), 'a\\xff' + 'b');
  assert.equal(shown('\u{10080}'), '\u{10080}');
});
