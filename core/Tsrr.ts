// SPDX-License-Identifier: MIT
/**
 * The root object, one per tsrr process: the plugins that were applied and the hooks through
 * which they reach every session and the command line.
 */
import { SyncBailHook, SyncHook } from 'tapable';
import type { Argv } from 'yargs';
import type { CliContext } from './CliContext.js';
import { defineHooks } from './hooks.js';
import { isPlugin } from './pluginShape.js';
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
    /** Core command `command` ('record', 'replay', ...) is building its options: add options of
     * its own, or hide from its help the global options that do not apply to it. */
    commandOptions: new SyncHook<[string, Argv]>(['command', 'yargs']),
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
    let made: unknown;
    const outer = this.current;
    this.current = name;
    try {
      if (typeof plugin === 'function') made = plugin(this);
      else plugin.apply(this);
    } catch (e) {
      throw new TsrrError('PLUGIN_ERROR', `plugin ${name} failed while being applied: ${e instanceof Error ? e.message : String(e)}`, { plugin: name, hook: 'apply' }, { cause: e });
    } finally {
      this.current = outer;
    }
    // A function that returns a plugin was written as a factory: it tapped nothing itself.
    if (isPlugin(made)) {
      throw new TsrrError('PLUGIN_ERROR', `plugin ${name} is a function that returned a plugin: a function plugin taps hooks itself (a plugin class takes options)`, { plugin: name, hook: 'apply' });
    }
    this.plugins.push({ name, version });
  }
}
