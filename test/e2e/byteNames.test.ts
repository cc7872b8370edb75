// SPDX-License-Identifier: MIT
/**
 * Names on Linux are bytes. A trace directory, a program, its arguments, its environment and
 * the working directory that are not UTF-8 must reach the program and the trace as the bytes
 * they are, and messages must show them (as \xHH), not turn them into other names.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, assertNoneLeft, freshDir } from './helpers.js';

const FF = Buffer.of(0xff);
const withFF = (s: string) => Buffer.concat([Buffer.from(s), FF]);

/** Runs `script` with sh in directory `cwd` (a printf format: \\377 makes the byte 0xff), with
 * $ff the byte 0xff: Node passes a child only UTF-8 arguments, sh's printf makes any byte. */
function sh(script: string, cwd: string): { status: number | null; stdout: Buffer; stderr: Buffer } {
  const r = spawnSync('/bin/sh', ['-c', `ff=$(printf '\\377'); cd "$(printf "$START")" && ${script}`], {
    env: { ...process.env, START: cwd, NODE: process.execPath, CLI },
    timeout: 120_000,
    maxBuffer: 1 << 24,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tsrr = '"$NODE" "$CLI"';
/** Prints its name, argument and a variable, then what the kernel calls the process (its
 * comm, set by exec from the program's file name). */
const PROGRAM = `"./sh$ff" -c 'printf "%s|%s|" "$0" "$TSRR_B"; read c < /proc/$$/comm; printf "%s\\n" "$c"' "a\${ff}b"`;

describe('names that are not UTF-8', () => {
  test('reach the program and the trace as bytes, and replay (from a checkpoint too) gives the same', () => {
    const base = freshDir();
    // A working directory that is not UTF-8 either (-o and the program are relative to it).
    const cwd = join(base, 'c\\377');
    mkdirSync(withFF(join(base, 'c')));
    copyFileSync('/bin/sh', Buffer.concat([withFF(join(base, 'c')), Buffer.from('/'), withFF('sh')]));
    const run = (script: string) => sh(`export TSRR_B="v\${ff}x"; ${script}`, cwd);

    const native = run(PROGRAM);
    assert.equal(native.status, 0, String(native.stderr));
    assert.deepEqual(native.stdout, Buffer.concat([Buffer.from('a'), FF, Buffer.from('b|v'), FF, Buffer.from('x|sh'), FF, Buffer.from('\n')]));

    const record = run(`${tsrr} record -o "tr\${ff}ace" ${PROGRAM}`);
    assert.equal(record.status, 0, String(record.stderr));
    assert.deepEqual(record.stdout, native.stdout);
    const names = readdirSync(withFF(join(base, 'c')), { encoding: 'buffer' }).map((n) => n.toString('latin1'));
    assert.deepEqual(names.sort(), ['sh\xff', 'tr\xfface'], 'the trace is where -o names it');

    const replay = run(`${tsrr} replay -a "tr\${ff}ace"`);
    assert.equal(replay.status, 0, String(replay.stderr));
    assert.deepEqual(replay.stdout, native.stdout);

    const info = JSON.parse(String(run(`${tsrr} traceinfo "tr\${ff}ace"`).stdout)) as { dir: string; events: number; program: string; argv: string[]; envp: string[]; cwd: string };
    // JSON has the bytes that are not UTF-8 as lone surrogates U+DC00 + byte.
    assert.equal(info.dir, `${base}/c\udcff/tr\udcfface`);
    assert.equal(info.cwd, `${base}/c\udcff`);
    assert.equal(info.program, './sh\udcff');
    assert.equal(info.argv.at(-1), 'a\udcffb');
    assert.ok(info.envp.includes('TSRR_B=v\udcffx'), 'the environment entry is kept');

    // Event numbers follow from the trace (a CPU with cpuid faulting has more of them).
    const made = run(`${tsrr} --plugin pcp create-checkpoints -i ${Math.floor(info.events / 3)} "tr\${ff}ace"`);
    assert.equal(made.status, 0, String(made.stderr));
    assert.match(String(made.stderr), /created \d+ checkpoints? in .*\/c\\xff\/tr\\xfface\/checkpoints/);
    const fromCheckpoint = run(`${tsrr} --plugin pcp replay -a -g ${info.events - 1} "tr\${ff}ace" > /dev/null && ${tsrr} --plugin pcp replay -a "tr\${ff}ace"`);
    assert.equal(fromCheckpoint.status, 0, String(fromCheckpoint.stderr));
    assert.match(String(fromCheckpoint.stderr), /starting from the checkpoint at event \d+/);
    assert.deepEqual(fromCheckpoint.stdout, native.stdout);

    const missing = run(`${tsrr} replay -a "tr\${ff}ace/nothere"`);
    assert.equal(missing.status, 1);
    assert.match(String(missing.stderr), /^tsrr: no trace at tr\\xfface\/nothere /);
    assertNoneLeft([`${base}/c`]);
  });

  test('a trace root that is not UTF-8 holds traces, latest-trace included; ls, mv and rm take such names', () => {
    const base = freshDir();
    const r = sh(
      `export _RR_TRACE_DIR="$PWD/r\${ff}oot"; ${tsrr} record /bin/echo "x\${ff}" > rec.out && ${tsrr} replay -a > rep.out && cmp rec.out rep.out && ${tsrr} ls && ` +
        `${tsrr} mv echo-0 "e\${ff}" && ${tsrr} ls -l && ${tsrr} replay -a "e\${ff}" > rep2.out && cmp rec.out rep2.out && ${tsrr} rm "e\${ff}" && ${tsrr} ls && echo listed`,
      base,
    );
    assert.equal(r.status, 0, String(r.stderr));
    const [listed, moved, after] = String(r.stdout).split('\n').filter(Boolean);
    assert.equal(listed, 'echo-0 (latest)');
    assert.match(moved!, /^e\\xff \(latest\) .*\/bin\/echo x\\xff$/, 'ls -l shows the new name, still latest, and the command line');
    assert.equal(after, 'listed', 'rm removed the trace');
    assert.deepEqual(readdirSync(Buffer.concat([withFF(join(base, 'r')), Buffer.from('oot')])), [], 'rm left the trace or latest-trace behind');
  });
});
