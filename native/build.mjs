// SPDX-License-Identifier: MIT
// Builds the native parts with the machine's gcc into native/build/, skipping up-to-date ones.
// Runs at install time (package.json's install script) and in the build: what is missing to
// build them (gcc, the C library's headers or static library) is said in one line, exit 1.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'build');
mkdirSync(out, { recursive: true });

const targets = [
  { src: 'launcher.c', bin: 'tsrr-launch', flags: ['-O2', '-static'] },
  { src: 'cpu.c', bin: 'libtsrr-cpu.so', flags: ['-O2', '-shared', '-fPIC'] },
  { src: 'wait.c', bin: 'libtsrr-wait.so', flags: ['-O2', '-shared', '-fPIC'] },
  { src: 'probes.c', bin: 'libtsrr-probes.so', flags: ['-O2', '-shared', '-fPIC'] },
  // Bound at load: lazy binding would run the dynamic linker (writing its data and the stack)
  // at different times in recording and replay, whose paths through the library differ.
  { src: 'preload.c', bin: 'libtsrr-preload.so', flags: ['-O2', '-shared', '-fPIC', '-fno-stack-protector', '-ftls-model=initial-exec', '-Wl,-z,now'] },
];

// A failed install script leaves no package behind (npm rolls the install back).
const retry = process.env.npm_lifecycle_event === 'install' ? 'then install tsrr again' : `then run node ${join(here, 'build.mjs')}`;
const mtime = (p) => { try { return statSync(p).mtimeMs; } catch { return -1; } };
const LIBC_DEV = "install Debian's libc6-dev (Fedora: glibc-devel and glibc-static)";

/** What gcc's output says is missing, in one line, or undefined for an error of another kind. */
function missing(stderr) {
  const header = /fatal error: ([^:\s]+\.h): No such file or directory/.exec(stderr);
  if (header) return `the C library's headers are missing (no ${header[1]}); ${LIBC_DEV}`;
  if (/cannot find -lc\b/.test(stderr)) return `the C library's static library (libc.a) is missing; ${LIBC_DEV}`;
  return undefined;
}

for (const { src, bin, flags } of targets) {
  const input = join(here, src);
  const output = join(out, bin);
  if (mtime(output) >= mtime(input)) continue;
  const r = spawnSync('gcc', [...flags, '-Wall', '-o', output, input], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (r.error?.code === 'ENOENT') {
    console.error(`tsrr: cannot build its C parts: gcc is not installed; install Debian's gcc and libc6-dev (Fedora: gcc, glibc-devel and glibc-static), ${retry}`);
    process.exit(1);
  }
  if (r.error || r.status !== 0) {
    const what = missing(r.stderr ?? '');
    if (what) console.error(`tsrr: cannot build native/${src}: ${what}, ${retry}`);
    else console.error(`${r.stderr ?? ''}tsrr: building native/${src} failed (${r.error?.message ?? "gcc's errors above"})`);
    process.exit(1);
  }
  process.stderr.write(r.stderr); // warnings
}
