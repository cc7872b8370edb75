// SPDX-License-Identifier: MIT
/**
 * Checks what a config file exported before tsrr uses it: a misspelled key (`plugin:`) or an
 * entry tsrr cannot load is an error naming the file and the key, not silently ignored.
 */
import type { Config } from './config.js';
import { describeValue, isPlugin } from './pluginShape.js';
import { TsrrError } from '../native/TsrrError.js';

/** The keys a config may have (the type makes a key added to Config be listed here). */
const KEYS = Object.keys({ plugins: true, noPlugins: true } satisfies Record<keyof Config, true>);

const ENTRY = 'a plugin (an object with apply(tsrr), or a function taking tsrr), a specifier string, or [specifier, options]';

function checkEntry(entry: unknown): boolean {
  if (typeof entry === 'string') return entry !== '';
  if (Array.isArray(entry)) return (entry.length === 1 || entry.length === 2) && typeof entry[0] === 'string' && entry[0] !== '';
  return isPlugin(entry);
}

export function validateConfig(config: unknown, file: string): Config {
  const fail = (message: string, key?: string): never => {
    throw new TsrrError('CONFIG_ERROR', `${file}: ${message}`, { file, key });
  };
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    return fail(`the default export must be defineConfig({ plugins: [...] }), not ${describeValue(config)}`);
  }
  for (const key of Object.keys(config)) {
    if (!KEYS.includes(key)) fail(`unknown key "${key}" (a config has: ${KEYS.join(', ')})`, key);
  }
  const { plugins, noPlugins } = config as Config;
  if (noPlugins !== undefined && (!Array.isArray(noPlugins) || noPlugins.some((n) => typeof n !== 'string'))) {
    fail(`noPlugins must be a list of default plugin names, not ${describeValue(noPlugins)}`, 'noPlugins');
  }
  if (plugins === undefined) return config;
  if (!Array.isArray(plugins)) return fail(`plugins must be an array, not ${describeValue(plugins)}`, 'plugins');
  plugins.forEach((entry, i) => {
    if (!checkEntry(entry)) fail(`plugins[${i}] must be ${ENTRY}, not ${describeValue(entry)}`, `plugins[${i}]`);
  });
  return config;
}
