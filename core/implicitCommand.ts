// SPDX-License-Identifier: MIT
/**
 * rr's shorthand: `tsrr PROG [ARGS...]` records and `tsrr TRACEDIR` replays, and
 * `tsrr help [COMMAND]` is `tsrr [COMMAND] --help`. These rewrite the command line into the
 * explicit form before yargs reads it.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isTrace } from './traceDir.js';
import { TsrrError } from '../native/TsrrError.js';

/** Where the command word is: the first word that is not an option or an option's value (-1:
 * none before the end or `--`). */
export function commandAt(argv: readonly string[], valueOptions: Iterable<string>): number {
  const takesValue = new Set(valueOptions);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return -1;
    if (takesValue.has(a)) i++;
    else if (!a.startsWith('-') || a === '-') return i;
  }
  return -1;
}

const isTraceDir = (word: string) => existsSync(word) && statSync(word).isDirectory() && isTrace(resolve(word));

/**
 * `argv` with its command made explicit. `commands` are the known ones; `bareWords`: whether a
 * word without a slash that is not a command is a program to record (false while plugins, which
 * may add commands, are not loaded yet).
 */
export function explicitCommand(argv: readonly string[], commands: readonly string[], valueOptions: Iterable<string>, bareWords: boolean): string[] {
  const at = commandAt(argv, valueOptions);
  if (at < 0) return [...argv];
  const word = argv[at]!;
  if (word === 'help') {
    const topic = argv[at + 1];
    if (topic === undefined) return [...argv.slice(0, at), '--help'];
    if (!bareWords) return [...argv];
    if (!commands.includes(topic)) throw new TsrrError('BAD_ARGUMENT', `help: no command ${topic} (tsrr --help lists them)`, { command: topic });
    return [...argv.slice(0, at), topic, '--help'];
  }
  if (commands.includes(word)) return [...argv];
  // First: options before the word may be the command's own, which yargs reads only after it.
  if (isTraceDir(word)) return ['replay', ...argv];
  if (word.includes('/') || bareWords) return ['record', ...argv];
  return [...argv];
}
