// SPDX-License-Identifier: MIT
/**
 * Debugging replays with real gdb (the gdbserver plugin). debugme.c is recorded once; gdb
 * scripts run in batch mode against `tsrr replay` (which starts gdb) or against `tsrr replay
 * -s PORT` (which waits for one), and what gdb prints is checked: breakpoints, locals and
 * globals, backtraces, next and finish, registers, memory, threads, watchpoints, the end of
 * the program. A raw client sends bad packets, addresses the kernel refuses and breakpoints at
 * the pc, and drops the connection: tsrr answers or ends cleanly and leaves no tracee behind,
 * nor a file when it is killed.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { GDB_TIMEOUT, assertLines, hasGdb, underGdb as runGdb } from './gdb.js';
import { assertNoneLeft, compile, describeRun, start, tempDir, tsrr, type Started } from './helpers.js';

/** gdbserver alone (a default plugin): going back replays from the start, pcp's checkpoints
 * are tested in gdbCheckpoints.test.ts. */
const GDB = ['--no-plugin', 'pcp'];
const TIMEOUT = GDB_TIMEOUT;

let tmp: string;
let trace: string;
let program: string;

const underGdb = (commands: string[], extra: string[] = []) => runGdb(trace, commands, { tsrrArgs: GDB, replayArgs: extra, dir: tmp });

describe('gdb on a replay (gdbserver plugin)', { skip: hasGdb ? false : 'gdb is not installed' }, () => {
  before(() => {
    tmp = tempDir('tsrr-gdb-');
    program = compile('debugme', ['-pthread', '-O0']);
    trace = join(tmp, 'trace');
    const rec = tsrr(['record', '-o', trace, program]);
    assert.equal(rec.status, 0, describeRun('record', rec));
    assert.equal(rec.stdout.toString(), 'total 285 counter 10\nchecksum 1498500\n');
  });

  test('break, continue, bt, print, next, finish, info registers, x, and the end', async () => {
    const r = await underGdb([
      'break square',
      'continue',
      'bt',
      'print x',
      'print counter',
      'next',
      'next',
      'print y',
      'finish',
      'continue',
      'print x',
      'info registers rip',
      'x/4xw &counter',
      'delete',
      'continue',
    ]);
    assert.equal(r.status, 0, describeRun('replay under gdb', r));
    assertLines(r.out, [
      /Breakpoint 1 at 0x[0-9a-f]+: file .*debugme\.c, line 12\./,
      /Breakpoint 1, square \(x=0\) at .*debugme\.c:12/,
      /#0  square \(x=0\) at .*debugme\.c:12\n#1  0x[0-9a-f]+ in main \(\) at .*debugme\.c:25/,
      /\$1 = 0/,
      /\$2 = 0/,
      /13\t  return y;/,
      /\$3 = 0/,
      /Run till exit|Value returned is \$4 = 0/,
      /Breakpoint 1, square \(x=1\)/,
      /\$5 = 1/,
      /rip +0x[0-9a-f]+ +0x[0-9a-f]+ <square\+\d+>/,
      /<counter>:\t0x00000001\t/,
      /total 285 counter 10\nchecksum 1498500\n/,
      /(?:Program|Thread \d+) received signal SIGKILL, Killed\.\n(?:\[Switching.*\n)?.*_exit/,
    ]);
    assertNoneLeft([trace]);
  });

  test('threads: info threads, thread N, a breakpoint in a thread', async () => {
    const r = await underGdb(['break worker', 'continue', 'info threads', 'thread 1', 'bt 1', 'thread 2', 'print counter', 'continue', 'continue', 'delete', 'continue']);
    assert.equal(r.status, 0, describeRun('replay under gdb', r));
    assertLines(r.out, [
      /Thread 2 hit Breakpoint 1, worker \(arg=0x1\)/,
      /\n  1 +Thread \d+\.\d+ .*\n\* 2 +Thread \d+\.\d+ +worker \(arg=0x1\)/,
      /Switching to thread 1/,
      /#0 /,
      /Switching to thread 2/,
      /\$1 = 10/,
      /hit Breakpoint 1, worker \(arg=0x2\)/,
      /(?:Program|Thread \d+) received signal SIGKILL/,
    ]);
  });

  test('tsrr replay alone starts gdb, with pcp on: in-memory checkpoints, none written to the trace', async () => {
    const r = await runGdb(trace, ['break square', 'continue', 'checkpoint', 'info checkpoints', 'print x', 'delete', 'continue'], { dir: tmp });
    assert.equal(r.status, 0, describeRun('tsrr replay under gdb', r));
    assertLines(r.out, [/Breakpoint 1, square \(x=0\)/, /Checkpoint 1 at event \d+/, /1\tevent \d+/, /\$1 = 0/, /(?:Program|Thread \d+) received signal SIGKILL/]);
    assert.ok(!existsSync(join(trace, 'checkpoints')), 'a replay wrote persistent checkpoints unasked');
  });

  test('a watchpoint on a global stops at each change, also in a thread made later', async () => {
    const r = await underGdb(['break main', 'continue', 'watch counter', 'continue', 'continue', 'print counter', 'delete', 'watch checksum', 'continue', 'print checksum', 'delete', 'continue']);
    assert.equal(r.status, 0, describeRun('replay under gdb', r));
    assertLines(r.out, [
      /Hardware watchpoint 2: counter/,
      /Old value = 0\nNew value = 1/,
      /Old value = 1\nNew value = 2/,
      /\$1 = 2/,
      /Hardware watchpoint 3: checksum/,
      /Thread 2 hit Hardware watchpoint 3: checksum\n\nOld value = 0\nNew value = 1\n.*in worker/,
      /\$2 = 1/,
      /(?:Program|Thread \d+) received signal SIGKILL/,
    ]);
  });

  // With pcp (the default) only: without checkpoints, each step back single-steps the replay
  // from its start to check the watchpoint (about a minute here, past the test's limit under load).
  test('reverse-continue from a watchpoint stop goes back over the write that stopped it', async () => {
    const r = await runGdb(trace, ['break main', 'continue', 'delete', 'watch counter', 'continue', 'continue', 'reverse-continue', 'print counter', 'reverse-continue', 'print counter', 'continue', 'print counter'], { dir: tmp });
    assert.equal(r.status, 0, describeRun('replay under gdb', r));
    assertLines(r.out, [
      /Old value = 0\nNew value = 1/,
      /Old value = 1\nNew value = 2/,
      // gdb shows a change seen going back as the value before the stop, then the one at it.
      /Old value = 2\nNew value = 1\n.*\n26\t    counter\+\+;/,
      /\$1 = 1/,
      /Old value = 1\nNew value = 0\n.*\n26\t    counter\+\+;/,
      /\$2 = 0/,
      /Old value = 0\nNew value = 1/, // forward again: the same write
      /\$3 = 1/,
    ]);
  });

  test('reverse-continue, reverse-finish, reverse-stepi and reverse-next go back exactly', async () => {
    const r = await underGdb([
      'break square',
      'continue',
      'continue',
      'continue',
      'print x',
      'reverse-continue',
      'print x',
      'reverse-continue',
      'print x',
      'print counter',
      'continue',
      'reverse-finish',
      'print counter',
      'print $pc',
      'reverse-stepi',
      'print $pc',
      'stepi',
      'print $pc',
      'delete',
      'break debugme.c:26',
      'continue',
      'print counter',
      'reverse-next',
      'print counter',
      'delete',
      'continue',
    ]);
    assert.equal(r.status, 0, describeRun('replay under gdb', r));
    assertLines(r.out, [
      /Breakpoint 1, square \(x=2\)/,
      /\$1 = 2/,
      /Breakpoint 1, square \(x=1\)/,
      /\$2 = 1/,
      /Breakpoint 1, square \(x=0\)/,
      /\$3 = 0/,
      /\$4 = 0/,
      /Breakpoint 1, square \(x=1\)/,
      /in main \(\) at .*debugme\.c:25/,
      /\$5 = 1/,
      /\$6 = \(void \(\*\)\(\)\) (0x[0-9a-f]+) <main\+\d+>/,
      /\$7 = \(void \(\*\)\(\)\) (0x[0-9a-f]+) <main\+\d+>/,
      /\$8 = \(void \(\*\)\(\)\) (0x[0-9a-f]+) <main\+\d+>/,
      /Breakpoint 2, main \(\) at .*debugme\.c:26/,
      /\$9 = 1/,
      /25\t    total \+= square\(i\);/,
      /\$10 = 1/,
      /(?:Program|Thread \d+) received signal SIGKILL/,
    ]);
    // reverse-stepi went back one instruction, stepi came forward to the same place.
    const pcs = [...r.out.matchAll(/\$[678] = \(void \(\*\)\(\)\) (0x[0-9a-f]+)/g)].map((m) => BigInt(m[1]!));
    assert.equal(pcs.length, 3);
    assert.ok(pcs[1]! < pcs[0]! && pcs[0]! - pcs[1]! <= 15n, `reverse-stepi from ${pcs[0]} went to ${pcs[1]}`);
    assert.equal(pcs[2], pcs[0], 'stepi comes back to where reverse-stepi started');
  });

  test('stepping and continuing from a breakpoint run the program as recorded', async () => {
    // Breakpoints stay in while gdb steps: the server runs the instruction under each.
    const r = await underGdb(['set breakpoint always-inserted on', 'break debugme.c:25', 'continue', 'stepi', 'stepi', 'step', 'next', 'continue', 'print i', 'stepi', 'next', 'continue', 'print i', 'delete', 'continue']);
    assert.equal(r.status, 0, describeRun('replay under gdb', r));
    assertLines(r.out, [
      /Breakpoint 1, main \(\) at .*debugme\.c:25/,
      /square \(x=0\) at .*debugme\.c:12/,
      /Breakpoint 1, main \(\) at .*debugme\.c:25/,
      /\$1 = 1/,
      /Breakpoint 1, main \(\) at .*debugme\.c:25/,
      /\$2 = 2/,
      /total 285 counter 10\nchecksum 1498500\n/,
      /(?:Program|Thread \d+) received signal SIGKILL/,
    ]);
    assert.doesNotMatch(r.out, /tsrr: /, 'no divergence');
  });

  // rr's exit stop: the end of the replay is a stop (gdb shows SIGKILL) to go back from.
  for (const [name, args] of [['gdbserver alone', GDB], ['pcp too', []]] as [string, string[]][]) {
    test(`continue to the end stops there, and reverse-continue goes back to the last breakpoint hit (${name})`, async () => {
      const r = await runGdb(trace, ['continue', 'info threads', 'break square', 'reverse-continue', 'print x', 'continue', 'continue', 'bt 1'], { tsrrArgs: args, dir: tmp });
      assert.equal(r.status, 0, describeRun('replay under gdb', r));
      assertLines(r.out, [
        /total 285 counter 10\nchecksum 1498500\n/,
        /(?:Program|Thread \d+) received signal SIGKILL, Killed\.\n(?:\[Switching.*\n)?.*_exit/,
        /\* 1 +Thread \d+\.\d+ .*_exit/,
        /Breakpoint 1, square \(x=9\)/,
        /\$1 = 9/,
        /(?:Program|Thread \d+) received signal SIGKILL, Killed\./,
        /(?:Program|Thread \d+) received signal SIGKILL, Killed\./, // going on from the end stays there
        /#0 .*_exit/,
      ]);
      assert.doesNotMatch(r.out, /exited normally|not being run|tsrr: /);
      assertNoneLeft([trace]);
    });
  }

  test('replay -e starts gdb at the end; going back and on again works from there', async () => {
    const r = await underGdb(['bt 1', 'break square', 'reverse-continue', 'print x', 'delete', 'continue', 'reverse-stepi', 'continue', 'checkpoint'], ['-e']);
    assert.equal(r.status, 0, describeRun('replay -e under gdb', r));
    assertLines(r.out, [/#0 .*_exit/, /Breakpoint 1, square \(x=9\)/, /\$1 = 9/, /(?:Program|Thread \d+) received signal SIGKILL/, /(?:Program|Thread \d+) received signal SIGKILL/, /cannot checkpoint at the end of the replay/]);
    assert.doesNotMatch(r.out, /exited normally|not being run/);
  });

  test('a program that crashes: its signal, then the end stop there, and back to the write before', async () => {
    const dir = join(tmp, 'crash');
    const rec = tsrr(['record', '-o', dir, compile('crash')]);
    assert.notEqual(rec.status, 0);
    const r = await runGdb(dir, ['continue', 'continue', 'print g', 'watch g', 'reverse-continue', 'print g'], { tsrrArgs: GDB, dir: tmp });
    assert.equal(r.status, 0, describeRun('replay of a crash under gdb', r));
    assertLines(r.out, [/Program received signal SIGSEGV/, /(?:Program|Thread \d+) received signal SIGKILL/, /\$1 = 5/, /Old value = 5\nNew value = 0/, /\$2 = 0/]);
    assert.doesNotMatch(r.out, /terminated|not being run/);
    const e = await runGdb(dir, ['print g'], { tsrrArgs: GDB, replayArgs: ['-e'], dir: tmp });
    assertLines(e.out, [/SIGSEGV|main \(\) at .*crash\.c/, /\$1 = 5/]);
  });

  test("rr's gdb options: -x FILE runs a script, -o passes an option, -d names the gdb, -h the address", async () => {
    const script = join(tmp, 'extra.gdb');
    writeFileSync(script, 'break square\n');
    const gdbPath = spawnSync('sh', ['-c', 'command -v gdb'], { encoding: 'utf8' }).stdout.trim();
    const r = await underGdb(['continue', 'print x'], ['-x', script, '-o=--nh', '-d', gdbPath, '-h', '127.0.0.1']);
    assert.equal(r.status, 0, describeRun('replay -x -o -d -h under gdb', r));
    assertLines(r.out, [/Breakpoint 1 at/, /Breakpoint 1, square \(x=0\)/, /\$1 = 0/]);
  });

  test('replay -g N starts gdb at event N', async () => {
    const r = await underGdb(['monitor when', 'continue'], ['-g', '40']);
    assert.equal(r.status, 0, describeRun('replay -g 40 under gdb', r));
    assert.match(r.out, /Current event: 40\n/);
    assert.match(r.out, /(?:Program|Thread \d+) received signal SIGKILL/);
  });

  test('replay -f PID debugs that process, from where it starts', async () => {
    const dir = join(tmp, 'forked');
    const rec = tsrr(['record', '-o', dir, compile('fork_pipe')]);
    assert.equal(rec.status, 0, describeRun('record', rec));
    const child = tsrr(['ps', dir]).stdout.toString().trim().split('\n')[2]!.split('\t')[0]!;
    const r = await runGdb(dir, ['info inferiors', 'bt 3', 'continue'], { replayArgs: ['-f', child], dir: tmp });
    assert.equal(r.status, 0, describeRun(`replay -f ${child} under gdb`, r));
    assertLines(r.out, [new RegExp(`\\* 1 +process ${child} `), /in main \(\) at .*fork_pipe\.c:16/, /exited normally/]);
  });

  describe('tsrr replay -s PORT', () => {
    /** Starts a server on a free port; resolves with it and the port once it listens. */
    async function serve(dir = trace, env?: NodeJS.ProcessEnv): Promise<{ s: Started; port: number }> {
      const s = start([...GDB, 'replay', '-s', '0', dir], { env });
      for (let i = 0; i < 600; i++) {
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(s.stderr());
        if (m) return { s, port: Number(m[1]) };
        await new Promise((r) => setTimeout(r, 50));
      }
      s.child.kill('SIGKILL');
      throw new Error(`the server did not start: ${s.stderr()}`);
    }

    test('gdb connects with the command tsrr prints', async () => {
      const { s, port } = await serve();
      // The line defines tsrr's gdb commands too (-ix SCRIPT): `when` is one.
      const line = new RegExp(`gdb -ix (\\S+) -ex 'target extended-remote 127\\.0\\.0\\.1:${port}'`).exec(s.stderr());
      assert.ok(line, s.stderr());
      const script = join(tmp, 'connect.gdb');
      writeFileSync(script, ['break square', 'continue', 'print x', 'when', 'delete', 'continue'].join('\n') + '\n');
      const g = spawnSync('gdb', ['-batch', '-nx', '-ix', line[1]!, '-ex', `target extended-remote 127.0.0.1:${port}`, '-x', script], { encoding: 'utf8', timeout: TIMEOUT });
      assertLines(g.stdout, [/Breakpoint 1, square \(x=0\)/, /\$1 = 0/, /(?:Program|Thread \d+) received signal SIGKILL/]);
      assert.match(g.stderr, /Current event: \d+/); // gdb prints monitor output there
      const end = await s.exited;
      assert.equal(end.code, 0, s.stderr());
      assertNoneLeft([trace]);
    });

    /** A raw protocol client. */
    function client(port: number): Promise<{ sock: Socket; next: () => Promise<string> }> {
      return new Promise((resolve, reject) => {
        const sock = connect(port, '127.0.0.1', () => {
          let buf = '';
          let closed = false;
          const waiters: (() => void)[] = [];
          const wake = () => waiters.splice(0).forEach((w) => w());
          sock.on('data', (d) => {
            buf += d.toString('latin1');
            wake();
          });
          sock.on('close', () => {
            closed = true;
            wake();
          });
          /** The next packet's payload (acks skipped). */
          const next = async (): Promise<string> => {
            for (;;) {
              buf = buf.replace(/^[+-]+/, '');
              const m = /^\$([^#]*)#[0-9a-f]{2}/.exec(buf);
              if (m) {
                buf = buf.slice(m[0].length);
                return m[1]!;
              }
              if (closed) throw new Error('the server closed the connection');
              await new Promise<void>((r) => waiters.push(r));
            }
          };
          resolve({ sock, next });
        });
        sock.on('error', reject);
      });
    }

    const frame = (p: string) => `$${p}#${(Buffer.from(p).reduce((a, b) => a + b, 0) & 0xff).toString(16).padStart(2, '0')}`;

    /** A raw client's exchange: sends `packet`, resolves with the reply. */
    async function ask(c: { sock: Socket; next: () => Promise<string> }, packet: string): Promise<string> {
      c.sock.write(frame(packet));
      return c.next();
    }

    /** The pc in a `g` reply (rip, the 17th register, little-endian). */
    const pcOf = (g: string) => Buffer.from(g.slice(16 * 16, 17 * 16), 'hex').readBigUInt64LE(0).toString(16);
    const RECORDED = 'total 285 counter 10\nchecksum 1498500\n';

    test("gdb's interrupt (0x03) stops a replay running user code, and kill ends it", async () => {
      const spin = compile('spin');
      const spinTrace = join(tmp, 'spin-trace');
      const rec = tsrr(['record', '-o', spinTrace, spin, '2000000000']);
      assert.equal(rec.status, 0, describeRun('record spin', rec));
      const { s, port } = await serve(spinTrace);
      const c = await client(port);
      c.sock.write(frame('vCont;c'));
      await new Promise((r) => setTimeout(r, 300));
      const asked = Date.now();
      c.sock.write('\x03');
      assert.match(await c.next(), /^T02thread:p[0-9a-f]+\.[0-9a-f]+;$/, 'an interrupt stops with SIGINT');
      assert.ok(Date.now() - asked < 2000, `the interrupt took ${Date.now() - asked} ms`);
      c.sock.write(frame('g'));
      assert.match(await c.next(), /^[0-9a-f]{100,}$/, 'registers after the interrupt');
      c.sock.write(frame('k'));
      const end = await s.exited;
      c.sock.destroy();
      assert.equal(end.code, 0, s.stderr());
      assert.equal(s.stdout().length, 0, 'the replay did not run on to the end');
      assertNoneLeft([spinTrace]);
    });

    test('addresses and values the kernel refuses get error replies, and the session lives on', async () => {
      const { s, port } = await serve();
      const c = await client(port);
      const sp = Buffer.from((await ask(c, 'g')).slice(7 * 16, 8 * 16), 'hex').readBigUInt64LE(0).toString(16);
      const kernel = 'ffff800000000000';
      const refused = [
        ...['1', '2', '3', '4'].flatMap((z) => [`Z${z},${kernel},1`, `Z${z},${kernel},8`]), // gdb's hbreak, watch, rwatch, awatch there
        'Z2,fffffffffffffffc,8', // past the end of the address space
        `Z0,${kernel},1`,
        'Z0,0,1', // unmapped
        `Z0,${sp},1`, // the stack: data, not code
        `m${kernel},10`,
        'mfffffffffffffff0,100',
        `M${sp},1:00`,
        'G00',
        'P10=00', // rip, too short
        'pffffffffffffffff',
        'vCont;s:p1.99999', // no such thread
      ];
      for (const p of refused) assert.match(await ask(c, p), /^E[0-9a-f]{2}$/, `${p} is refused`);
      assert.equal(await ask(c, `z2,${kernel},8`), 'OK', 'removing what is not there is fine');
      assert.equal(await ask(c, 'qXfer:auxv:read::ffffffffff,10'), 'l', 'auxv past its end is empty');
      assert.equal(await ask(c, 'vFile:open:2f,0,0'), '', 'vFile is not served');
      assert.match(await ask(c, 'g'), /^[0-9a-f]{100,}$/, 'registers');
      assert.match(await ask(c, 'vCont;c'), /^T09thread:p[0-9a-f]+\.[0-9a-f]+;$/, 'the replay runs on to its end, where it stops');
      c.sock.write(frame('k'));
      const end = await s.exited;
      c.sock.destroy();
      assert.equal(end.code, 0, s.stderr());
      assert.equal(s.stdout().toString(), RECORDED);
      assert.doesNotMatch(s.stderr(), /tsrr: (?!listening)|    at /, 'no error');
      assertNoneLeft([trace]);
    });

    test('a step or continue from a breakpoint at the pc runs the instruction there', async () => {
      const { s, port } = await serve();
      const c = await client(port);
      const pc = pcOf(await ask(c, 'g'));
      assert.match(await ask(c, 'vCont;s'), /^T05/);
      const next = pcOf(await ask(c, 'g')); // one instruction on, without breakpoints
      for (const [insert, remove] of [['Z0', 'z0'], ['Z1', 'z1']]) {
        assert.match(await ask(c, 'bs'), /^T05/);
        assert.equal(pcOf(await ask(c, 'g')), pc, 'reverse-stepi goes back');
        assert.equal(await ask(c, `${insert},${pc},1`), 'OK');
        assert.match(await ask(c, 'vCont;s'), /^T05/);
        assert.equal(pcOf(await ask(c, 'g')), next, `a step from ${insert} goes one instruction on`);
        assert.match(await ask(c, 'bc'), /^T05/, 'reverse-continue stops at the breakpoint');
        assert.equal(pcOf(await ask(c, 'g')), pc);
        assert.match(await ask(c, `s`), /^T05/);
        assert.equal(pcOf(await ask(c, 'g')), next, `a step after reverse-continue to ${insert} goes one instruction on`);
        assert.equal(await ask(c, `${remove},${pc},1`), 'OK');
      }
      // A continue from the breakpoint runs on, with it still in. (Not a hardware one: where
      // debug registers do nothing, replay single-steps while one is set, which is slow.)
      assert.match(await ask(c, 'bs'), /^T05/);
      assert.equal(await ask(c, `Z0,${pc},1`), 'OK');
      assert.match(await ask(c, 'c'), /^T09/, 'the replay runs on to its end, where it stops');
      c.sock.write(frame('k'));
      const end = await s.exited;
      c.sock.destroy();
      assert.equal(end.code, 0, s.stderr());
      assert.equal(s.stdout().toString(), RECORDED);
      assertNoneLeft([trace]);
    });

    test('a SIGKILL of tsrr leaves no file behind', async () => {
      const dir = join(tmp, 'tmpdir');
      mkdirSync(dir);
      const env = { ...process.env, TMPDIR: dir };
      // What any tsrr run keeps there (jiti's cache of a config file, if one is found).
      assert.equal(tsrr(['traceinfo', trace], { env }).status, 0);
      const kept = readdirSync(dir);
      const { s, port } = await serve(trace, env);
      const c = await client(port);
      assert.match(await ask(c, 'vCont;s'), /^T05/);
      s.child.kill('SIGKILL');
      await s.exited;
      c.sock.destroy();
      assert.deepEqual(readdirSync(dir), kept);
      assertNoneLeft([trace, program]);
    });

    test('bad packets get answers, a dropped connection ends tsrr cleanly, a second client does no harm', async () => {
      const { s, port } = await serve();
      const c = await client(port);
      c.sock.write('garbage without a frame');
      c.sock.write('$qSupported#00'); // wrong checksum: '-' and ignored
      c.sock.write(frame('qTotallyUnknownPacket'));
      assert.equal(await c.next(), '', 'an unknown packet gets the empty reply');
      c.sock.write(frame('m0,8'));
      assert.match(await c.next(), /^E/, 'unreadable memory is an error reply');
      c.sock.write(frame('g'));
      assert.match(await c.next(), /^[0-9a-f]{100,}$/, 'registers');
      c.sock.write(frame('Z0,zz'));
      assert.match(await c.next(), /^(E\d\d|OK)$/);
      // A second client meanwhile: it is not served, and nothing breaks.
      const second = connect(port, '127.0.0.1');
      second.on('error', () => {});
      c.sock.write(frame('vCont;s'));
      assert.match(await c.next(), /^T05thread:p[0-9a-f]+\.[0-9a-f]+;$/, 'a step stops with SIGTRAP');
      c.sock.destroy();
      const end = await s.exited;
      second.destroy();
      assert.equal(end.signal, null, s.stderr());
      assert.doesNotMatch(s.stderr(), /internal error|    at /, 'no stack trace');
      assertNoneLeft([trace]);
    });
  });
});
