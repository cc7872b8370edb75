// SPDX-License-Identifier: MIT
/**
 * Plugins as users load them: from an rr.config.ts (the event-counter fixture, written as a
 * third-party plugin would be) and with --plugin. A plugin that throws, a plugin that cannot be
 * found and a config that exports nonsense must each fail cleanly, naming the culprit, and leave
 * no tracee behind.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, assertNoneLeft, assertRefused, countEvents, describeRun, setUp, tsrr } from './helpers.js';

const FIXTURES = join(ROOT, 'test', 'fixtures');

describe('plugins', () => {
  test('the event-counter fixture, loaded from rr.config.ts, sees every recorded event', () => {
    const { program, tmp, dir } = setUp('sleeper');
    const countFile = join(tmp, 'count');
    const r = tsrr(['record', '-o', dir, program, '5'], {
      cwd: join(FIXTURES, 'event-counter'),
      env: { ...process.env, EVENT_COUNT_FILE: countFile },
      timeout: 30_000,
    });
    assert.equal(r.status, 0, describeRun('record', r));
    assert.match(r.stdout.toString(), /tick 4\nsleeper done\n$/);
    assert.ok(existsSync(countFile), `the plugin did not write ${countFile}: it was not loaded, or its hook never saw the end\n${r.stderr}`);
    const count = Number(readFileSync(countFile, 'utf8'));
    const events = countEvents(dir);
    assert.ok(events > 10, `only ${events} events recorded`);
    assert.equal(count, events, `the plugin counted ${count} events, the trace has ${events}`);
    assertNoneLeft([program]);
  });

  test('a plugin whose hook throws fails the recording, naming the plugin and the hook', () => {
    const { program, dir } = setUp('sleeper');
    const plugin = join(FIXTURES, 'throwing-plugin.mjs');
    // 300 iterations of 10 ms: a tracee that survived the failure would still be running.
    const r = tsrr(['--plugin', plugin, 'record', '-o', dir, program, '300'], { timeout: 30_000 });
    assertRefused('record with the throwing plugin', r, ['thrower', 'Session.hooks.eventRecorded']);
    assert.doesNotMatch(r.stdout.toString(), /sleeper done/, 'the recording went on to the end');
    assertNoneLeft([program]);
  });

  test('--plugin with a name that is neither first-party nor installed: not found', () => {
    const { program, dir } = setUp('sleeper');
    const r = tsrr(['--plugin', 'no-such-plugin-xyz', 'record', '-o', dir, program, '3'], { timeout: 30_000 });
    assertRefused('--plugin no-such-plugin-xyz', r, ['no-such-plugin-xyz', 'not found']);
    assert.equal(r.stdout.length, 0, 'the program ran although its plugin was missing');
    assertNoneLeft([program]);
  });

  test('--plugin with a path to no file: not found', () => {
    const { program, tmp: cwd, dir } = setUp('sleeper');
    const r = tsrr(['--plugin', './missing.js', 'record', '-o', dir, program, '3'], { cwd, timeout: 30_000 });
    assertRefused('--plugin ./missing.js', r, ['./missing.js', 'not found']);
    assert.equal(r.stdout.length, 0, 'the program ran although its plugin was missing');
    assertNoneLeft([program]);
  });

  test('a config with a misspelled key (plugin: for plugins:) is refused, naming the file and the key', () => {
    const { program, tmp: cwd, dir } = setUp('sleeper');
    const config = join(cwd, 'rr.config.ts');
    writeFileSync(config, "import { defineConfig } from 'tsrr';\n\nexport default { plugin: ['pcp'] };\n");
    const r = tsrr(['record', '-o', dir, program, '3'], { cwd, timeout: 30_000 });
    assertRefused('record with plugin: in rr.config.ts', r, [config, 'unknown key "plugin"']);
    assert.equal(r.stdout.length, 0, 'the program ran although the config is invalid');
  });

  test('a syntax error in rr.config.ts is refused, naming the line', () => {
    const { program, tmp: cwd, dir } = setUp('sleeper');
    const config = join(cwd, 'rr.config.ts');
    writeFileSync(config, "import { defineConfig } from 'tsrr';\n\nexport default defineConfig({\n  plugins: ['pcp',, ;\n});\n");
    const r = tsrr(['record', '-o', dir, program, '3'], { cwd, timeout: 30_000 });
    assertRefused('record with a syntax error in rr.config.ts', r, [`syntax error at ${config}:4:`]);
  });

  test('--plugin with a plain function (importing tsrr, outside a project) as its default export applies it with tsrr; one that returns a plugin is refused', () => {
    const { program, tmp: cwd, dir } = setUp('sleeper');
    // Outside any project that depends on tsrr: its import of tsrr is the running tsrr.
    writeFileSync(join(cwd, 'fn.ts'), "import { NR, type Tsrr } from 'tsrr';\nexport default function (tsrr: Tsrr): void {\n  tsrr.hooks.sessionCreated.tap('fn', () => console.error(`fn plugin: session, write is ${NR.write}`));\n}\n");
    const r = tsrr(['--plugin', './fn.ts', 'record', '-o', dir, program, '1'], { cwd, timeout: 30_000 });
    assert.equal(r.status, 0, describeRun('record with fn.ts', r));
    assert.match(r.stderr, /^fn plugin: session, write is 1$/m);
    writeFileSync(join(cwd, 'factory.ts'), "export default (options?: unknown) => ({ name: 'made', apply(): void {} });\n");
    const f = tsrr(['--plugin', './factory.ts', 'record', '-o', join(cwd, 't2'), program, '1'], { cwd, timeout: 30_000 });
    assertRefused('--plugin ./factory.ts', f, ['plugin ./factory.ts', 'returned a plugin']);
  });

  test('noPlugins in the config turns a default plugin off; a name that is not one is refused', () => {
    const { program, tmp: cwd, dir } = setUp('sleeper');
    const rec = tsrr(['record', '-o', dir, program, '1'], { timeout: 30_000 });
    assert.equal(rec.status, 0, describeRun('record', rec));
    const config = join(cwd, 'rr.config.mjs');
    writeFileSync(config, "export default { noPlugins: ['gdbserver'] };\n");
    assertRefused('replay with gdbserver turned off', tsrr(['replay', dir], { cwd, input: '' }), ['-a', 'debugger plugin', 'turned off']);
    const ok = tsrr(['replay', '-a', dir], { cwd, input: '' });
    assert.equal(ok.status, 0, describeRun('replay -a with gdbserver turned off', ok));
    writeFileSync(config, "export default { noPlugins: ['gdb'] };\n");
    assertRefused('noPlugins naming no default plugin', tsrr(['ls'], { cwd }), ['gdb', 'not a default plugin']);
    writeFileSync(config, 'export default { noPlugins: "pcp" };\n');
    assertRefused('noPlugins not a list', tsrr(['ls'], { cwd }), [config, 'noPlugins']);
  });

  test('a config whose default export is not a config names the config file', () => {
    const { program, tmp: cwd, dir } = setUp('sleeper');
    const config = join(cwd, 'rr.config.mjs');
    writeFileSync(config, 'export default 42;\n');
    const r = tsrr(['record', '-o', dir, program, '3'], { cwd, timeout: 30_000 });
    assertRefused('record with rr.config.mjs exporting 42', r, [config]);
    assert.equal(r.stdout.length, 0, 'the program ran although the config is invalid');
    assertNoneLeft([program]);
  });
});
