// SPDX-License-Identifier: MIT
/**
 * Hook objects: each long-lived owner declares its hooks once, in one frozen object. Anything a
 * tap throws is rethrown as a PLUGIN_ERROR naming the plugin (the tap's name) and the hook.
 */
import type { Hook } from 'tapable';
import { TsrrError, isTsrrError } from './TsrrError.js';

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

function pluginError(plugin: string, hook: string, e: unknown): TsrrError {
  if (isTsrrError(e) && e.code === 'PLUGIN_ERROR') return e;
  const why = e instanceof Error ? e.message : String(e);
  return new TsrrError('PLUGIN_ERROR', `plugin ${plugin} failed in ${hook}: ${why}`, { plugin, hook }, { cause: e });
}
