// SPDX-License-Identifier: MIT
/** `tsrr mv OLD NEW`: renames a trace; a NEW without a slash stays beside OLD (under the trace
 * root, usually). latest-trace follows it. */
import { existsSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CommandModule } from 'yargs';
import type { CliContext } from '../CliContext.js';
import { absolute, latestTrace, markLatest, withFinishedTrace } from '../traceDir.js';
import { encodeBytes } from '../../native/byteString.js';
import { TsrrError } from '../../native/TsrrError.js';

export function mvCommand(_ctx: CliContext): CommandModule {
  return {
    command: 'mv [old] [new]',
    describe: 'rename a trace (latest-trace follows it)',
    builder: (y) => y.positional('old', { type: 'string', describe: 'trace directory or name' }).positional('new', { type: 'string', describe: 'new name, or a path' }),
    handler: (argv) => {
      if (argv.new === undefined) throw new TsrrError('BAD_ARGUMENT', 'mv needs a trace and its new name: tsrr mv OLD NEW');
      const name = String(argv.new);
      if (name === '' || name === '.' || name === '..' || name === 'latest-trace') throw new TsrrError('BAD_ARGUMENT', `mv: ${JSON.stringify(name)} cannot name a trace`, { name });
      withFinishedTrace(argv.old as string, 'renaming', (dir) => {
        const to = name.includes('/') ? absolute(name) : join(dirname(dir), name);
        if (existsSync(encodeBytes(to))) throw new TsrrError('BAD_ARGUMENT', `mv: ${to} already exists`, { dir: to });
        const wasLatest = latestTrace() === dir;
        try {
          renameSync(encodeBytes(dir), encodeBytes(to));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EXDEV') throw new TsrrError('BAD_ARGUMENT', `mv: ${to} is on another file system than ${dir}`, { dir: to });
          throw e;
        }
        if (wasLatest) markLatest(to);
      });
    },
  };
}
