// SPDX-License-Identifier: MIT
/**
 * The gdbserver plugin: `tsrr replay` (without -a) debugs the replay in gdb, which gdb
 * drives through the remote serial protocol; `-s PORT` serves without starting gdb. Other
 * plugins add packets, monitor and gdb commands, and saved states through gdbHooks(tsrr).
 */
import type { Tsrr } from '../../core/index.js';
import { BUILTIN_COMMANDS, builtinMonitor } from './commands.js';
import { gdbHooks } from './hooks.js';
import { serveReplay } from './serveReplay.js';

export { gdbHooks, type GdbCommand, type GdbHooks } from './hooks.js';
export type { Checkpoint, Position, SavedState } from './Timeline.js';
export type { GdbServer } from './GdbServer.js';

export default class GdbServerPlugin {
  readonly name = 'gdbserver';
  readonly version = '0.1.0';

  apply(tsrr: Tsrr): void {
    const hooks = gdbHooks(tsrr);
    hooks.monitorCommand.tap(this.name, builtinMonitor);
    hooks.gdbCommands.tap(this.name, (list) => [...BUILTIN_COMMANDS, ...list]);
    tsrr.hooks.debugReplay.tap(this.name, (session, opts) => {
      serveReplay(session, opts, hooks);
      return true;
    });
  }
}
