// SPDX-License-Identifier: MIT
/**
 * The pcp plugin: persistent checkpoints. `tsrr create-checkpoints` saves the state of a replay
 * at events along a trace; `tsrr replay -g EVENT` then starts from the latest checkpoint at or
 * before EVENT instead of from the beginning (unless --ignore-pcp). What a checkpoint holds is
 * whatever the serializers registered in pcpRegistry(tsrr) save; plugins add their own kinds.
 */
import { writeAll, type ReplaySession, type Tsrr } from '../../core/index.js';
import { CheckpointStore } from './CheckpointStore.js';
import { checkpointsCommand, createCheckpointsCommand, rmCheckpointsCommand } from './commands.js';
import { pcpRegistry } from './PcpRegistry.js';
import { loadCheckpoint, nearestCheckpoint, restoreCheckpoint } from './restore.js';
import { registerMappingSerializers } from './serializers/mappings.js';
import { registerStdioSerializer } from './serializers/stdio.js';
import { registerTaskSerializer } from './serializers/task.js';
import { registerTracePositionSerializer } from './serializers/tracePosition.js';

export { pcpRegistry, type PcpRegistry, type Serializer, type SaveContext, type LoadContext } from './PcpRegistry.js';

export default class PcpPlugin {
  readonly name = 'pcp';
  readonly version = '1.0.0';
  private ignore = false;

  apply(tsrr: Tsrr): void {
    const reg = pcpRegistry(tsrr);
    registerMappingSerializers(reg);
    registerStdioSerializer(reg);
    registerTaskSerializer(reg);
    registerTracePositionSerializer(reg);
    tsrr.hooks.cliCommands.tap(this.name, (y, ctx) => {
      y.option('ignore-pcp', { type: 'boolean', default: false, global: true, describe: 'replay without persistent checkpoints' })
        .middleware((argv) => void (this.ignore = Boolean(argv['ignore-pcp'])))
        .command(createCheckpointsCommand(ctx, reg))
        .command(checkpointsCommand(ctx))
        .command(rmCheckpointsCommand(ctx));
    });
    tsrr.hooks.sessionCreated.tap(this.name, (session) => {
      if (session.mode !== 'replay') return;
      session.hooks.beforeLaunch.tap(this.name, () => {
        const replay = session as ReplaySession;
        const goal = replay.opts.goto;
        if (this.ignore || goal === undefined) return undefined;
        const store = new CheckpointStore(replay.trace.dir);
        const nearest = nearestCheckpoint(store, goal);
        if (!nearest) return undefined;
        const cp = loadCheckpoint(reg, store, nearest, replay.trace.header.uuid);
        writeAll(2, `tsrr: starting from the checkpoint at event ${cp.frame}\n`);
        return restoreCheckpoint(reg, store, replay, cp);
      });
    });
  }
}
