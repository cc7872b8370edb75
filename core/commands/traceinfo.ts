// SPDX-License-Identifier: MIT
/** `tsrr traceinfo [TRACE]`: the header as JSON. */
import { writeAll } from '../writeAll.js';
import type { CommandModule } from 'yargs';
import type { CliContext } from '../CliContext.js';
import { pathOf, resolveTrace, shownPaths } from '../traceDir.js';
import { TraceReader } from '../TraceReader.js';

export function traceinfoCommand(_ctx: CliContext): CommandModule {
  return {
    command: 'traceinfo [trace]',
    describe: 'print what a trace recorded and on which machine, as JSON',
    builder: (y) => y.positional('trace', { type: 'string' }),
    handler: (argv) => {
      const trace = TraceReader.open(resolveTrace(argv.trace as string | undefined));
      try {
        const info = { dir: pathOf(trace.dir), events: trace.frameCount, ...(trace.cutOff ? { cutOff: shownPaths(trace.cutOff) } : {}), ...trace.header };
        writeAll(1, JSON.stringify(info, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
      } finally {
        trace.close();
      }
    },
  };
}
