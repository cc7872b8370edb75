// SPDX-License-Identifier: MIT
/**
 * A progress bar on stderr for long work, when stderr is a terminal (else none). It writes to
 * fd 2 directly: the tracer worker has no process.stderr stream of its own (see cli.ts).
 */
import cliProgress from 'cli-progress';
import { isatty } from 'node:tty';
import { writeAll } from './writeAll.js';

const terminal = {
  isTTY: true,
  columns: Number(process.env.COLUMNS) || 80,
  write(s: string): boolean {
    writeAll(2, s);
    return true;
  },
};

/** A bar with the given cli-progress `format`, or undefined when stderr is not a terminal. */
export function progressBar(format: string): cliProgress.SingleBar | undefined {
  if (!isatty(2)) return undefined;
  return new cliProgress.SingleBar({ format, stream: terminal as unknown as NodeJS.WritableStream, hideCursor: true }, cliProgress.Presets.shades_classic);
}
