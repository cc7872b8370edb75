// SPDX-License-Identifier: MIT
/**
 * rr.config.ts (or .mts/.js/.mjs/.cjs), found from the current directory up to the project root,
 * and plugin specifiers: a first-party name (`pcp`), a package name or a path. Code is loaded
 * only from what the user listed there or on the command line.
 */
import type { Loader } from 'cosmiconfig';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from './Tsrr.js';
import { describeValue, isClass, isPlugin } from './pluginShape.js';
import { importUserCode, loadFailure } from './userCode.js';
import { validateConfig } from './validateConfig.js';
import { TsrrError } from '../native/TsrrError.js';

/** A plugin entry: a plugin, or a specifier string to load one, optionally with options. */
export type PluginEntry = Plugin | string | [string, unknown];

export interface Config {
  plugins?: PluginEntry[];
  /** Default plugins (DEFAULT_PLUGINS) not to load, as `--no-plugin NAME` does. */
  noPlugins?: string[];
}

/** First-party plugins loaded unless turned off (`--no-plugin NAME`, or `noPlugins` in the
 * config), by name: core never imports a plugin. */
export const DEFAULT_PLUGINS: readonly string[] = ['gdbserver', 'pcp'];

/** Identity function that gives rr.config.ts its types. */
export const defineConfig = (config: Config): Config => config;

/** jiti loads every config flavour: TypeScript, ESM and CJS, with readable syntax errors. */
const load: Loader = async (filepath) => {
  const mod = (await importUserCode(filepath, filepath)) as Record<string, unknown>;
  // jiti answers `.default` with the whole module when there is none: ask for the key itself.
  return Object.keys(mod).includes('default') ? mod.default : undefined;
};

const SEARCH_PLACES = ['rr.config.ts', 'rr.config.mts', 'rr.config.js', 'rr.config.mjs', 'rr.config.cjs'];

/** Whether a directory from `cwd` up holds a file named like a config: cosmiconfig and jiti
 * take a good part of tsrr's start to load, so they are loaded only then. */
function anyConfigFile(cwd: string): boolean {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (SEARCH_PLACES.some((f) => existsSync(join(dir, f)))) return true;
    if (dirname(dir) === dir) return false;
  }
}

export async function loadConfig(cwd: string): Promise<{ config: Config; filepath?: string }> {
  if (!anyConfigFile(cwd)) return { config: {} };
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig('rr', {
    searchPlaces: SEARCH_PLACES,
    loaders: { '.ts': load, '.mts': load, '.js': load, '.mjs': load, '.cjs': load },
    searchStrategy: 'project',
    ignoreEmptySearchPlaces: false,
  });
  let found;
  try {
    found = await explorer.search(cwd);
  } catch (e) {
    const file = (e as { filepath?: string }).filepath;
    throw new TsrrError('CONFIG_ERROR', `cannot load ${file ?? 'the tsrr config'}: ${loadFailure(e)}`, { file }, { cause: e });
  }
  if (!found) return { config: {} };
  return { config: validateConfig(found.config, found.filepath), filepath: found.filepath };
}

const FIRST_PARTY = new Set(['pcp', 'gdbserver']);

/** Loads a plugin from a specifier, relative to `base` (the config file's directory or cwd). */
export async function loadPlugin(spec: string, options: unknown, base: string): Promise<Plugin> {
  let target = spec;
  if (FIRST_PARTY.has(spec)) target = fileURLToPath(new URL(`../plugins/${spec}/index.js`, import.meta.url));
  else if (spec.startsWith('.') || isAbsolute(spec)) {
    target = resolve(base, spec);
    if (!existsSync(target)) throw new TsrrError('PLUGIN_NOT_FOUND', `plugin ${spec} not found (no file ${target})`, { plugin: spec });
  }
  let mod: unknown;
  try {
    // First-party plugins are compiled already: import them natively, as the one copy.
    mod = FIRST_PARTY.has(spec) ? (await import(pathToFileURL(target).href)).default : await importUserCode(target, resolve(base, 'rr.config.ts'), true);
  } catch (e) {
    // Only the specifier itself missing means "not found"; a module it imports missing is its error.
    const missing = /Cannot find (?:module|package) '([^']+)'/.exec(e instanceof Error ? e.message : '')?.[1];
    if (missing === spec || missing === target) {
      throw new TsrrError('PLUGIN_NOT_FOUND', `plugin ${spec} not found (not a first-party plugin, a file or an installed package)`, { plugin: spec });
    }
    throw new TsrrError('PLUGIN_ERROR', `plugin ${spec} failed to load: ${loadFailure(e)}`, { plugin: spec }, { cause: e });
  }
  return instantiate(spec, mod, options);
}

/** A module's default export is a plugin class, constructed with the options, or a plugin as it
 * is (an object with apply(tsrr), or a function taking tsrr), which takes no options. */
function instantiate(spec: string, mod: unknown, options: unknown): Plugin {
  if (isClass(mod)) {
    if (typeof (mod.prototype as { apply?: unknown }).apply !== 'function') {
      throw new TsrrError('PLUGIN_ERROR', `plugin ${spec}: its default export, ${describeValue(mod)}, has no apply(tsrr) method`, { plugin: spec });
    }
    try {
      return new mod(options) as Plugin;
    } catch (e) {
      throw new TsrrError('PLUGIN_ERROR', `plugin ${spec} failed in its constructor: ${e instanceof Error ? e.message : String(e)}`, { plugin: spec }, { cause: e });
    }
  }
  if (!isPlugin(mod)) {
    throw new TsrrError('PLUGIN_ERROR', `plugin ${spec}: its default export must be a plugin class, an object with apply(tsrr) or a function taking tsrr, not ${describeValue(mod)}`, { plugin: spec });
  }
  if (options !== undefined) {
    throw new TsrrError('PLUGIN_ERROR', `plugin ${spec} takes no options: only a plugin class is given options, its default export is ${typeof mod === 'function' ? 'a function' : 'an object'}`, { plugin: spec });
  }
  // An anonymous default export is named "default" (jiti's transform: "_default"): name it by its specifier.
  if (typeof mod === 'function' && /^(_?default)?$/.test(mod.name)) Object.defineProperty(mod, 'name', { value: spec });
  return mod;
}
