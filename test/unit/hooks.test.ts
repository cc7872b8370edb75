// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncParallelHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncBailHook, SyncHook, SyncWaterfallHook } from 'tapable';
import { defineHooks, hasTaps } from '../../core/hooks.js';
import { TsrrError } from '../../native/TsrrError.js';

function makeHooks() {
  return defineHooks('Owner', {
    started: new SyncHook<[string, number]>(['name', 'n']),
    decide: new SyncBailHook<[number], string | undefined>(['n']),
    transform: new SyncWaterfallHook<[number, string]>(['value', 'label']),
    series: new AsyncSeriesHook<[string]>(['name']),
    parallel: new AsyncParallelHook<[string]>(['name']),
    waterfall: new AsyncSeriesWaterfallHook<[number]>(['value']),
  });
}

function isPluginError(plugin: string, hook: string, why?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof TsrrError, `not a TsrrError: ${String(e)}`);
    assert.equal(e.code, 'PLUGIN_ERROR');
    assert.ok(e.message.includes(plugin), `"${e.message}" does not name the plugin ${plugin}`);
    assert.ok(e.message.includes(hook), `"${e.message}" does not name the hook ${hook}`);
    if (why !== undefined) assert.ok(e.message.includes(why), `"${e.message}" does not give the reason ${why}`);
    assert.equal(e.context.plugin, plugin);
    assert.equal(e.context.hook, hook);
    return true;
  };
}

test('the hooks object is frozen and holds the hooks given', () => {
  const started = new SyncHook<[string, number]>(['name', 'n']);
  const hooks = defineHooks('Owner', { started });
  assert.equal(hooks.started, started);
  assert.ok(Object.isFrozen(hooks));
  assert.throws(() => {
    (hooks as unknown as Record<string, unknown>).started = new SyncHook();
  }, TypeError);
  assert.throws(() => {
    (hooks as unknown as Record<string, unknown>).added = new SyncHook();
  }, TypeError);
  assert.deepEqual(Object.keys(hooks), ['started']);
});

test('sync taps that do not throw pass arguments and results through', () => {
  const hooks = makeHooks();
  const seen: unknown[] = [];
  hooks.started.tap('a', (name, n) => seen.push(['a', name, n]));
  hooks.started.tap('b', (name, n) => seen.push(['b', name, n]));
  hooks.started.call('x', 7);
  assert.deepEqual(seen, [['a', 'x', 7], ['b', 'x', 7]]);

  hooks.decide.tap('skip', (n) => (n < 0 ? 'negative' : undefined));
  hooks.decide.tap('bail', (n) => (n > 10 ? 'big' : undefined));
  const cases: [n: number, expected: string | undefined][] = [[-1, 'negative'], [5, undefined], [11, 'big']];
  for (const [n, expected] of cases) assert.equal(hooks.decide.call(n), expected, `decide(${n})`);

  hooks.transform.tap('double', (v, label) => (label === 'x' ? v * 2 : v));
  hooks.transform.tap('inc', (v) => v + 1);
  assert.equal(hooks.transform.call(5, 'x'), 11);
  assert.equal(hooks.transform.call(5, 'y'), 6);
});

test('async taps that do not throw pass arguments and results through', async () => {
  const hooks = makeHooks();
  const seen: string[] = [];
  hooks.series.tapPromise('p', async (name) => {
    seen.push(`p:${name}`);
  });
  hooks.series.tap('s', (name) => {
    seen.push(`s:${name}`);
  });
  hooks.series.tapAsync('cb', (name, done) => {
    seen.push(`cb:${name}`);
    done();
  });
  await hooks.series.promise('go');
  assert.deepEqual(seen, ['p:go', 's:go', 'cb:go']);

  hooks.waterfall.tapPromise('add', async (v) => v + 1);
  hooks.waterfall.tap('mul', (v) => v * 10);
  assert.equal(await hooks.waterfall.promise(2), 30);
});

const syncCases: [name: string, tap: (h: ReturnType<typeof makeHooks>) => void, call: (h: ReturnType<typeof makeHooks>) => unknown, plugin: string, hook: string, why: string][] = [
  ['SyncHook', (h) => h.started.tap('acme', () => { throw new Error('boom'); }), (h) => h.started.call('x', 1), 'acme', 'Owner.hooks.started', 'boom'],
  ['SyncBailHook', (h) => h.decide.tap({ name: 'bailer' }, () => { throw new RangeError('out of range'); }), (h) => h.decide.call(1), 'bailer', 'Owner.hooks.decide', 'out of range'],
  ['SyncWaterfallHook', (h) => h.transform.tap('w', () => { throw new Error('bad value'); }), (h) => h.transform.call(1, 'x'), 'w', 'Owner.hooks.transform', 'bad value'],
  ['a thrown string', (h) => h.started.tap('str', () => { throw 'just a string'; }), (h) => h.started.call('x', 1), 'str', 'Owner.hooks.started', 'just a string'],
  ['a sync tap on an async hook', (h) => h.series.tap('syncOnAsync', () => { throw new Error('sync boom'); }), (h) => h.series.callAsync('x', (err) => { if (err) throw err; }), 'syncOnAsync', 'Owner.hooks.series', 'sync boom'],
];

for (const [name, tap, call, plugin, hook, why] of syncCases) {
  test(`a throwing sync tap becomes PLUGIN_ERROR: ${name}`, () => {
    const hooks = makeHooks();
    tap(hooks);
    assert.throws(() => call(hooks), isPluginError(plugin, hook, why));
  });
}

test('a TsrrError a tap throws keeps its code and message, and gets the plugin and hook', () => {
  const hooks = makeHooks();
  hooks.started.tap('te', () => {
    throw new TsrrError('DIVERGENCE', 'diverged');
  });
  assert.throws(
    () => hooks.started.call('x', 1),
    (e: unknown) => e instanceof TsrrError && e.code === 'DIVERGENCE' && e.message === 'diverged' && e.context.plugin === 'te' && e.context.hook === 'Owner.hooks.started',
  );
});

test('the cause of a PLUGIN_ERROR is what the tap threw', () => {
  const hooks = makeHooks();
  const original = new Error('root cause');
  hooks.started.tap('acme', () => {
    throw original;
  });
  assert.throws(() => hooks.started.call('x', 1), (e: unknown) => e instanceof TsrrError && e.cause === original);
});

test('only the throwing tap is blamed; earlier taps ran', () => {
  const hooks = makeHooks();
  const ran: string[] = [];
  hooks.started.tap('good', () => ran.push('good'));
  hooks.started.tap('bad', () => {
    throw new Error('nope');
  });
  hooks.started.tap('later', () => ran.push('later'));
  assert.throws(() => hooks.started.call('x', 1), isPluginError('bad', 'Owner.hooks.started'));
  assert.deepEqual(ran, ['good']);
});

test('a PLUGIN_ERROR from a nested hook keeps naming the innermost plugin and hook', () => {
  const outer = makeHooks();
  const inner = defineHooks('Inner', { h: new SyncHook<[]>([]) });
  inner.h.tap('deep', () => {
    throw new Error('deep failure');
  });
  outer.started.tap('shallow', () => inner.h.call());
  assert.throws(() => outer.started.call('x', 1), isPluginError('deep', 'Inner.hooks.h', 'deep failure'));
});

const asyncCases: [name: string, tap: (h: ReturnType<typeof makeHooks>) => void, call: (h: ReturnType<typeof makeHooks>) => Promise<unknown>, plugin: string, hook: string, why: string][] = [
  ['rejecting', (h) => h.series.tapPromise('rejecter', async () => { throw new Error('async boom'); }), (h) => h.series.promise('x'), 'rejecter', 'Owner.hooks.series', 'async boom'],
  ['returning a rejected promise', (h) => h.series.tapPromise('rej2', () => Promise.reject(new Error('rejected'))), (h) => h.series.promise('x'), 'rej2', 'Owner.hooks.series', 'rejected'],
  ['throwing synchronously', (h) => h.parallel.tapPromise('syncthrow', () => { throw new Error('sync in promise tap'); }), (h) => h.parallel.promise('x'), 'syncthrow', 'Owner.hooks.parallel', 'sync in promise tap'],
  ['in a waterfall', (h) => h.waterfall.tapPromise('wf', async () => { throw new Error('wf boom'); }), (h) => h.waterfall.promise(1), 'wf', 'Owner.hooks.waterfall', 'wf boom'],
];

for (const [name, tap, call, plugin, hook, why] of asyncCases) {
  test(`a failing tapPromise tap becomes PLUGIN_ERROR: ${name}`, async () => {
    const hooks = makeHooks();
    tap(hooks);
    await assert.rejects(() => call(hooks), isPluginError(plugin, hook, why));
  });
}

test('taps registered on one owner do not affect another', () => {
  const a = makeHooks();
  const b = makeHooks();
  a.started.tap('only-a', () => {
    throw new Error('a');
  });
  b.started.call('x', 1);
});

test('hasTaps tells a hook no plugin tapped, which isUsed cannot (the interceptor counts)', () => {
  const hooks = makeHooks();
  assert.equal(hooks.decide.isUsed(), true);
  assert.equal(hasTaps(hooks.decide), false);
  hooks.decide.tap('plugin', () => undefined);
  assert.equal(hasTaps(hooks.decide), true);
});
