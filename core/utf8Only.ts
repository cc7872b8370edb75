// SPDX-License-Identifier: MIT
/**
 * tsrr's arguments and environment must be UTF-8. Node decodes them from bytes as UTF-8 and
 * puts U+FFFD for what is not, and tsrr keeps them as text (paths, the program's argv and
 * environment, the trace's header), so a name that is not UTF-8 would silently become another
 * one (`-o $'/tmp/x\xff'` recording into /tmp/x\uFFFD). They are refused instead, read as
 * bytes from /proc.
 */
import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { TsrrError } from '../native/TsrrError.js';

/** The words of a /proc cmdline or environ file (each ends with a NUL). */
function words(block: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < block.length; ) {
    const end = block.indexOf(0, at);
    const stop = end < 0 ? block.length : end;
    out.push(block.subarray(at, stop));
    at = stop + 1;
  }
  return out;
}

/** Bytes shown readably: printable ASCII as it is, any other byte as \xHH. */
const escaped = (b: Buffer) => [...b].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('');

/** Refuses tsrr's arguments (the last `count` words of its command line, those after node's
 * own and the script's) when one is not UTF-8. */
export function checkArguments(count: number): void {
  const bad = count > 0 ? words(readFileSync('/proc/self/cmdline')).slice(-count).find((w) => !isUtf8(w)) : undefined;
  if (bad) throw new TsrrError('BAD_ARGUMENT', `the argument ${escaped(bad)} is not valid UTF-8, and tsrr takes its arguments (paths, the program and its arguments) in UTF-8 only`);
}

/** tsrr's environment as it was given, in its order (process.env's differs); refused when an
 * entry is not UTF-8, which the recorded program would get altered. */
export function startEnvironment(): [string, string][] {
  const entries = words(readFileSync('/proc/self/environ')).filter((e) => e.includes('='));
  const bad = entries.find((e) => !isUtf8(e));
  if (bad) {
    const name = escaped(bad.subarray(0, bad.indexOf('=')));
    throw new TsrrError('BAD_ARGUMENT', `the environment variable ${name} (${escaped(bad)}) is not valid UTF-8, and tsrr passes the environment on in UTF-8 only: unset it to record`, { variable: name });
  }
  return entries.map((e) => e.toString()).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]);
}
