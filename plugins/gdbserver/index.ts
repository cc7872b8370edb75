// SPDX-License-Identifier: MIT
/**
 * The gdbserver plugin: `tsrr replay` (without -a) debugs the replay in gdb, which gdb
 * drives through the remote serial protocol; `-s PORT` serves without starting gdb. Other
 * plugins add packets and monitor commands through gdbHooks(tsrr).
 */
import type { Tsrr } from '../../core/index.js';
import { gdbHooks } from './hooks.js';
import { serveReplay } from './serveReplay.js';

export { gdbHooks, type GdbHooks } from './hooks.js';
export type { GdbServer } from './GdbServer.js';

export default class GdbServerPlugin {
  readonly name = 'gdbserver';
  readonly version = '0.1.0';

  apply(tsrr: Tsrr): void {
    const hooks = gdbHooks(tsrr);
    hooks.monitorCommand.tap(this.name, (words, server) => (words[0] === 'when' ? `Current event: ${server.session.frame}\n` : undefined));
    tsrr.hooks.debugReplay.tap(this.name, (session, opts) => {
      serveReplay(session, opts, hooks);
      return true;
    });
  }
}
