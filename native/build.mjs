// SPDX-License-Identifier: MIT
// Builds the native parts with the machine's gcc into native/build/, skipping up-to-date ones.
import { execFileSync } from 'node:child_process';
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

const mtime = (p) => { try { return statSync(p).mtimeMs; } catch { return -1; } };

for (const { src, bin, flags } of targets) {
  const input = join(here, src);
  const output = join(out, bin);
  if (mtime(output) >= mtime(input)) continue;
  try {
    execFileSync('gcc', [...flags, '-Wall', '-o', output, input], { stdio: 'inherit' });
  } catch {
    console.error(`tsrr: building native/${src} failed; gcc is needed (Debian: apt-get install gcc)`);
    process.exit(1);
  }
}
