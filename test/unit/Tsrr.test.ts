// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tsrr, type Plugin } from '../../core/Tsrr.js';
import { TsrrError } from '../../native/TsrrError.js';

class CountingPlugin {
  readonly name = 'counting';
  readonly version = '1.2.3';
  applied: Tsrr[] = [];
  apply(tsrr: Tsrr): void {
    this.applied.push(tsrr);
  }
}

test('apply() of a class instance calls apply with the Tsrr and records name and version', () => {
  const tsrr = new Tsrr();
  const p = new CountingPlugin();
  tsrr.apply(p);
  assert.deepEqual(p.applied, [tsrr]);
  assert.deepEqual(tsrr.plugins, [{ name: 'counting', version: '1.2.3' }]);
});

test('apply() of a plain function calls it with the Tsrr', () => {
  const tsrr = new Tsrr();
  const calls: Tsrr[] = [];
  function myPlugin(t: Tsrr): void {
    calls.push(t);
  }
  tsrr.apply(myPlugin);
  assert.deepEqual(calls, [tsrr]);
  assert.deepEqual(tsrr.plugins, [{ name: 'myPlugin', version: '0.0.0' }]);
});

test('names and versions recorded', () => {
  const cases: [what: string, plugin: Plugin, expected: { name: string; version: string }][] = [
    ['object without version', { name: 'obj', apply() {} }, { name: 'obj', version: '0.0.0' }],
    ['object with version', { name: 'obj', version: '9.9.9', apply() {} }, { name: 'obj', version: '9.9.9' }],
    ['named arrow function', (() => { const arrowPlugin = (_: Tsrr) => {}; return arrowPlugin; })(), { name: 'arrowPlugin', version: '0.0.0' }],
    ['anonymous function', [(_: Tsrr) => {}][0]!, { name: 'anonymous plugin', version: '0.0.0' }],
  ];
  for (const [what, plugin, expected] of cases) {
    const tsrr = new Tsrr();
    tsrr.apply(plugin);
    assert.deepEqual(tsrr.plugins, [expected], what);
  }
});

test('plugins are recorded in order of application', () => {
  const tsrr = new Tsrr();
  tsrr.apply({ name: 'a', apply() {} });
  tsrr.apply(function b() {});
  tsrr.apply(new CountingPlugin());
  assert.deepEqual(tsrr.plugins.map((p) => p.name), ['a', 'b', 'counting']);
});

test('a plugin taps the root hooks in apply', () => {
  const tsrr = new Tsrr();
  assert.ok(Object.isFrozen(tsrr.hooks));
  assert.deepEqual(Object.keys(tsrr.hooks).sort(), ['cliCommands', 'commandOptions', 'debugReplay', 'sessionCreated']);
  const seen: unknown[] = [];
  tsrr.apply({ name: 'tapper', apply: (t) => t.hooks.sessionCreated.tap('tapper', (s) => seen.push(s)) });
  const session = {} as Parameters<typeof tsrr.hooks.sessionCreated.call>[0];
  tsrr.hooks.sessionCreated.call(session);
  assert.deepEqual(seen, [session]);
});

test('a tap of a root hook that throws is a PLUGIN_ERROR naming the plugin and the hook', () => {
  const tsrr = new Tsrr();
  tsrr.apply({ name: 'tapper', apply: (t) => t.hooks.sessionCreated.tap('tapper', () => { throw new Error('bad session'); }) });
  assert.throws(
    () => tsrr.hooks.sessionCreated.call({} as Parameters<typeof tsrr.hooks.sessionCreated.call>[0]),
    (e: unknown) => e instanceof TsrrError && e.code === 'PLUGIN_ERROR' && /tapper/.test(e.message) && /Tsrr\.hooks\.sessionCreated/.test(e.message),
  );
});

const throwing: [what: string, plugin: Plugin, name: string, why: string][] = [
  ['class instance', new (class { readonly name = 'broken-class'; apply(): void { throw new Error('cannot apply'); } })(), 'broken-class', 'cannot apply'],
  ['object', { name: 'broken-object', apply() { throw new TypeError('bad type'); } }, 'broken-object', 'bad type'],
  ['function', function brokenFunction() { throw new Error('fn failed'); }, 'brokenFunction', 'fn failed'],
  ['thrown string', { name: 'throws-string', apply() { throw 'a string'; } }, 'throws-string', 'a string'],
  // A plugin may throw anything; tsrr must still report it as the plugin's fault.
  ['thrown undefined', { name: 'throws-undefined', apply() { throw undefined; } }, 'throws-undefined', ''],
  ['thrown null', { name: 'throws-null', apply() { throw null; } }, 'throws-null', ''],
];

for (const [what, plugin, name, why] of throwing) {
  test(`a plugin whose apply throws → PLUGIN_ERROR naming it: ${what}`, () => {
    const tsrr = new Tsrr();
    assert.throws(
      () => tsrr.apply(plugin),
      (e: unknown) => {
        assert.ok(e instanceof TsrrError, `not a TsrrError: ${String(e)}`);
        assert.equal(e.code, 'PLUGIN_ERROR');
        assert.ok(e.message.includes(name), `"${e.message}" does not name ${name}`);
        assert.ok(e.message.includes(why), `"${e.message}" does not say ${why}`);
        assert.equal(e.context.plugin, name);
        return true;
      },
    );
    assert.deepEqual(tsrr.plugins, [], 'a plugin that failed is not recorded');
  });
}
