// SPDX-License-Identifier: MIT
/**
 * The pcp plugin: persistent checkpoints. `tsrr create-checkpoints` saves the state of a replay
 * at events along a trace; `tsrr replay -g EVENT` then starts from the latest checkpoint at or
 * before EVENT instead of from the beginning (unless --ignore-pcp); one that cannot be used is
 * passed over for an earlier one, saying why (--strict-pcp fails instead). What a checkpoint
 * holds is whatever the serializers registered in pcpRegistry(tsrr) save; plugins add their
 * own kinds.
 */
import { AFTER_PLUGINS, TsrrError, numberOption, writeAll, type RecordSession, type ReplaySession, type Tsrr } from '../../core/index.js';
import { unsharedMemoryProblem } from './capture.js';
import { CheckpointStore } from './CheckpointStore.js';
import { serveCheckpoints } from './debugger.js';
import { checkpointRecording, checkpointsCommand, createCheckpointsCommand, rmCheckpointsCommand } from './commands.js';
import { pcpRegistry, type PcpRegistry } from './PcpRegistry.js';
import { restoreCheckpoint, usableCheckpoint } from './restore.js';
import { registerMappingSerializers } from './serializers/mappings.js';
import { registerSysvSerializers } from './serializers/sysvShm.js';
import { registerStdioSerializer } from './serializers/stdio.js';
import { registerFdMonitorSerializers } from './serializers/fdMonitors.js';
import { registerSyscallBufferSerializer } from './serializers/syscallBuffer.js';
import { registerTaskSerializer } from './serializers/task.js';
import { registerTracePositionSerializer } from './serializers/tracePosition.js';

export { pcpRegistry, type PcpRegistry, type Serializer, type SaveContext, type LoadContext } from './PcpRegistry.js';

export default class PcpPlugin {
  readonly name = 'pcp';
  readonly version = '1.0.0';
  private ignore = false;
  private strict = false;
  private recordInterval: number | undefined;

  apply(tsrr: Tsrr): void {
    const reg = pcpRegistry(tsrr);
    registerMappingSerializers(reg);
    registerStdioSerializer(reg);
    registerFdMonitorSerializers(reg);
    registerSyscallBufferSerializer(reg);
    registerTaskSerializer(reg);
    registerTracePositionSerializer(reg);
    registerSysvSerializers(reg);
    serveCheckpoints(tsrr, reg, () => this.ignore);
    tsrr.hooks.cliCommands.tap(this.name, (y, ctx) => {
      y.option('ignore-pcp', { type: 'boolean', default: false, global: true, describe: 'replay without persistent checkpoints' })
        .option('strict-pcp', { type: 'boolean', default: false, global: true, describe: 'replay: fail when the nearest persistent checkpoint cannot be used, instead of starting from an earlier one' })
        .option(...numberOption('checkpoint-interval', { what: 'a number of events', min: 1, global: true, describe: 'record: also save a checkpoint every N events' }))
        .middleware((argv) => {
          this.ignore = Boolean(argv['ignore-pcp']);
          this.strict = Boolean(argv['strict-pcp']);
          this.recordInterval = argv['checkpoint-interval'] as number | undefined;
          if (this.recordInterval !== undefined && argv._[0] !== 'record') throw new TsrrError('BAD_ARGUMENT', `--checkpoint-interval is for tsrr record, not ${argv._[0]}`);
        })
        .command(createCheckpointsCommand(ctx, reg))
        .command(checkpointsCommand(ctx))
        .command(rmCheckpointsCommand(ctx));
    });
    // Each option in the help of the command it applies to only.
    tsrr.hooks.commandOptions.tap(this.name, (command, y) => {
      if (command !== 'replay') y.hide('ignore-pcp').hide('strict-pcp');
      if (command !== 'record') y.hide('checkpoint-interval');
    });
    tsrr.hooks.sessionCreated.tap(this.name, (session) => {
      if (session.mode === 'record') {
        if (this.recordInterval !== undefined) this.checkpointWhileRecording(reg, session as RecordSession, this.recordInterval);
        return;
      }
      session.hooks.beforeLaunch.tap(this.name, () => {
        const replay = session as ReplaySession;
        const goal = replay.opts.startLimit ?? replay.opts.goto;
        if (this.ignore || goal === undefined) return undefined;
        const store = new CheckpointStore(replay.trace.dir);
        const { cp, unusable } = store.reading(() => usableCheckpoint(reg, store, goal, replay.trace.header.uuid, this.strict));
        const start = cp ? `the checkpoint at event ${cp.frame}` : 'the beginning of the trace';
        const [nearest, ...earlier] = unusable;
        if (nearest) {
          const nor = earlier.length === 0 ? '' : `; nor can ${earlier.length} earlier one${earlier.length === 1 ? '' : 's'}`;
          writeAll(2, `tsrr: the checkpoint at event ${nearest.frame} cannot be used (${nearest.why})${nor}; starting from ${start}\n`);
        }
        if (!cp) {
          store.chunks.close();
          return undefined;
        }
        if (!nearest) writeAll(2, `tsrr: starting from ${start}\n`);
        return restoreCheckpoint(reg, store, replay, cp);
      });
    });
  }

  /** A recording's state at an event is the replay's state there: checkpoint it right away. */
  private checkpointWhileRecording(reg: PcpRegistry, session: RecordSession, interval: number): void {
    let next = interval;
    let store: CheckpointStore | undefined; // the trace directory exists once recording runs
    // After the other plugins' taps: the checkpoint holds their state after this event.
    session.hooks.eventRecorded.tap({ name: this.name, stage: AFTER_PLUGINS }, (e, task) => {
      if (e.frame < next || !e.canCheckpointAt() || session.tasks.size !== 1 || unsharedMemoryProblem(session, [[task]])) return;
      checkpointRecording(reg, (store ??= new CheckpointStore(session.trace.dir)), session, task, e.frame);
      next = e.frame + interval;
    });
  }
}
