// SPDX-License-Identifier: MIT
/** `tsrr ps [TRACE]`: the processes of a recording. */
import { writeAll } from '../writeAll.js';
import type { CommandModule } from 'yargs';
import type { CliContext } from '../CliContext.js';
import { resolveTrace } from '../traceDir.js';
import { TraceReader } from '../TraceReader.js';

interface Proc {
  pid: number;
  ppid: number;
  exit: string;
  cmd: string;
}

export function processes(trace: TraceReader): Proc[] {
  const procs = new Map<number, Proc>();
  for (const e of trace.events()) {
    const d = e.data;
    if (d.kind === 'exec') {
      const p = procs.get(e.tid) ?? { pid: e.tid, ppid: 0, exit: 'none', cmd: '' };
      p.cmd = d.argv.join(' ');
      procs.set(e.tid, p);
    } else if (d.kind === 'exit') {
      const p = procs.get(e.tid);
      if (p) p.exit = (d.status & 0x7f) === 0 ? String((d.status >> 8) & 0xff) : `-${d.status & 0x7f}`;
    }
  }
  return [...procs.values()];
}

export function psCommand(_ctx: CliContext): CommandModule {
  return {
    command: 'ps [trace]',
    describe: 'list the processes of a trace: PID PPID EXIT CMD',
    builder: (y) => y.positional('trace', { type: 'string' }).option('json', { type: 'boolean', default: false }),
    handler: (argv) => {
      const trace = TraceReader.open(resolveTrace(argv.trace as string | undefined));
      try {
        const procs = processes(trace);
        if (argv.json) writeAll(1, JSON.stringify(procs) + '\n');
        else writeAll(1, ['PID\tPPID\tEXIT\tCMD', ...procs.map((p) => `${p.pid}\t${p.ppid}\t${p.exit}\t${p.cmd}`)].join('\n') + '\n');
      } finally {
        trace.close();
      }
    },
  };
}
