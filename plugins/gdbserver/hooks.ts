// SPDX-License-Identifier: MIT
/** The gdbserver plugin's hooks, through which other plugins add packets and monitor commands. */
import { SyncBailHook } from 'tapable';
import { defineHooks, type Tsrr } from '../../core/index.js';
import type { GdbServer } from './GdbServer.js';

export function createGdbHooks() {
  return defineHooks('gdbserver', {
    /** A packet from gdb, before the server's own handling: return the reply to take it over. */
    packet: new SyncBailHook<[string, GdbServer], string | undefined>(['packet', 'server']),
    /** `monitor WORDS...` in gdb: return the text to print ('' for none) to handle it. */
    monitorCommand: new SyncBailHook<[string[], GdbServer], string | undefined>(['words', 'server']),
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
