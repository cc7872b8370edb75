// SPDX-License-Identifier: MIT
/**
 * Hook objects: each long-lived owner declares its hooks once, in one frozen object. Anything a
 * tap throws is rethrown as a PLUGIN_ERROR naming the plugin (the tap's name) and the hook;
 * a TsrrError keeps its code and message and gets the plugin and hook in its context.
 */
import type { Hook } from 'tapable';
import { TsrrError, isTsrrError } from '../native/TsrrError.js';

type AnyHook = Hook<any, any>;

export function defineHooks<T extends Record<string, AnyHook>>(owner: string, hooks: T): Readonly<T> {
  for (const [name, hook] of Object.entries(hooks)) {
    const where = `${owner}.hooks.${name}`;
    hook.intercept({
      register: (tap) => {
        const fn = tap.fn as (...a: unknown[]) => unknown;
        const wrapped =
          tap.type === 'sync'
            ? (...args: unknown[]) => {
                try {
                  return fn(...args);
                } catch (e) {
                  throw pluginError(tap.name, where, e);
                }
              }
            : tap.type === 'promise'
              ? async (...args: unknown[]) => {
                  try {
                    return await fn(...args);
                  } catch (e) {
                    throw pluginError(tap.name, where, e);
                  }
                }
              : fn;
        return { ...tap, fn: wrapped };
      },
    });
  }
  return Object.freeze(hooks);
}

/** A tap stage (`hook.tap({ name, stage: AFTER_PLUGINS }, fn)`) for a tap that must see what
 * every other tap of the hook did, whatever order the plugins were listed in: pcp's checkpoints
 * save the state plugins keep, after their taps of the same event. */
export const AFTER_PLUGINS = 1000;

/** Whether any plugin tapped `hook`: isUsed() cannot tell, it counts the interceptor above. */
export const hasTaps = (hook: AnyHook): boolean => hook.taps.length > 0;

function pluginError(plugin: string, hook: string, e: unknown): TsrrError {
  // A TsrrError is a plugin's own, deliberate report: keep its code and words, note where.
  if (isTsrrError(e)) {
    e.context.plugin ??= plugin;
    e.context.hook ??= hook;
    return e;
  }
  const why = e instanceof Error ? e.message : String(e);
  return new TsrrError('PLUGIN_ERROR', `plugin ${plugin} failed in ${hook}: ${why}`, { plugin, hook }, { cause: e });
}
