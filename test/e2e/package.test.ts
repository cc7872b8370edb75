// SPDX-License-Identifier: MIT
/**
 * tsrr as a package: `npm pack`, then `npm install TARBALL` into a fresh project, which builds
 * the C parts at install time. From that project, with its installed `tsrr` command: record
 * and replay a C program; load an rr.config.ts with a TypeScript plugin of the project's (the
 * checkpointed counter the package ships as an example), whose serializer saves its state in
 * every pcp checkpoint, and check that the state restored from a checkpoint is what a replay
 * from the start (--ignore-pcp) has. Without the built C parts, tsrr says in one line how to
 * build them, and that command works.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, assertRefused, compile, describeRun, tempDir, type Run } from './helpers.js';

const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund'];

function run(cmd: string, args: string[], opts: SpawnSyncOptions): Run {
  const r = spawnSync(cmd, args, { timeout: 120_000, maxBuffer: 1 << 26, ...opts });
  return { status: r.status, signal: r.signal, stdout: r.stdout as Buffer, stderr: String(r.stderr ?? r.error ?? '') };
}

describe('the npm package, installed into another project', () => {
  let project: string;
  let packed: string[];
  const env = { ...process.env, _RR_TRACE_DIR: '' };
  /** The project's installed tsrr command. */
  const installed = (args: string[]): Run => run(join(project, 'node_modules', '.bin', 'tsrr'), args, { cwd: project, env, timeout: 60_000 });
  /** The line `plugin: ...` on stderr. */
  const lineOf = (plugin: string, stderr: string): string => {
    const lines = stderr.split('\n').filter((l) => l.startsWith(`${plugin}: `));
    assert.equal(lines.length, 1, `expected one line from ${plugin}:\n${stderr}`);
    return lines[0]!;
  };

  before(() => {
    const tmp = tempDir('tsrr-package-');
    env._RR_TRACE_DIR = join(tmp, 'traces');
    // dist/ is built already (the tests run from it): packing need not build it again.
    const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT });
    assert.equal(pack.status, 0, describeRun('npm pack', pack));
    const [info] = JSON.parse(pack.stdout.toString()) as { filename: string; files: { path: string }[] }[];
    packed = info!.files.map((f) => f.path);
    project = join(tmp, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-tsrr', private: true, type: 'module' }));
    const install = run('npm', ['install', ...NPM_FLAGS, join(tmp, info!.filename)], { cwd: project });
    assert.equal(install.status, 0, describeRun('npm install TARBALL', install));
  });

  test('the tarball holds what runs and builds, not the build, tests or benchmarks', () => {
    for (const f of ['dist/core/cli.js', 'dist/core/index.d.ts', 'dist/plugins/pcp/index.js', 'native/build.mjs', 'native/launcher.c', 'native/preload.c', 'examples/plugins/checkpointed-counter.ts']) {
      assert.ok(packed.includes(f), `${f} is not in the package`);
    }
    const extra = packed.filter((f) => /^(native\/build\/|dist\/(test|bench)\/|test\/|bench\/)|\.map$/.test(f));
    assert.deepEqual(extra, [], 'the package holds files it does not need');
  });

  test('the installed tsrr records and replays a C program', () => {
    const program = join(project, 'sleeper');
    copyFileSync(compile('sleeper'), program);
    const rec = installed(['record', '-o', 'trace', program, '3']);
    assert.equal(rec.status, 0, describeRun('record', rec));
    assert.equal(rec.stdout.toString(), 'sleeper starts, 3 iterations\ntick 0\ntick 1\ntick 2\nsleeper done\n');
    const rep = installed(['replay', '-a', 'trace']);
    assert.equal(rep.status, 0, describeRun('replay', rep));
    assert.ok(rep.stdout.equals(rec.stdout), 'the replay printed something else');
  });

  test("rr.config.ts with the project's TypeScript plugin: its state is saved in checkpoints and restored", () => {
    mkdirSync(join(project, 'plugins'));
    copyFileSync(join(project, 'node_modules', 'tsrr', 'examples', 'plugins', 'checkpointed-counter.ts'), join(project, 'plugins', 'counter.ts'));
    writeFileSync(
      join(project, 'rr.config.ts'),
      "import { defineConfig } from 'tsrr';\nimport CheckpointedCounter from './plugins/counter.ts';\n\nexport default defineConfig({ plugins: ['pcp', new CheckpointedCounter()] });\n",
    );
    const program = join(project, 'sleeper20');
    copyFileSync(compile('sleeper'), program);
    const rec = installed(['record', '-o', 'trace20', program, '20']);
    assert.equal(rec.status, 0, describeRun('record', rec));
    const made = installed(['create-checkpoints', '-i', '15', 'trace20']);
    assert.equal(made.status, 0, describeRun('create-checkpoints', made));
    const frames = readdirSync(join(project, 'trace20', 'checkpoints')).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
    assert.ok(frames.length >= 2, `only ${frames.length} checkpoints\n${made.stderr}`);
    const goal = String(frames.at(-2)! + 2); // short of the last checkpoint: within the trace
    const fromCheckpoint = installed(['replay', '-a', '-g', goal, 'trace20']);
    assert.equal(fromCheckpoint.status, 0, describeRun('replay -g', fromCheckpoint));
    assert.match(fromCheckpoint.stderr, /tsrr: starting from the checkpoint at event \d+\n/, fromCheckpoint.stderr);
    const fromStart = installed(['replay', '--ignore-pcp', '-a', '-g', goal, 'trace20']);
    assert.equal(fromStart.status, 0, describeRun('replay --ignore-pcp -g', fromStart));
    const line = lineOf('checkpointed-counter', fromStart.stderr);
    assert.match(line, new RegExp(`^checkpointed-counter: [1-9]\\d* syscall events up to event ${goal}$`));
    assert.equal(lineOf('checkpointed-counter', fromCheckpoint.stderr), line);
  });

  test('without its built C parts, tsrr says how to build them in one line, and that works', () => {
    const build = join(project, 'node_modules', 'tsrr', 'native', 'build');
    assert.ok(existsSync(join(build, 'tsrr-launch')), 'npm install did not build the C parts');
    renameSync(build, `${build}.installed`);
    const refused = installed(['ls']);
    const line = assertRefused('ls without the C parts', refused, ['not built', 'build.mjs']);
    const command = /run (node \S+build\.mjs)/.exec(line)?.[1];
    assert.ok(command, `no command in: ${line}`);
    const rebuilt = run('sh', ['-c', command], { cwd: project });
    assert.equal(rebuilt.status, 0, describeRun(command, rebuilt));
    const ls = installed(['ls']);
    assert.equal(ls.status, 0, describeRun('ls after the build', ls));
  });
});
