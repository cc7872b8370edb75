// SPDX-License-Identifier: MIT
/**
 * native/build.mjs, as the install script runs it, on a copy of native/'s sources: it builds
 * the C parts, and where it cannot it says in one line what is missing: gcc (not on PATH), or
 * the C library's headers (hidden by an empty directory mounted over /usr/include in a user
 * namespace of the test's own).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, freshDir } from './helpers.js';

/** A copy of native/'s C sources and build.mjs. */
function sources(): string {
  const dir = join(freshDir(), 'native');
  mkdirSync(dir);
  for (const f of readdirSync(join(ROOT, 'native'))) if (f.endsWith('.c') || f === 'build.mjs') copyFileSync(join(ROOT, 'native', f), join(dir, f));
  return dir;
}

function build(dir: string, env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [join(dir, 'build.mjs')], { encoding: 'utf8', env, timeout: 60_000 });
}

const BUILT = ['libtsrr-cpu.so', 'libtsrr-preload.so', 'libtsrr-probes.so', 'libtsrr-wait.so', 'tsrr-launch'];

/** Whether this machine lets an ordinary process mount in a user namespace of its own. */
const userNamespaces = spawnSync('unshare', ['-rm', 'true']).status === 0;

describe('native/build.mjs', () => {
  test('builds the C parts, then leaves them alone while up to date', () => {
    const dir = sources();
    const first = build(dir);
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(readdirSync(join(dir, 'build')).sort(), BUILT);
    const before = statSync(join(dir, 'build', 'tsrr-launch')).mtimeMs;
    const again = build(dir);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(statSync(join(dir, 'build', 'tsrr-launch')).mtimeMs, before, 'an up-to-date part was built again');
  });

  test('without gcc: one line saying so, and what to do next (at install: install again)', () => {
    const dir = sources();
    for (const [env, next] of [[{ PATH: '/nonexistent' }, `then run node ${join(dir, 'build.mjs')}`], [{ PATH: '/nonexistent', npm_lifecycle_event: 'install' }, 'then install tsrr again']] as const) {
      const r = build(dir, env);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr.split('\n').length, 2, `not one line:\n${r.stderr}`);
      assert.match(r.stderr, /^tsrr: cannot build its C parts: gcc is not installed; install .*gcc/);
      assert.ok(r.stderr.endsWith(`${next}\n`), r.stderr);
    }
    assert.ok(!existsSync(join(dir, 'build', 'tsrr-launch')));
  });

  test('without the C library headers: one line naming the missing header and the package', { skip: !userNamespaces && 'no user namespaces here' }, () => {
    const dir = sources();
    const empty = freshDir();
    // sh runs build.mjs as the namespace's root, with nothing in /usr/include.
    const r = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount --bind "$0" /usr/include && exec "$1" "$2"', empty, process.execPath, join(dir, 'build.mjs')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.split('\n').length, 2, `not one line:\n${r.stderr}`);
    assert.match(r.stderr, /^tsrr: cannot build native\/\w+\.c: the C library's headers are missing \(no [\w/]+\.h\); install Debian's libc6-dev/);
  });
});
