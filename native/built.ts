// SPDX-License-Identifier: MIT
/**
 * The C parts native/build.mjs builds into native/build/ (at install time, or with the build in
 * a checkout). One that is missing is a one-line error saying how to build it, not koffi's or
 * posix_spawn's failure.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TsrrError } from './TsrrError.js';

const NATIVE = new URL('../../native/', import.meta.url);

/** The path of the built file `name`, which must exist. */
export function builtFile(name: string): string {
  const path = fileURLToPath(new URL(`build/${name}`, NATIVE));
  if (!existsSync(path)) {
    const build = fileURLToPath(new URL('build.mjs', NATIVE));
    throw new TsrrError('NOT_BUILT', `the C parts are not built (no ${path}): run node ${build} (it needs gcc and the C library's headers and static library: Debian's gcc and libc6-dev)`, { file: path });
  }
  return path;
}
