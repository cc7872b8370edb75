// SPDX-License-Identifier: MIT
/**
 * A progress bar on stderr for long work, when stderr is a terminal (else none). It writes to
 * fd 2 directly: the tracer worker has no process.stderr stream of its own (see cli.ts).
 */
import type cliProgress from 'cli-progress';
import { createRequire } from 'node:module';
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
  // Loaded when a bar is shown: most runs show none, and every run would pay for it.
  const { SingleBar, Presets } = createRequire(import.meta.url)('cli-progress') as typeof cliProgress;
  return new SingleBar({ format, stream: terminal as unknown as NodeJS.WritableStream, hideCursor: true }, Presets.shades_classic);
}
