// SPDX-License-Identifier: MIT
/** `tsrr dump [--json] [-t TID] [TRACE] [EVENTS...]`: one line per event. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeAll } from '../writeAll.js';
import { numberOption } from '../optionValues.js';
import { PID_MAX_LIMIT } from './replay.js';
import { TsrrError } from '../../native/TsrrError.js';
import type { CommandModule } from 'yargs';
import { Registers } from '../../native/regs.js';
import { syscallName } from '../../native/syscalls.js';
import { bufferedCalls } from '../syscallBuffer.js';
import type { CliContext } from '../CliContext.js';
import type { Event, Snapshot } from '../Event.js';
import { resolveTrace, traceRoot } from '../traceDir.js';
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

/** An event spec of rr's dump: `N`, `N-M` or `N-` (to the end). */
const EVENT_SPEC = /^([0-9]+)(?:-([0-9]*))?$/;

/** The events `spec` names in a trace of `count` events: [first, last]. */
function eventRange(spec: string, count: number): [number, number] {
  const m = EVENT_SPEC.exec(spec);
  if (!m) throw new TsrrError('BAD_ARGUMENT', `dump: ${JSON.stringify(spec)} is not an event or a range of events (N, N-M or N-)`, { spec });
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : m[2] === '' ? count : Number(m[2]);
  if (first < 1 || last < first) throw new TsrrError('BAD_ARGUMENT', `dump: ${spec} is not a range of events (they start at 1, and N-M needs M >= N)`, { spec });
  if (first > count) throw new TsrrError('BAD_ARGUMENT', `dump: ${spec}: the trace has events 1-${count}`, { spec });
  return [first, Math.min(last, count)];
}

/** The trace and the event specs of `dump [TRACE] [SPEC...]`: a first word that looks like a
 * spec is one, unless it names a trace. */
function traceAndSpecs(words: string[]): { trace: string | undefined; specs: string[] } {
  const [first, ...rest] = words;
  if (first === undefined) return { trace: undefined, specs: [] };
  if (EVENT_SPEC.test(first) && !existsSync(first) && !existsSync(join(traceRoot(), first))) return { trace: undefined, specs: words };
  return { trace: first, specs: rest };
}

export function dumpCommand(_ctx: CliContext): CommandModule {
  return {
    command: 'dump [trace] [events..]',
    describe: 'print the events of a trace, one per line (all, or those of the event specs: N, N-M, N-)',
    builder: (y) =>
      y
        .positional('trace', { type: 'string', describe: 'trace directory or name (default: the latest)' })
        .positional('events', { type: 'string', array: true, describe: 'events to print: N, N-M or N- (to the end)' })
        .option(...numberOption('tid', { alias: 't', what: 'a thread id', min: 1, max: PID_MAX_LIMIT, describe: 'only the events of this thread' }))
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object per line' }),
    handler: (argv) => {
      const { trace: name, specs } = traceAndSpecs([argv.trace as string | undefined, ...((argv.events as string[] | undefined) ?? [])].filter((w): w is string => w !== undefined).map(String));
      const tid = argv.tid as number | undefined;
      const trace = TraceReader.open(resolveTrace(name));
      try {
        const ranges = specs.length > 0 ? specs.map((s) => eventRange(s, trace.frameCount)) : [[1, trace.frameCount] as [number, number]];
        let out = '';
        let printed = 0;
        for (const [first, last] of ranges) {
          trace.forwardTo(first);
          for (let e = trace.next(); e && e.frame <= last; e = trace.next()) {
            if (tid !== undefined && e.tid !== tid) continue;
            out += (argv.json ? eventJson(e) : describeEvent(e)) + '\n';
            printed++;
            if (out.length > 1 << 16) {
              writeAll(1, out);
              out = '';
            }
          }
        }
        writeAll(1, out);
        if (printed === 0 && tid !== undefined && !hasTask(trace, tid)) throw new TsrrError('BAD_ARGUMENT', `dump -t ${tid}: no thread ${tid} in ${trace.dir} (tsrr ps lists the processes)`, { tid });
      } finally {
        trace.close();
      }
    },
  };
}

/** Whether thread `tid` has an event anywhere in the trace. */
function hasTask(trace: TraceReader, tid: number): boolean {
  trace.forwardTo(1);
  for (const e of trace.events()) if (e.tid === tid) return true;
  return false;
}
