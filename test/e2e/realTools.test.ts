// SPDX-License-Identifier: MIT
/**
 * Record and replay of real tools that start processes and threads: gcc, a shell pipeline, git,
 * make, node and python. Each case records one command with `tsrr record`, replays it with
 * `tsrr replay -a` and checks that the replay printed the recording's stdout byte for byte, that
 * both ended alike and that the replay reported success, plus a check of its own that the
 * recording did what the tool does. A case is skipped only when its tool is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describeRun, freshDir, tsrrAsync, type Run } from './helpers.js';

/** Record and replay together get this long; the test itself gets a little more. */
const BUDGET_MS = 115_000;

interface Setup {
  argv: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** The case's own check of the recording. */
  check?: (record: Run) => void;
}

interface Case {
  name: string;
  /** Programs the case runs: absolute paths, or names looked up in PATH. */
  needs: string[];
  /** Builds the command line and the files it needs in `dir` (a fresh directory). */
  setup: (dir: string) => Setup;
}

/** Whether `program` is an executable file (looked up in PATH when it has no slash). */
function installed(program: string): boolean {
  const candidates = program.includes('/') ? [program] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d || '.', program));
  return candidates.some((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A directory `name` under `dir`, created. */
function sub(dir: string, name: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  return d;
}

const PYTHON = `
import os, random, subprocess, threading, time
order, results, lock = [], [0] * 4, threading.Lock()
def work(i):
    total = 0
    for k in range(5):
        total += sum(j * j for j in range(5000 * (i + 1)))
        with lock:
            order.append(f"{i}.{k}")
        time.sleep(0.001)
    results[i] = total
threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(" ".join(order), sum(results))
child = subprocess.run(["/bin/echo", "from a child"], capture_output=True, text=True)
print(child.stdout.strip(), child.returncode, child.args)
print(os.getpid(), subprocess.check_output("echo $$ $PPID", shell=True, text=True).strip())
print(random.random(), time.time())
`;

const cases: Case[] = [
  {
    name: 'gcc -c hello.c',
    needs: ['gcc'],
    setup: (dir) => {
      const cwd = sub(dir, 'src');
      writeFileSync(join(cwd, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
      return {
        argv: ['gcc', '-c', 'hello.c'],
        cwd,
        // gcc -c prints nothing: the comparison of stdout is trivial, so check that it compiled.
        check: () => assert.ok(readFileSync(join(cwd, 'hello.o')).subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')), 'hello.o is not an ELF file'),
      };
    },
  },
  {
    name: "sh -c 'seq 100000 | sort -R | gzip -c | sha256sum'",
    needs: ['/bin/sh', 'seq', 'sort', 'gzip', 'sha256sum'],
    setup: (dir) => ({
      // sort -R shuffles differently on every run, so only the recording tells what replay prints.
      argv: ['/bin/sh', '-c', 'seq 100000 | sort -R | gzip -c | sha256sum'],
      cwd: dir,
      check: (r) => assert.match(r.stdout.toString(), /^[0-9a-f]{64} {2}-\n$/),
    }),
  },
  {
    name: 'git init, add, commit, log',
    needs: ['/bin/sh', 'git'],
    setup: (dir) => {
      const cwd = sub(dir, 'repo');
      const home = sub(dir, 'home');
      writeFileSync(join(cwd, 'a.txt'), 'hello\n');
      writeFileSync(join(cwd, 'b.txt'), 'world\n');
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        HOME: home,
        XDG_CONFIG_HOME: join(home, '.config'),
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: 'Test Author',
        GIT_AUTHOR_EMAIL: 'author@example.com',
        GIT_COMMITTER_NAME: 'Test Committer',
        GIT_COMMITTER_EMAIL: 'committer@example.com',
      };
      return {
        // The commit's hash depends on the time, so it differs between runs a second apart.
        argv: ['/bin/sh', '-c', 'git init -q -b main && git add . && git commit -q -m first && git log --format="%H %ad %s"'],
        cwd,
        env,
        check: (r) => assert.match(r.stdout.toString(), /^[0-9a-f]{40} .+ first\n$/),
      };
    },
  },
  {
    name: 'make of a two-file C project',
    needs: ['make', 'cc'],
    setup: (dir) => {
      const cwd = sub(dir, 'project');
      writeFileSync(join(cwd, 'greet.h'), 'void greet(const char *who);\n');
      writeFileSync(join(cwd, 'greet.c'), '#include <stdio.h>\n#include "greet.h"\nvoid greet(const char *who) { printf("hello, %s\\n", who); }\n');
      writeFileSync(join(cwd, 'main.c'), '#include "greet.h"\nint main(void) { greet("make"); return 0; }\n');
      // Runs the program it built, too: an exec of a file that did not exist when recording began.
      writeFileSync(join(cwd, 'Makefile'), 'hello: main.o greet.o\n\t$(CC) -o $@ main.o greet.o\n\t./hello\n\nmain.o greet.o: greet.h\n');
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const v of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL']) delete env[v];
      return {
        argv: ['make'],
        cwd,
        env,
        check: (r) => assert.match(r.stdout.toString(), /-o main\.o main\.c\n(.*\n)*.*-o greet\.o greet\.c\n(.*\n)*\.\/hello\nhello, make\n$/),
      };
    },
  },
  {
    name: 'node -e "console.log(Math.random(), Date.now())"',
    needs: [process.execPath],
    setup: (dir) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const v of ['NODE_OPTIONS', 'NODE_TEST_CONTEXT']) delete env[v];
      return {
        argv: [process.execPath, '-e', 'console.log(Math.random(), Date.now())'],
        cwd: dir,
        env,
        check: (r) => assert.match(r.stdout.toString(), /^\S+ \d+\n$/),
      };
    },
  },
  {
    name: '/usr/bin/python3 -c with threading and subprocess',
    // Not python3 from PATH: here that can be a pyenv shim (a shell script running another python).
    needs: ['/usr/bin/python3', '/bin/sh', '/bin/echo'],
    setup: (dir) => ({
      argv: ['/usr/bin/python3', '-c', PYTHON],
      cwd: dir,
      check: (r) => assert.match(r.stdout.toString(), /^([0-3]\.[0-4] ){20}\d+\nfrom a child 0 .*\n\d+ \d+ \d+\n\S+ \S+\n$/),
    }),
  },
];

for (const c of cases) {
  test(c.name, { timeout: 120_000 }, async (t) => {
    const missing = c.needs.filter((p) => !installed(p));
    if (missing.length > 0) {
      t.skip(`${missing.join(', ')} not installed`);
      return;
    }
    const dir = freshDir();
    const s = c.setup(dir);
    const trace = join(dir, 'trace');
    const opts = { cwd: s.cwd, ...(s.env ? { env: s.env } : {}) };
    const deadline = Date.now() + BUDGET_MS;
    const record = await tsrrAsync(['record', '-o', trace, '--', ...s.argv], deadline - Date.now(), opts);
    assert.equal(record.status, 0, describeRun('record', record));
    const replay = await tsrrAsync(['replay', '-a', trace], deadline - Date.now(), opts);
    // Both ended with status 0: the recorded command succeeded and the replay matched the trace.
    assert.equal(replay.status, 0, describeRun('replay', replay));
    assert.ok(
      replay.stdout.equals(record.stdout),
      `replay printed something else than the recording:\n--- record\n${record.stdout}\n--- replay\n${replay.stdout}`,
    );
    s.check?.(record);
  });
}
