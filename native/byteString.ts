// SPDX-License-Identifier: MIT
/**
 * Names are bytes on Linux (paths, argv, the environment), not UTF-8. tsrr keeps them as
 * strings, decoded so that any bytes come back: valid UTF-8 as its characters, and each byte of
 * anything else as the lone surrogate U+DC00 + byte (as Python's "surrogateescape"), which no
 * valid UTF-8 decodes to. Node encodes a string it is given as UTF-8, which turns those into
 * U+FFFD: encode a name with `encodeBytes` wherever it leaves tsrr (a syscall, a file, the trace).
 */
import { isUtf8 } from 'node:buffer';

// A low surrogate that does not end a pair (U+10080 is D800 DC80).
const ESCAPED = /(?<![\ud800-\udbff])[\udc80-\udcff]/;

/** The length of the valid UTF-8 sequence of more than one byte at `at`, or 0 (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF). */
function sequenceAt(b: Uint8Array, at: number): number {
  const c = b[at]!;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || at + n > b.length) return 0;
  for (let i = 1; i < n; i++) if ((b[at + i]! & 0xc0) !== 0x80) return 0;
  const c1 = b[at + 1]!;
  if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) return 0;
  return n;
}

/** The bytes as a string that `encodeBytes` turns back into the same bytes. */
export function decodeBytes(b: Uint8Array): string {
  if (isUtf8(b)) return Buffer.from(b.buffer, b.byteOffset, b.length).toString();
  let out = '';
  for (let at = 0; at < b.length; ) {
    const c = b[at]!;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      at++;
      continue;
    }
    const n = sequenceAt(b, at);
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + c);
      at++;
    } else {
      out += Buffer.from(b.subarray(at, at + n)).toString();
      at += n;
    }
  }
  return out;
}

/** The bytes a string from `decodeBytes` came from (UTF-8 for any other string). */
export function encodeBytes(s: string): Buffer {
  if (!hasRawBytes(s)) return Buffer.from(s);
  // split() with a group keeps the separators: odd indexes are the escaped bytes.
  return Buffer.concat(s.split(new RegExp(`(${ESCAPED.source})`)).map((part, i) => (i % 2 ? Buffer.of(part.charCodeAt(0) - 0xdc00) : Buffer.from(part))));
}

/** Whether `s` holds bytes that are not UTF-8 (and so must be encoded to be named). */
export const hasRawBytes = (s: string): boolean => ESCAPED.test(s);

/** `s` for a message: its raw bytes as \xHH. */
export const shown = (s: string): string => s.replace(new RegExp(ESCAPED.source, 'g'), (c) => `\\x${(c.charCodeAt(0) - 0xdc00).toString(16)}`);
