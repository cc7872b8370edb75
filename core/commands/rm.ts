// SPDX-License-Identifier: MIT
/** `tsrr rm TRACE`: removes a trace (never a directory that is not one, nor one being recorded). */
import { rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import type { CliContext } from '../CliContext.js';
import { TsrrError } from '../../native/TsrrError.js';
import { encodeBytes } from '../../native/byteString.js';
import { latestTrace, traceRoot, withFinishedTrace } from '../traceDir.js';

export function rmCommand(_ctx: CliContext): CommandModule {
  return {
    command: 'rm [trace]',
    describe: 'remove a trace (and latest-trace, if it pointed at it)',
    builder: (y) => y.positional('trace', { type: 'string', describe: 'trace directory or name' }),
    handler: (argv) => {
      // Never the latest by default: a removal is not undone.
      if (argv.trace === undefined) throw new TsrrError('BAD_ARGUMENT', 'rm needs a trace: tsrr rm TRACE');
      withFinishedTrace(argv.trace as string, 'removing', (dir) => {
        // First, so that latest-trace never points at a half-removed trace.
        if (latestTrace() === dir) unlinkSync(encodeBytes(join(traceRoot(), 'latest-trace')));
        rmSync(encodeBytes(dir), { recursive: true });
      });
    },
  };
}
