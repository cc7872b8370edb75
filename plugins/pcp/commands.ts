// SPDX-License-Identifier: MIT
/** The commands the pcp plugin adds: create-checkpoints, checkpoints, rm-checkpoints. */
import type { CommandModule } from 'yargs';
import { AFTER_PLUGINS, ReplaySession, TraceReader, TsrrError, mappedFilePath, numberOption, progressBar, readLink, replayCpu, resolveTrace, writeAll, type CliContext, type RecordSession, type Task } from '../../core/index.js';
import { captureCheckpoint, replayCopyOf, whileCheckpointable } from './capture.js';
import { CheckpointStore, type StoredCheckpoint } from './CheckpointStore.js';
import type { PcpRegistry } from './PcpRegistry.js';

const mib = (n: number | bigint) => (Number(n) / 1048576).toFixed(1) + ' MiB';

/** Checkpoints `task`, a recording's only task, at `frame`: mapped files are the originals,
 * each with its copy in the trace (found through the mapping, core/procfs.ts mappedFilePath). */
export function checkpointRecording(reg: PcpRegistry, store: CheckpointStore, session: RecordSession, task: Task, frame: number) {
  const writer = session.trace;
  return captureCheckpoint(reg, store, {
    session,
    frame,
    traceUuid: writer.header.uuid,
    processes: [{ tasks: [{ task, held: false }] }],
    traceCopyOf: (t, m) => writer.copyOf(mappedFilePath(t.tid, m)),
    executableOf: (t) => programCopy(t, writer.copyOf(`/proc/${t.tid}/exe`)),
  });
}

/** Checkpoints every task of a replay after event `frame`, or says why it cannot now. */
export function checkpointReplay(reg: PcpRegistry, store: CheckpointStore, session: ReplaySession, frame: number): StoredCheckpoint | string {
  const copyOf = replayCopyOf(store.traceDir);
  return whileCheckpointable(session, (processes) =>
    captureCheckpoint(reg, store, {
      session,
      frame,
      traceUuid: session.trace.header.uuid,
      processes,
      traceCopyOf: (_t, m) => copyOf(m.path),
      executableOf: (t) => replayProgram(t, copyOf),
    }),
  );
}

/** The trace's copy of the program a replayed task runs. */
export function replayProgram(task: Task, copyOf: (path: string) => string | undefined): string {
  return programCopy(task, copyOf(readLink(`/proc/${task.tid}/exe`)));
}

function programCopy(task: Task, copy: string | undefined): string {
  if (!copy) throw new TsrrError('INTERNAL', `task ${task.tid}: its program has no copy in the trace`, { tid: task.tid });
  return copy;
}

/** Events between checkpoints, without -i. */
const DEFAULT_INTERVAL = 10000;

export function createCheckpointsCommand(ctx: CliContext, reg: PcpRegistry): CommandModule {
  return {
    command: 'create-checkpoints [trace]',
    describe: 'replay a trace once and save persistent checkpoints along the way',
    builder: (y) =>
      y
        .positional('trace', { type: 'string' })
        .option(...numberOption('interval', { alias: 'i', what: 'a number of events', min: 1, defaultDescription: String(DEFAULT_INTERVAL), describe: 'events between checkpoints' }))
        .option(...numberOption('start', { alias: 's', what: 'an event number', min: 1, describe: 'first event to checkpoint at (default: one interval in)' }))
        .option(...numberOption('end', { alias: 'e', what: 'an event number', min: 1, describe: 'last event to checkpoint at (default: the end)' })),
    handler: (argv) => {
      const interval = (argv.interval as number | undefined) ?? DEFAULT_INTERVAL;
      const trace = TraceReader.open(resolveTrace(argv.trace as string | undefined));
      const store = new CheckpointStore(trace.dir);
      const start = (argv.start as number | undefined) ?? interval;
      const end = Math.min((argv.end as number | undefined) ?? trace.frameCount, trace.frameCount);
      if (start > end) throw new TsrrError('BAD_ARGUMENT', `--start ${start} is after --end ${end} (the trace has ${trace.frameCount} events)`);
      const session = new ReplaySession({ trace, cpu: replayCpu(trace.header.machine), goto: end, startLimit: start, echo: false, interrupted: ctx.control.interrupted });
      ctx.tsrr.hooks.sessionCreated.call(session);
      const bar = progressBar('checkpoints {bar} {value}/{total} events | {made} made');
      bar?.start(end, 0, { made: 0 });
      let next = start;
      let made = 0;
      /** Why the last frame due a checkpoint got none. */
      let obstacle: string | undefined;
      session.hooks.eventReplayed.tap({ name: 'pcp', stage: AFTER_PLUGINS }, (e) => {
        if ((e.frame & 255) === 0) bar?.update(e.frame, { made });
        if (e.frame < next || e.frame > end || !e.canCheckpointAt()) return;
        const cp = checkpointReplay(reg, store, session, e.frame);
        if (typeof cp === 'string') {
          obstacle = `event ${e.frame}: ${cp}`;
          return;
        }
        obstacle = undefined;
        made++;
        next = e.frame + interval;
      });
      try {
        session.run();
      } finally {
        session.killAll();
        bar?.update(end, { made });
        bar?.stop();
        trace.close();
      }
      writeAll(2, `tsrr: created ${made} checkpoint${made === 1 ? '' : 's'} in ${store.dir}\n`);
      if (obstacle) writeAll(2, `tsrr: no checkpoint could be made after the last one: ${obstacle}\n`);
      if (made === 0) ctx.exit(2);
    },
  };
}

export function checkpointsCommand(_ctx: CliContext): CommandModule {
  return {
    command: 'checkpoints [trace]',
    describe: 'list the persistent checkpoints of a trace',
    builder: (y) => y.positional('trace', { type: 'string' }).option('json', { type: 'boolean', default: false }),
    handler: (argv) => {
      const store = new CheckpointStore(resolveTrace(argv.trace as string | undefined));
      const rows = store.reading(() =>
        store.list().map((cp) => {
          const m = store.manifest(cp);
          return { event: cp.frame, stored: Number(m.storedBytes) + store.size(cp), memory: Number(m.memoryBytes), kinds: m.needs.map((n) => `${n.kind}@${n.version}`) };
        }),
      );
      if (argv.json) writeAll(1, JSON.stringify(rows) + '\n');
      else writeAll(1, ['EVENT\tSTORED\tMEMORY\tKINDS', ...rows.map((r) => `${r.event}\t${mib(r.stored)}\t${mib(r.memory)}\t${r.kinds.join(' ')}`)].join('\n') + '\n');
    },
  };
}

export function rmCheckpointsCommand(_ctx: CliContext): CommandModule {
  return {
    command: 'rm-checkpoints [trace]',
    describe: 'delete persistent checkpoints (all, or those at -g EVENT)',
    builder: (y) => y.positional('trace', { type: 'string' }).option(...numberOption('goto', { alias: 'g', what: 'an event number', min: 1, array: true, describe: 'event of a checkpoint to delete; repeatable' })),
    handler: (argv) => {
      const store = new CheckpointStore(resolveTrace(argv.trace as string | undefined));
      const removed = store.remove(argv.goto as number[] | undefined);
      writeAll(2, `tsrr: removed ${removed.length} checkpoint${removed.length === 1 ? '' : 's'}\n`);
    },
  };
}
