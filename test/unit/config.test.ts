// SPDX-License-Identifier: MIT
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defineConfig, loadConfig, loadPlugin } from '../../core/config.js';
import { Tsrr, type Plugin } from '../../core/Tsrr.js';
import { pcpRegistry } from '../../plugins/pcp/index.js';
import { TsrrError, type ErrorCode } from '../../native/TsrrError.js';

const root = mkdtempSync(join(tmpdir(), 'tsrr-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh project directory (with package.json, which ends the config search) holding `files`. */
function project(files: Record<string, string>): string {
  const dir = join(root, `p${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), '{"name":"fixture","type":"module"}');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, ...mentions: string[]): Promise<TsrrError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TsrrError, `expected TsrrError ${code}, got ${caught instanceof Error ? caught.stack : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const m of mentions) assert.ok(caught.message.includes(m), `"${caught.message}" does not mention ${m}`);
  return caught;
}

/** Applies `plugin` and returns what it recorded on a fresh Tsrr. */
function applied(plugin: Plugin): Tsrr {
  const tsrr = new Tsrr();
  tsrr.apply(plugin);
  return tsrr;
}

test('defineConfig is the identity', () => {
  const c = { plugins: ['x'] };
  assert.equal(defineConfig(c), c);
});

const HELPER_TS = `
export interface Opts { level: number }
export const pluginName: string = 'from-helper';
export function makePlugin(opts: Opts) {
  return { name: pluginName, version: String(opts.level), apply(_t: unknown): void {} };
}
`;

const goodConfigs: [name: string, files: Record<string, string>, cwd: string, check: (config: Awaited<ReturnType<typeof loadConfig>>['config']) => void, file: string][] = [
  [
    'rr.config.ts importing a local .ts file',
    {
      'rr.config.ts': `import { makePlugin, type Opts } from './helper.ts';\nconst o: Opts = { level: 3 };\nexport default { plugins: [makePlugin(o), 'pcp', ['./p.mjs', { a: 1 }]] };\n`,
      'helper.ts': HELPER_TS,
    },
    '.',
    (c) => {
      assert.equal(c.plugins?.length, 3);
      const [p, spec, withOpts] = c.plugins!;
      assert.ok(p && typeof p === 'object' && !Array.isArray(p));
      assert.deepEqual(applied(p as Plugin).plugins, [{ name: 'from-helper', version: '3' }]);
      assert.equal(spec, 'pcp');
      assert.deepEqual(withOpts, ['./p.mjs', { a: 1 }]);
    },
    'rr.config.ts',
  ],
  [
    'rr.config.ts importing a .ts file by its .js name',
    {
      'rr.config.ts': `import { makePlugin } from './lib/helper.js';\nexport default { plugins: [makePlugin({ level: 1 })] };\n`,
      'lib/helper.ts': HELPER_TS,
    },
    '.',
    (c) => assert.deepEqual(applied(c.plugins![0] as Plugin).plugins, [{ name: 'from-helper', version: '1' }]),
    'rr.config.ts',
  ],
  ['rr.config.mjs', { 'rr.config.mjs': `export default { plugins: ['./a.mjs', 'some-package'] };\n` }, '.', (c) => assert.deepEqual(c, { plugins: ['./a.mjs', 'some-package'] }), 'rr.config.mjs'],
  ['rr.config.mts', { 'rr.config.mts': `const p: string[] = ['x'];\nexport default { plugins: p };\n` }, '.', (c) => assert.deepEqual(c, { plugins: ['x'] }), 'rr.config.mts'],
  ['rr.config.cjs', { 'rr.config.cjs': `module.exports = { plugins: ['c'] };\n` }, '.', (c) => assert.deepEqual(c, { plugins: ['c'] }), 'rr.config.cjs'],
  ['a config without plugins', { 'rr.config.mjs': `export default {};\n` }, '.', (c) => assert.deepEqual(c, {}), 'rr.config.mjs'],
  ['found from a subdirectory', { 'rr.config.mjs': `export default { plugins: ['up'] };\n`, 'src/deep/.keep': '' }, 'src/deep', (c) => assert.deepEqual(c, { plugins: ['up'] }), 'rr.config.mjs'],
  ['rr.config.ts wins over rr.config.mjs', { 'rr.config.ts': `export default { plugins: ['ts'] };\n`, 'rr.config.mjs': `export default { plugins: ['mjs'] };\n` }, '.', (c) => assert.deepEqual(c, { plugins: ['ts'] }), 'rr.config.ts'],
];

for (const [name, files, cwd, check, file] of goodConfigs) {
  test(`loadConfig: ${name}`, async () => {
    const dir = project(files);
    const { config, filepath } = await loadConfig(join(dir, cwd));
    assert.equal(filepath, join(dir, file));
    check(config);
  });
}

test('loadConfig: no config file → empty config and no filepath', async () => {
  const dir = project({ 'src/.keep': '' });
  assert.deepEqual(await loadConfig(dir), { config: {} });
  assert.deepEqual(await loadConfig(join(dir, 'src')), { config: {} });
});

test('loadConfig: the search stops at the project root (package.json)', async () => {
  const outer = project({ 'rr.config.mjs': `export default { plugins: ['outer'] };\n`, 'inner/package.json': '{}', 'inner/src/.keep': '' });
  assert.deepEqual(await loadConfig(join(outer, 'inner/src')), { config: {} });
});

const badConfigs: [name: string, files: Record<string, string>, file: string][] = [
  ['default export is a number', { 'rr.config.mjs': 'export default 42;\n' }, 'rr.config.mjs'],
  ['default export is a string', { 'rr.config.ts': "export default 'plugins';\n" }, 'rr.config.ts'],
  ['plugins is not an array', { 'rr.config.mjs': "export default { plugins: 'pcp' };\n" }, 'rr.config.mjs'],
  ['plugins is an object', { 'rr.config.ts': 'export default { plugins: { a: 1 } };\n' }, 'rr.config.ts'],
  ['default export is null', { 'rr.config.mjs': 'export default null;\n' }, 'rr.config.mjs'],
  ['no default export (.mjs)', { 'rr.config.mjs': "export const plugins = ['pcp'];\n" }, 'rr.config.mjs'],
  ['no default export (.ts)', { 'rr.config.ts': "export const plugins = 'pcp';\n" }, 'rr.config.ts'],
];

for (const [name, files, file] of badConfigs) {
  test(`loadConfig: invalid default export → CONFIG_ERROR naming the file: ${name}`, async () => {
    const dir = project(files);
    const e = await rejectsWith(loadConfig(dir), 'CONFIG_ERROR', join(dir, file));
    assert.equal(e.context.file, join(dir, file));
  });
}

const brokenConfigs: [name: string, files: Record<string, string>][] = [
  ['syntax error in rr.config.ts', { 'rr.config.ts': 'export default { plugins: [ };\n' }],
  ['syntax error in rr.config.mjs', { 'rr.config.mjs': 'export default {{{ plugins\n' }],
  ['rr.config.ts throws while loading', { 'rr.config.ts': "throw new Error('config exploded');\nexport default {};\n" }],
  ['rr.config.ts imports a missing file', { 'rr.config.ts': "import x from './nope.ts';\nexport default { plugins: [x] };\n" }],
];

for (const [name, files] of brokenConfigs) {
  test(`loadConfig: ${name} → CONFIG_ERROR`, async () => {
    const dir = project(files);
    await rejectsWith(loadConfig(dir), 'CONFIG_ERROR');
  });
}

const syntaxErrors: [name: string, file: string, text: string, line: number][] = [
  ['rr.config.ts', 'rr.config.ts', 'export default { plugins: [ };\n', 1],
  ['rr.config.mjs', 'rr.config.mjs', 'export default {{{ plugins\n', 1],
  ['rr.config.ts, further down', 'rr.config.ts', "import { defineConfig } from 'tsrr';\n\nexport default defineConfig({\n  plugins: ['pcp',, ;\n});\n", 4],
  ['rr.config.cjs', 'rr.config.cjs', 'module.exports = {\n  plugins: [],\n}}\n', 3],
];

for (const [name, file, text, line] of syntaxErrors) {
  test(`loadConfig: a syntax error in ${name} is reported as one, naming the file and the line`, async () => {
    const dir = project({ [file]: text });
    const e = await rejectsWith(loadConfig(dir), 'CONFIG_ERROR', `syntax error at ${join(dir, file)}:${line}:`);
    assert.doesNotMatch(e.message, /bug in Node\.js/);
  });
}

const invalidConfigs: [name: string, text: string, mentions: string[], key: string][] = [
  ['a misspelled key', "export default { plugin: ['pcp'] };\n", ['unknown key "plugin"', 'plugins'], 'plugin'],
  ['a key of another tool', "export default { plugins: [], outDir: 'x' };\n", ['unknown key "outDir"'], 'outDir'],
  ['an entry that is a number', "export default { plugins: ['pcp', 42] };\n", ['plugins[1]', 'a number'], 'plugins[1]'],
  ['an entry that is a class, not an instance', "class P { name = 'p'; apply() {} }\nexport default { plugins: [P] };\n", ['plugins[0]', 'the class P'], 'plugins[0]'],
  ['an entry that is an object without apply', "export default { plugins: [{ name: 'x' }] };\n", ['plugins[0]', 'without apply'], 'plugins[0]'],
  ['an entry with too much in its array', "export default { plugins: [['pcp', {}, 3]] };\n", ['plugins[0]', 'an array'], 'plugins[0]'],
  ['an empty specifier', "export default { plugins: [''] };\n", ['plugins[0]', 'an empty string'], 'plugins[0]'],
];

for (const [name, text, mentions, key] of invalidConfigs) {
  test(`loadConfig: ${name} → CONFIG_ERROR naming the file and the key`, async () => {
    const dir = project({ 'rr.config.mjs': text });
    const e = await rejectsWith(loadConfig(dir), 'CONFIG_ERROR', join(dir, 'rr.config.mjs'), ...mentions);
    assert.equal(e.context.key, key);
  });
}

test('loadConfig: a config outside any project that depends on tsrr imports tsrr', async () => {
  const dir = project({ 'rr.config.ts': "import { defineConfig } from 'tsrr';\nimport { pcpRegistry } from 'tsrr/plugins/pcp';\nexport default defineConfig({ plugins: [typeof pcpRegistry === 'function' ? 'pcp' : 'no'] });\n" });
  assert.deepEqual((await loadConfig(dir)).config, { plugins: ['pcp'] });
});

test('loadConfig: a thrown error is kept as the cause', async () => {
  const dir = project({ 'rr.config.mjs': "throw new Error('config exploded');\n" });
  const e = await rejectsWith(loadConfig(dir), 'CONFIG_ERROR', 'config exploded');
  assert.ok(e.cause instanceof Error);
});

const PLUGIN_FILES: Record<string, string> = {
  'class.mjs': `export default class ClassPlugin {
  constructor(options) { this.name = 'class-plugin'; this.version = '1.0.0'; this.options = options; }
  apply(tsrr) { tsrr.hooks.sessionCreated.tap(this.name, () => {}); }
}\n`,
  'function.mjs': `export default function fnPlugin(tsrr) { globalThis.__fnPluginApplied = tsrr; }\n`,
  'factory.mjs': `export default (options) => ({ name: 'factory-' + (options?.suffix ?? 'none'), version: '2.0.0', apply() {} });\n`,
  'uses-tsrr.ts': `import { Tsrr, defineConfig } from 'tsrr';\nimport { pcpRegistry } from 'tsrr/plugins/pcp';\nexport default class UsesTsrr {\n  readonly name = 'uses-tsrr';\n  apply(t: Tsrr): void {\n    (globalThis as Record<string, unknown>).__usesTsrr = { same: t instanceof Tsrr, registry: pcpRegistry(t), config: defineConfig({}) };\n  }\n}\n`,
  'class-no-apply.mjs': `export default class NoApply { name = 'no-apply'; }\n`,
  'ctor-throws.mjs': `export default class Thrower { constructor() { throw new Error('bad options'); } apply() {} }\n`,
  'object.mjs': `export default { name: 'object-plugin', apply() {} };\n`,
  'typed.ts': `interface Options { verbose?: boolean }\nexport default class TypedPlugin {\n  readonly name = 'typed';\n  constructor(readonly options: Options = {}) {}\n  apply(_t: unknown): void {}\n}\n`,
  'cjs.cjs': `module.exports = { name: 'cjs-plugin', apply() {} };\n`,
  'nothing.mjs': `export const notAPlugin = 1;\n`,
  'number.mjs': `export default 42;\n`,
  'object-no-apply.mjs': `export default { name: 'no-apply' };\n`,
  'throws.mjs': `throw new Error('plugin module exploded');\n`,
  'syntax.mjs': `export default class {\n`,
  'imports-missing.mjs': `import x from 'tsrr-no-such-dependency-xyz';\nexport default x;\n`,
  'not-js.txt': 'this is not a module',
  'dir/index.mjs': `export default { name: 'dir-plugin', apply() {} };\n`,
};

let pluginDir: string | undefined;
const plugins = (): string => (pluginDir ??= project(PLUGIN_FILES));

const goodPlugins: [spec: string, options: unknown, check: (p: Plugin, dir: string) => void][] = [
  [
    './class.mjs',
    { level: 2 },
    (p) => {
      assert.equal((p as unknown as { constructor: { name: string } }).constructor.name, 'ClassPlugin');
      assert.deepEqual((p as unknown as { options: unknown }).options, { level: 2 }, 'the class gets the options');
      assert.deepEqual(applied(p).plugins, [{ name: 'class-plugin', version: '1.0.0' }]);
    },
  ],
  [
    './function.mjs',
    undefined,
    (p) => {
      assert.equal(typeof p, 'function');
      const tsrr = applied(p);
      assert.deepEqual(tsrr.plugins, [{ name: 'fnPlugin', version: '0.0.0' }]);
      assert.equal((globalThis as { __fnPluginApplied?: unknown }).__fnPluginApplied, tsrr, 'the function is the plugin: called with tsrr');
    },
  ],
  [
    // A plugin outside any project that depends on tsrr: `tsrr` and `tsrr/plugins/pcp` are this tsrr.
    './uses-tsrr.ts',
    undefined,
    (p) => {
      const tsrr = applied(p);
      const seen = (globalThis as { __usesTsrr?: { same: boolean; registry: unknown; config: unknown } }).__usesTsrr;
      assert.ok(seen?.same, 'the plugin got another copy of the Tsrr class');
      assert.equal(seen.registry, pcpRegistry(tsrr), 'the plugin got another pcp registry');
      assert.deepEqual(seen.config, {});
    },
  ],
  ['./object.mjs', undefined, (p) => assert.deepEqual(applied(p).plugins, [{ name: 'object-plugin', version: '0.0.0' }])],
  ['./typed.ts', { verbose: true }, (p) => {
    assert.deepEqual((p as unknown as { options: unknown }).options, { verbose: true });
    assert.deepEqual(applied(p).plugins, [{ name: 'typed', version: '0.0.0' }]);
  }],
  ['./cjs.cjs', undefined, (p) => assert.deepEqual(applied(p).plugins, [{ name: 'cjs-plugin', version: '0.0.0' }])],
  ['./dir/index.mjs', undefined, (p) => assert.deepEqual(applied(p).plugins, [{ name: 'dir-plugin', version: '0.0.0' }])],
  ['ABSOLUTE:object.mjs', undefined, (p) => assert.deepEqual(applied(p).plugins, [{ name: 'object-plugin', version: '0.0.0' }])],
];

const resolveSpec = (spec: string, dir: string) => (spec.startsWith('ABSOLUTE:') ? join(dir, spec.slice('ABSOLUTE:'.length)) : spec);

for (const [spec, options, check] of goodPlugins) {
  test(`loadPlugin ${spec} (options ${JSON.stringify(options)})`, async () => {
    const dir = plugins();
    check(await loadPlugin(resolveSpec(spec, dir), options, dir), dir);
  });
}

test('loadPlugin resolves a relative path from base, not from the process cwd', async () => {
  const dir = plugins();
  const sub = join(dir, 'dir');
  const p = await loadPlugin('../object.mjs', undefined, sub);
  assert.deepEqual(applied(p).plugins, [{ name: 'object-plugin', version: '0.0.0' }]);
  await rejectsWith(loadPlugin('./object.mjs', undefined, sub), 'PLUGIN_NOT_FOUND', './object.mjs');
});

const badPlugins: [spec: string, code: ErrorCode, mentions: string[]][] = [
  ['./missing.mjs', 'PLUGIN_NOT_FOUND', ['./missing.mjs']],
  ['ABSOLUTE:missing/index.mjs', 'PLUGIN_NOT_FOUND', ['missing/index.mjs']],
  ['tsrr-plugin-that-does-not-exist-xyz', 'PLUGIN_NOT_FOUND', ['tsrr-plugin-that-does-not-exist-xyz']],
  ['@nobody/tsrr-no-such-plugin', 'PLUGIN_NOT_FOUND', ['@nobody/tsrr-no-such-plugin']],
  ['./nothing.mjs', 'PLUGIN_ERROR', ['./nothing.mjs', 'without a default export']],
  ['./number.mjs', 'PLUGIN_ERROR', ['./number.mjs', 'a number']],
  ['./object-no-apply.mjs', 'PLUGIN_ERROR', ['./object-no-apply.mjs']],
  ['./class-no-apply.mjs', 'PLUGIN_ERROR', ['./class-no-apply.mjs', 'NoApply', 'apply(tsrr)']],
  ['./ctor-throws.mjs', 'PLUGIN_ERROR', ['./ctor-throws.mjs', 'constructor', 'bad options']],
  ['./throws.mjs', 'PLUGIN_ERROR', ['./throws.mjs', 'plugin module exploded']],
  ['./syntax.mjs', 'PLUGIN_ERROR', ['./syntax.mjs', 'syntax error at', 'syntax.mjs:2:']],
  ['./not-js.txt', 'PLUGIN_ERROR', ['./not-js.txt']],
  // The plugin exists; what is missing is its dependency: that is the plugin's error, not "not found".
  ['./imports-missing.mjs', 'PLUGIN_ERROR', ['./imports-missing.mjs', 'tsrr-no-such-dependency-xyz']],
];

for (const [spec, code, mentions] of badPlugins) {
  test(`loadPlugin ${spec} → ${code}`, async () => {
    const dir = plugins();
    const e = await rejectsWith(loadPlugin(resolveSpec(spec, dir), undefined, dir), code, ...mentions);
    assert.equal(e.context.plugin, resolveSpec(spec, dir));
  });
}

test('loadPlugin: a plain function default export takes no options', async () => {
  await rejectsWith(loadPlugin('./function.mjs', { a: 1 }, plugins()), 'PLUGIN_ERROR', './function.mjs', 'takes no options');
  await rejectsWith(loadPlugin('./object.mjs', { a: 1 }, plugins()), 'PLUGIN_ERROR', './object.mjs', 'takes no options');
});

test('loadPlugin: a factory (a function returning a plugin) is refused when applied, naming the plugin', async () => {
  const p = await loadPlugin('./factory.mjs', undefined, plugins());
  assert.throws(() => applied(p), (e: unknown) => e instanceof TsrrError && e.code === 'PLUGIN_ERROR' && e.message.startsWith('plugin ./factory.mjs is a function that returned a plugin'));
});
