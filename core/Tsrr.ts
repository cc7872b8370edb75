// SPDX-License-Identifier: MIT
/**
 * The root object, one per tsrr process: the plugins that were applied and the hooks through
 * which they reach every session and the command line.
 */
import { SyncBailHook, SyncHook } from 'tapable';
import type { Argv } from 'yargs';
import type { CliContext } from './CliContext.js';
import { defineHooks } from './hooks.js';
import type { DebuggerOptions, ReplaySession } from './ReplaySession.js';
import type { Session } from './Session.js';
import { TsrrError } from '../native/TsrrError.js';

/** A plugin: an object with `apply(tsrr)` (a class instance, usually) or a plain function. */
export type Plugin =
  | { readonly name: string; readonly version?: string; apply(tsrr: Tsrr): void }
  | ((tsrr: Tsrr) => void);

export function createRootHooks() {
  return defineHooks('Tsrr', {
    /** A record or replay session was created, before its first task starts. */
    sessionCreated: new SyncHook<[Session]>(['session']),
    /** The command line is being built: add commands and options to the yargs instance; the
     * context is what core's commands get too. */
    cliCommands: new SyncHook<[Argv, CliContext]>(['yargs', 'context']),
    /** `tsrr replay` without -a: a debugger plugin serves the session (created, not started)
     * until the debugger is done; a tap that does returns true. */
    debugReplay: new SyncBailHook<[ReplaySession, DebuggerOptions], true | undefined>(['session', 'options']),
  });
}

export class Tsrr {
  readonly hooks = createRootHooks();
  readonly plugins: { name: string; version: string }[] = [];
  private current: string | undefined;

  /** The name of the plugin whose apply() runs now, if one does: registries note it as the
   * owner of what it registers. */
  get applying(): string | undefined {
    return this.current;
  }

  apply(plugin: Plugin): void {
    const name = typeof plugin === 'function' ? plugin.name || 'anonymous plugin' : plugin.name;
    const version = (typeof plugin === 'function' ? undefined : plugin.version) ?? '0.0.0';
    const outer = this.current;
    this.current = name;
    try {
      if (typeof plugin === 'function') plugin(this);
      else plugin.apply(this);
    } catch (e) {
      throw new TsrrError('PLUGIN_ERROR', `plugin ${name} failed while being applied: ${e instanceof Error ? e.message : String(e)}`, { plugin: name, hook: 'apply' }, { cause: e });
    } finally {
      this.current = outer;
    }
    this.plugins.push({ name, version });
  }
}
