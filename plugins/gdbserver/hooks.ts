// SPDX-License-Identifier: MIT
/** The gdbserver plugin's hooks, through which other plugins add packets, monitor commands,
 * gdb commands and saved replay states. */
import { SyncBailHook, SyncHook, SyncWaterfallHook } from 'tapable';
import { defineHooks, type ReplaySession, type Tsrr } from '../../core/index.js';
import type { GdbServer } from './GdbServer.js';
import type { SavedState } from './Timeline.js';

/** A gdb command the server's init script defines: it runs `monitor NAME [ARG]`. */
export interface GdbCommand {
  readonly name: string;
  /** Whether it takes one argument. */
  readonly arg: boolean;
  readonly help: string;
}

export function createGdbHooks() {
  return defineHooks('gdbserver', {
    /** A packet from gdb, before the server's own handling: return the reply to take it over. */
    packet: new SyncBailHook<[string, GdbServer], string | undefined>(['packet', 'server']),
    /** `monitor WORDS...` in gdb: return the text to print ('' for none) to handle it. */
    monitorCommand: new SyncBailHook<[string[], GdbServer], string | undefined>(['words', 'server']),
    /** The gdb commands the init script defines; add yours (each also a monitor command). */
    gdbCommands: new SyncWaterfallHook<[GdbCommand[]]>(['commands']),
    /** Saves the replay's state where it is (`partWay` to its next event, or right after its
     * last): the saved state, why it cannot be saved there, or undefined if no plugin saves
     * states (going back then replays from the start). */
    saveState: new SyncBailHook<[ReplaySession, boolean], SavedState | string | undefined>(['session', 'partWay']),
    /** The server starts serving: add the saved states you have (server.addCheckpoint). */
    serverStarted: new SyncHook<[GdbServer]>(['server']),
  });
}

export type GdbHooks = ReturnType<typeof createGdbHooks>;

// On globalThis: a plugin loaded through jiti may get its own copy of this module.
const all: WeakMap<Tsrr, GdbHooks> = ((globalThis as Record<symbol, unknown>)[Symbol.for('tsrr.gdbserver.hooks')] ??= new WeakMap()) as WeakMap<Tsrr, GdbHooks>;

/** The gdb server hooks of `tsrr`, created on first use. */
export function gdbHooks(tsrr: Tsrr): GdbHooks {
  let h = all.get(tsrr);
  if (!h) all.set(tsrr, (h = createGdbHooks()));
  return h;
}
