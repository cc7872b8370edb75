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
  const { createJiti } = await import('jiti');
  const mod = (await createJiti(import.meta.url).import(filepath)) as Record<string, unknown>;
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
    throw new TsrrError('CONFIG_ERROR', `cannot load ${file ?? 'the tsrr config'}: ${firstLine(e)}`, { file }, { cause: e });
  }
  if (!found) return { config: {} };
  const config = found.config as Config | undefined;
  if (config === undefined || config === null || typeof config !== 'object' || (config.plugins !== undefined && !Array.isArray(config.plugins))) {
    throw new TsrrError('CONFIG_ERROR', `${found.filepath}: the default export must be defineConfig({ plugins: [...] })`, { file: found.filepath });
  }
  const off = config.noPlugins;
  if (off !== undefined && (!Array.isArray(off) || off.some((n) => typeof n !== 'string'))) {
    throw new TsrrError('CONFIG_ERROR', `${found.filepath}: noPlugins must be a list of default plugin names (${DEFAULT_PLUGINS.join(', ')})`, { file: found.filepath });
  }
  return { config, filepath: found.filepath };
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
    mod = FIRST_PARTY.has(spec) ? (await import(pathToFileURL(target).href)).default : await (await import('jiti')).createJiti(resolve(base, 'rr.config.ts')).import(target, { default: true });
  } catch (e) {
    // Only the specifier itself missing means "not found"; a module it imports missing is its error.
    const missing = /Cannot find (?:module|package) '([^']+)'/.exec(e instanceof Error ? e.message : '')?.[1];
    if (missing === spec || missing === target) {
      throw new TsrrError('PLUGIN_NOT_FOUND', `plugin ${spec} not found (not a first-party plugin, a file or an installed package)`, { plugin: spec });
    }
    throw new TsrrError('PLUGIN_ERROR', `plugin ${spec} failed to load: ${firstLine(e)}`, { plugin: spec }, { cause: e });
  }
  return instantiate(spec, mod, options);
}

/** A module's default export may be a plugin, a plugin class or a factory taking options. */
function instantiate(spec: string, mod: unknown, options: unknown): Plugin {
  if (typeof mod === 'object' && mod !== null && typeof (mod as { apply?: unknown }).apply === 'function') return mod as Plugin;
  if (typeof mod === 'function') {
    const fn = mod as { prototype?: { apply?: unknown } } & ((...a: unknown[]) => unknown);
    if (fn.prototype && typeof fn.prototype.apply === 'function') return new (fn as unknown as new (o: unknown) => Plugin)(options);
    const made = fn(options);
    if (typeof made === 'object' && made !== null && typeof (made as { apply?: unknown }).apply === 'function') return made as Plugin;
    if (typeof made === 'function') return made as Plugin;
  }
  throw new TsrrError('PLUGIN_ERROR', `plugin ${spec} does not export a plugin (a class or object with apply(tsrr), or a function)`, { plugin: spec });
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
