// SPDX-License-Identifier: MIT
/** `tsrr ls`: the traces under the trace root. */
import { writeAll } from '../writeAll.js';
import { basename, join } from 'node:path';
import type { CommandModule } from 'yargs';
import type { CliContext } from '../CliContext.js';
import { listTraces, traceRoot } from '../traceDir.js';
import { readLink } from '../procfs.js';

export function lsCommand(_ctx: CliContext): CommandModule {
  return {
    command: 'ls',
    describe: 'list the recorded traces',
    builder: (y) => y.option('json', { type: 'boolean', default: false }),
    handler: (argv) => {
      let latest = '';
      try {
        latest = basename(readLink(join(traceRoot(), 'latest-trace')));
      } catch {
        // none yet
      }
      const traces = listTraces();
      if (argv.json) {
        writeAll(1, JSON.stringify(traces.map((t) => ({ ...t, latest: t.name === latest }))) + '\n');
        return;
      }
      for (const t of traces) writeAll(1, `${t.name}${t.name === latest ? ' (latest)' : ''}\t${new Date(t.mtimeMs).toISOString()}\n`);
    },
  };
}
