// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../core/Registry.js';
import { TsrrError } from '../../native/TsrrError.js';

test('register, get, has and kinds', () => {
  const r = new Registry<() => string>('file monitors');
  assert.equal(r.name, 'file monitors');
  assert.deepEqual(r.kinds(), []);
  const stdio = () => 'stdio';
  const sock = () => 'socket';
  r.register('core/stdio', stdio);
  r.register('acme/socket', sock);
  assert.equal(r.get('core/stdio'), stdio);
  assert.equal(r.get('acme/socket'), sock);
  assert.equal(r.has('core/stdio'), true);
  assert.equal(r.has('acme/socket'), true);
  assert.equal(r.has('core/nope'), false);
  assert.deepEqual(r.kinds(), ['core/stdio', 'acme/socket'], 'in registration order');
});

test('falsy handlers are registered handlers', () => {
  const cases: [kind: string, handler: unknown][] = [
    ['zero', 0],
    ['empty string', ''],
    ['false', false],
    ['null', null],
  ];
  const r = new Registry<unknown>('values');
  for (const [kind, handler] of cases) {
    r.register(kind, handler);
    assert.equal(r.has(kind), true, kind);
    assert.equal(r.get(kind), handler, kind);
  }
});

test('kinds() is a copy', () => {
  const r = new Registry<number>('numbers');
  r.register('a', 1);
  r.kinds().push('b');
  assert.deepEqual(r.kinds(), ['a']);
  assert.equal(r.has('b'), false);
});

test('a kind registered twice throws naming the kind and keeps the first handler', () => {
  const r = new Registry<string>('syscall handlers');
  r.register('acme/socket', 'first');
  assert.throws(
    () => r.register('acme/socket', 'second'),
    (e: unknown) => {
      assert.ok(e instanceof TsrrError);
      assert.equal(e.code, 'PLUGIN_ERROR');
      assert.match(e.message, /acme\/socket/);
      assert.match(e.message, /syscall handlers/);
      assert.deepEqual(e.context, { kind: 'acme/socket', registry: 'syscall handlers' });
      return true;
    },
  );
  assert.equal(r.get('acme/socket'), 'first');
  assert.deepEqual(r.kinds(), ['acme/socket']);
});

test('an unknown kind throws naming the kind and the registry', () => {
  const r = new Registry<string>('file monitors');
  r.register('core/stdio', 'x');
  for (const kind of ['acme/socket', '', 'core/stdio2', 'CORE/STDIO']) {
    assert.throws(
      () => r.get(kind),
      (e: unknown) => {
        assert.ok(e instanceof TsrrError);
        assert.equal(e.code, 'UNSUPPORTED');
        assert.ok(e.message.includes(`"${kind}"`), e.message);
        assert.ok(e.message.includes('file monitors'), e.message);
        assert.deepEqual(e.context, { kind, registry: 'file monitors' });
        return true;
      },
    );
  }
});

test('registries are independent', () => {
  const a = new Registry<number>('a');
  const b = new Registry<number>('b');
  a.register('k', 1);
  b.register('k', 2);
  assert.equal(a.get('k'), 1);
  assert.equal(b.get('k'), 2);
});
