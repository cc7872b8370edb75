// SPDX-License-Identifier: MIT
/**
 * tsrr's arguments and environment as the bytes it was given. Node decodes them as UTF-8 and
 * puts U+FFFD for what is not, so a name that is not UTF-8 would become another one (`-o
 * $'/tmp/x\xff'` recording into /tmp/x\uFFFD, a program "not found"). They are read from /proc
 * instead, and decoded so that the bytes come back where they are used (native/byteString.ts).
 */
import { readFileSync } from 'node:fs';
import { decodeBytes } from '../native/byteString.js';

/** The words of a /proc cmdline or environ file (each ends with a NUL). */
function words(block: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < block.length; ) {
    const end = block.indexOf(0, at);
    const stop = end < 0 ? block.length : end;
    out.push(decodeBytes(block.subarray(at, stop)));
    at = stop + 1;
  }
  return out;
}

/** A /proc/PID/cmdline or environ file as its words. */
export const procWords = (file: string): string[] => words(readFileSync(file));

/** tsrr's arguments: the last `count` words of its command line (those after node's own and
 * the script's). */
export const startArguments = (count: number): string[] => (count > 0 ? procWords('/proc/self/cmdline').slice(-count) : []);

/** tsrr's environment as it was given, in its order (process.env's differs). */
export function startEnvironment(): [string, string][] {
  return procWords('/proc/self/environ')
    .filter((e) => e.includes('='))
    .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]);
}
