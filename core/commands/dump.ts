// SPDX-License-Identifier: MIT
/** `tsrr dump [--json] [TRACE]`: one line per event. */
import { writeAll } from '../writeAll.js';
import type { CommandModule } from 'yargs';
import { Registers } from '../../native/regs.js';
import { syscallName } from '../../native/syscalls.js';
import { bufferedCalls } from '../syscallBuffer.js';
import type { CliContext } from '../CliContext.js';
import type { Event, Snapshot } from '../Event.js';
import { resolveTrace } from '../traceDir.js';
import { TraceReader } from '../TraceReader.js';

const hex = (v: bigint | number) => '0x' + v.toString(16);

export function describeEvent(e: Event): string {
  const d = e.data;
  const head = `${e.frame} tid ${e.tid} ${d.kind}`;
  switch (d.kind) {
    case 'syscall': {
      const writes = d.writes.length ? ` writes ${d.writes.map((w) => `${w.data.length}@${hex(w.addr)}`).join(',')}` : '';
      const file = d.mappedFile ? ` file ${d.mappedFile.path} (${d.mappedFile.copy})` : '';
      return `${head} ${syscallName(d.number)}(${d.args.map(hex).join(', ')}) = ${d.result < 0n ? d.result : hex(d.result)}${writes}${file}`;
    }
    case 'exec':
      return `${head} ${d.path} (${d.copy}) [${d.argv.join(' ')}] entry ${hex(new Registers(d.regs).rip)}${d.becomes ? ` becomes tid ${d.becomes}` : ''}`;
    case 'signal':
      return `${head} ${d.signo} code ${d.code} at ${hex(new Registers(d.regs).rip)}${d.snapshot ? ` ${describeSnapshot(d.snapshot)}` : ''}`;
    case 'syscallEntry':
      return `${head} ${syscallName(d.number)}`;
    case 'fork':
      return `${head} child ${d.child} flags ${hex(d.flags)}`;
    case 'preempt':
      return `${head} ${describeSnapshot(d.snapshot)}`;
    case 'buffered':
      return `${head} ${bufferedCalls(d.records).map((c) => `${syscallName(c.number)}(${c.fd ?? ''}) = ${c.result}`).join(', ')}`;
    case 'rdtsc':
      return `${head} ${hex(d.value)} at ${hex(d.ip)}`;
    case 'cpuid':
      return `${head} ${hex(d.leaf)}.${d.subleaf} = ${[d.eax, d.ebx, d.ecx, d.edx].map((v) => hex(v >>> 0)).join(' ')}`;
    case 'exit':
      return `${head} status ${hex(d.status)}`;
    case 'interrupted':
      return head;
  }
}

function describeSnapshot(s: Snapshot): string {
  return `at ${hex(new Registers(s.regs).rip)} snapshot of ${s.pages.length / 16} pages (${s.contents.length} new)`;
}

/** JSON for one event: bigints as decimal strings, memory as hex; buffered calls one by one. */
export function eventJson(e: Event): string {
  const d = e.data.kind === 'buffered' ? { kind: e.data.kind, calls: bufferedCalls(e.data.records).map(({ at: _, ...c }) => c) } : e.data;
  return JSON.stringify({ frame: e.frame, tid: e.tid, ...d }, (_k, v) =>
    typeof v === 'bigint' ? v.toString() : v?.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('hex') : v,
  );
}

export function dumpCommand(_ctx: CliContext): CommandModule {
  return {
    command: 'dump [trace]',
    describe: 'print the events of a trace, one per line',
    builder: (y) => y.positional('trace', { type: 'string' }).option('json', { type: 'boolean', default: false, describe: 'one JSON object per line' }),
    handler: (argv) => {
      const trace = TraceReader.open(resolveTrace(argv.trace as string | undefined));
      try {
        let out = '';
        for (const e of trace.events()) {
          out += (argv.json ? eventJson(e) : describeEvent(e)) + '\n';
          if (out.length > 1 << 16) {
            writeAll(1, out);
            out = '';
          }
        }
        writeAll(1, out);
      } finally {
        trace.close();
      }
    },
  };
}
