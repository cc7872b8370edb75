// SPDX-License-Identifier: MIT
/** `tsrr ps [TRACE]`: the processes of a recording. */
import { writeAll } from '../writeAll.js';
import type { CommandModule } from 'yargs';
import type { CliContext } from '../CliContext.js';
import { resolveTrace } from '../traceDir.js';
import { TraceReader } from '../TraceReader.js';
import { CLONE } from '../clone.js';

interface Proc {
  pid: number;
  ppid: number;
  exit: string;
  cmd: string;
}

/** Every process of the trace, in the order they started: the first, then each one a fork
 * created (threads belong to their process); the command line is the last exec's, or the
 * parent's for a process that never exec'd. */
export function processes(trace: TraceReader): Proc[] {
  const procs = new Map<number, Proc>();
  const processOf = new Map<number, number>(); // tid -> pid
  const pidOf = (tid: number) => processOf.get(tid) ?? tid;
  for (const e of trace.events()) {
    const d = e.data;
    if (d.kind === 'fork') {
      const parent = pidOf(e.tid);
      if ((d.flags & CLONE.THREAD) !== 0n) processOf.set(d.child, parent);
      else procs.set(d.child, { pid: d.child, ppid: parent, exit: 'none', cmd: procs.get(parent)?.cmd ?? '' });
    } else if (d.kind === 'exec') {
      const pid = pidOf(e.tid);
      const p = procs.get(pid) ?? { pid, ppid: 0, exit: 'none', cmd: '' };
      p.cmd = d.argv.join(' ');
      procs.set(pid, p);
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
