// SPDX-License-Identifier: MIT
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { findProgram, splitProgram } from '../../core/commands/record.js';
import { TsrrError } from '../../native/TsrrError.js';

const splitCases: [name: string, argv: string[], tsrrArgs: string[], all: string[]][] = [
  ['program with its own option', ['record', './prog', '-x'], ['record'], ['record', '--', './prog', '-x']],
  ['program alone', ['record', 'ls'], ['record'], ['record', '--', 'ls']],
  ['program options that look like tsrr options', ['record', 'prog', '-o', 'x', '--plugin', 'y', '--help'], ['record'], ['record', '--', 'prog', '-o', 'x', '--plugin', 'y', '--help']],
  ['program arguments that look like a command', ['record', 'prog', 'record', 'replay'], ['record'], ['record', '--', 'prog', 'record', 'replay']],
  ['a -- among the program arguments', ['record', 'prog', '--', '-x'], ['record'], ['record', '--', 'prog', '--', '-x']],
  ['-o DIR', ['record', '-o', 'DIR', './prog', 'a'], ['record', '-o', 'DIR'], ['record', '-o', 'DIR', '--', './prog', 'a']],
  ['--output DIR', ['record', '--output', 'DIR', 'prog'], ['record', '--output', 'DIR'], ['record', '--output', 'DIR', '--', 'prog']],
  ['--output=DIR', ['record', '--output=DIR', 'prog'], ['record', '--output=DIR'], ['record', '--output=DIR', '--', 'prog']],
  ['--bind-to-cpu 1', ['record', '--bind-to-cpu', '1', 'prog', '2'], ['record', '--bind-to-cpu', '1'], ['record', '--bind-to-cpu', '1', '--', 'prog', '2']],
  ['--plugin plug before the command', ['--plugin', 'plug', 'record', 'prog'], ['--plugin', 'plug', 'record'], ['--plugin', 'plug', 'record', '--', 'prog']],
  ['--plugin plug after the command', ['record', '--plugin', 'plug', 'prog', '-p', 'x'], ['record', '--plugin', 'plug'], ['record', '--plugin', 'plug', '--', 'prog', '-p', 'x']],
  ['--plugin plug', ['--plugin', 'plug', 'record', 'prog'], ['--plugin', 'plug', 'record'], ['--plugin', 'plug', 'record', '--', 'prog']],
  ['--plugin=x', ['--plugin=x', 'record', '--plugin=y', 'prog', '--plugin=z'], ['--plugin=x', 'record', '--plugin=y'], ['--plugin=x', 'record', '--plugin=y', '--', 'prog', '--plugin=z']],
  [
    'everything at once',
    ['--plugin', 'a', '--plugin=b', 'record', '-o', 'DIR', '--bind-to-cpu', '3', '--plugin', 'c', '/bin/echo', '-n', 'hi'],
    ['--plugin', 'a', '--plugin=b', 'record', '-o', 'DIR', '--bind-to-cpu', '3', '--plugin', 'c'],
    ['--plugin', 'a', '--plugin=b', 'record', '-o', 'DIR', '--bind-to-cpu', '3', '--plugin', 'c', '--', '/bin/echo', '-n', 'hi'],
  ],
  ['an existing -- is kept', ['record', '-o', 'DIR', '--', './prog', '-x'], ['record', '-o', 'DIR'], ['record', '-o', 'DIR', '--', './prog', '-x']],
  ['an existing -- right after record', ['record', '--', 'prog'], ['record'], ['record', '--', 'prog']],
  ['record without a program', ['record'], ['record'], ['record']],
  ['record with options only', ['record', '-o', 'DIR'], ['record', '-o', 'DIR'], ['record', '-o', 'DIR']],
  ['no arguments', [], [], []],
  ['replay is unchanged', ['replay', 'trace', '-x'], ['replay', 'trace', '-x'], ['replay', 'trace', '-x']],
  ['replay with options is unchanged', ['--plugin', 'plug', 'replay', '--goto', '5', 'dir'], ['--plugin', 'plug', 'replay', '--goto', '5', 'dir'], ['--plugin', 'plug', 'replay', '--goto', '5', 'dir']],
  ['ls is unchanged', ['ls'], ['ls'], ['ls']],
  ['dump is unchanged', ['dump', 'record', 'x'], ['dump', 'record', 'x'], ['dump', 'record', 'x']],
  ['an unknown command is unchanged', ['prog', 'record'], ['prog', 'record'], ['prog', 'record']],
  ['--help is unchanged', ['--help'], ['--help'], ['--help']],
  ['replay with -- is unchanged', ['replay', '--', 'x'], ['replay', '--', 'x'], ['replay', '--', 'x']],
  ['a -- before any command', ['--plugin', 'a', '--', 'record', 'x'], ['--plugin', 'a'], ['--plugin', 'a', '--', 'record', 'x']],
];

for (const [name, argv, tsrrArgs, all] of splitCases) {
  test(`splitProgram: ${name}`, () => {
    const copy = [...argv];
    assert.deepEqual(splitProgram(argv), { tsrrArgs, all });
    assert.deepEqual(argv, copy, 'argv is not modified');
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'tsrr-prog-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const exe = join(tmp, 'myprog');
writeFileSync(exe, '#!/bin/sh\nexit 0\n');
chmodSync(exe, 0o755);
const plain = join(tmp, 'plain.txt');
writeFileSync(plain, 'not executable');
chmodSync(plain, 0o644);
mkdirSync(join(tmp, 'adir'));
symlinkSync(exe, join(tmp, 'link-to-prog'));

function withEnv<T>(path: string | undefined, cwd: string, fn: () => T): T {
  const savedPath = process.env.PATH;
  const savedCwd = process.cwd();
  if (path === undefined) delete process.env.PATH;
  else process.env.PATH = path;
  process.chdir(cwd);
  try {
    return fn();
  } finally {
    process.env.PATH = savedPath;
    process.chdir(savedCwd);
  }
}

test('findProgram finds ls in PATH', () => {
  const found = findProgram('ls');
  assert.ok(isAbsolute(found), found);
  assert.match(found, /\/ls$/);
});

const foundCases: [name: string, program: string, path: string | undefined, expected: string][] = [
  ['a relative path', './myprog', '/nonexistent', exe],
  ['a relative path without ./', 'sub/../myprog', '/nonexistent', exe],
  ['an absolute path', exe, '/nonexistent', exe],
  ['a name in PATH', 'myprog', `/nonexistent:${tmp}:/usr/bin`, exe],
  ['the first match in PATH wins', 'myprog', `${tmp}:${join(tmp, 'adir')}`, exe],
  ['a symlink', './link-to-prog', '/nonexistent', join(tmp, 'link-to-prog')],
  ['PATH unset: /usr/bin:/bin', 'sh', undefined, ''],
  // An empty PATH entry means the current directory; the result must still be absolute.
  ['an empty PATH entry', 'myprog', ':/nonexistent', exe],
  ['a relative PATH entry', 'myprog', `.:/nonexistent`, exe],
];

for (const [name, program, path, expected] of foundCases) {
  test(`findProgram resolves ${name}`, () => {
    mkdirSync(join(tmp, 'sub'), { recursive: true });
    const found = withEnv(path, tmp, () => findProgram(program));
    assert.ok(isAbsolute(found), `${found} is not absolute`);
    if (expected) assert.equal(found, expected);
    else assert.match(found, /^\/(usr\/)?bin\/sh$/);
  });
}

const missingCases: [name: string, program: string, path: string, mention: string][] = [
  ['a missing program in PATH', 'tsrr-no-such-program-xyz', '/usr/bin:/bin', 'tsrr-no-such-program-xyz'],
  ['a missing relative path', './nope', '/usr/bin', './nope'],
  ['a missing absolute path', '/nonexistent/prog', '/usr/bin', '/nonexistent/prog'],
  ['a non-executable file by path', './plain.txt', '/usr/bin', './plain.txt'],
  ['a non-executable file by absolute path', plain, '/usr/bin', plain],
  ['a non-executable file in PATH', 'plain.txt', tmp, 'plain.txt'],
  ['a directory by path', './adir', '/usr/bin', './adir'],
  ['a directory in PATH', 'adir', tmp, 'adir'],
  ['an empty name', '', '/nonexistent', ''],
];

for (const [name, program, path, mention] of missingCases) {
  test(`findProgram throws PROGRAM_NOT_FOUND for ${name}`, () => {
    assert.throws(
      () => withEnv(path, tmp, () => findProgram(program)),
      (e: unknown) => {
        assert.ok(e instanceof TsrrError, String(e));
        assert.equal(e.code, 'PROGRAM_NOT_FOUND');
        assert.ok(e.message.includes(mention), e.message);
        assert.equal(e.context.program, program);
        return true;
      },
    );
  });
}

test('findProgram says why a file that exists is refused', () => {
  assert.throws(() => withEnv('/usr/bin', tmp, () => findProgram('./plain.txt')), /not an executable/);
  assert.throws(() => withEnv('/usr/bin', tmp, () => findProgram('./nope')), /no such program/);
});
