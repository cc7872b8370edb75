// SPDX-License-Identifier: MIT
/** `tsrr record [-o DIR] [-n] [-w] [-v NAME=VALUE]... [--bind-to-cpu N] [--] PROG [ARGS...]` */
import { writeAll } from '../writeAll.js';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { isatty } from 'node:tty';
import { delimiter, join } from 'node:path';
import type { CommandModule } from 'yargs';
import type { CliContext } from '../CliContext.js';
import { allowedCpus, defaultCpu } from '../machine.js';
import { numberOption, wordOption } from '../optionValues.js';
import { RecordSession } from '../RecordSession.js';
import { PRELOAD_LIBRARY } from '../syscallBuffer.js';
import { TraceDirClaim, absolute, markLatest } from '../traceDir.js';
import { encodeBytes } from '../../native/byteString.js';
import { TsrrError } from '../../native/TsrrError.js';
import { startEnvironment } from '../startArguments.js';

/** Options of tsrr and of `record` that take a value (so their value is not the program, nor the command). */
export const VALUE_OPTIONS = ['-o', '--output', '--bind-to-cpu', '--plugin', '-v', '--env'];

/** Splits argv at the recorded program: everything after it belongs to the program, not to
 * tsrr, so a `--` is put before it for yargs. `valueOptions` adds options (plugins' own) whose
 * next word is their value. */
export function splitProgram(argv: string[], valueOptions: Iterable<string> = []): { tsrrArgs: string[]; all: string[] } {
  const takesValue = new Set([...VALUE_OPTIONS, ...valueOptions]);
  let seenCommand = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { tsrrArgs: argv.slice(0, i), all: argv };
    if (takesValue.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    if (!seenCommand) {
      if (a !== 'record') return { tsrrArgs: argv, all: argv };
      seenCommand = true;
      continue;
    }
    return { tsrrArgs: argv.slice(0, i), all: [...argv.slice(0, i), '--', ...argv.slice(i)] };
  }
  return { tsrrArgs: argv, all: argv };
}

/** The absolute path of `program`, looked up in `path` (PATH) when it has no slash. */
export function findProgram(program: string, path = process.env.PATH): string {
  const candidates = program.includes('/') ? [program] : (path ?? '/usr/bin:/bin').split(delimiter).map((d) => join(d || '.', program));
  for (const c of candidates) {
    try {
      if (statSync(encodeBytes(c)).isFile()) {
        accessSync(encodeBytes(c), constants.X_OK);
        return absolute(c);
      }
    } catch {
      // not this one
    }
  }
  const exists = program.includes('/') && existsSync(encodeBytes(program));
  throw new TsrrError('PROGRAM_NOT_FOUND', exists ? `${program} is not an executable file` : `no such program: ${program}`, { program });
}

/** record -v's NAME=VALUE words as [NAME, VALUE]. */
function envAssignments(words: string[]): [string, string][] {
  return words.map((w) => {
    const at = w.indexOf('=');
    if (at <= 0) throw new TsrrError('BAD_ARGUMENT', `-v/--env ${JSON.stringify(w)}: not NAME=VALUE`, { option: '-v/--env', value: w });
    return [w.slice(0, at), w.slice(at + 1)];
  });
}

export function recordCommand(ctx: CliContext): CommandModule {
  return {
    command: 'record [program..]',
    describe: 'record a program run into a trace',
    builder: (y) =>
      y
        .option(...wordOption('output', { alias: 'o', what: 'a directory', describe: 'trace directory (default: a new one under the trace root)' }))
        .option(...numberOption('bind-to-cpu', { what: 'a CPU tsrr may run on', min: 0, among: allowedCpus, describe: 'CPU to run the tracees on (default: the last one tsrr may run on)' }))
        .option('no-syscall-buffer', { alias: 'n', type: 'boolean', default: false, describe: 'stop at every syscall (no in-process buffering)' })
        .option('cpuid-faulting', { type: 'boolean', default: true, describe: 'make cpuid fault where the CPU can (--no-cpuid-faulting: patch its sites instead, as on CPUs without it)' })
        .option('patch-rdtsc', { type: 'boolean', default: false, describe: 'patch rdtsc instructions to trap even where the CPU traps them (as on machines whose CPU does not)' })
        .option('wait', { alias: 'w', type: 'boolean', default: false, describe: 'record until every process ends, not only the first (whose end otherwise kills the rest)' })
        .option(...wordOption('env', { alias: 'v', what: 'NAME=VALUE', array: true, describe: 'set NAME to VALUE in the program\'s environment; repeatable' }))
        .usage(
          'tsrr record [-o DIR] [-n] [-w] [-v NAME=VALUE]... [--bind-to-cpu N] [--no-cpuid-faulting] [--patch-rdtsc] [--] PROG [ARGS...]\n\n' +
            'Runs PROG under the recorder and saves its run into a trace (a new directory under the trace root, or DIR), which tsrr replay then replays exactly.',
        ),
    handler: (argv) => {
      const words = [...((argv.program as string[] | undefined) ?? []), ...((argv['--'] as string[] | undefined) ?? [])].map(String);
      if (words.length === 0) throw new TsrrError('BAD_ARGUMENT', 'record needs a program to run: tsrr record PROG [ARGS...]');
      const program = words[0]!;
      const env = new Map(startEnvironment());
      for (const [name, value] of envAssignments((argv.env as string[] | undefined) ?? [])) env.set(name, value);
      const path = findProgram(program, env.get('PATH'));
      // LD_PRELOAD cannot name a file whose path has a space or a colon.
      const syscallBuffer = !argv['no-syscall-buffer'] && !/[ :]/.test(PRELOAD_LIBRARY) && existsSync(PRELOAD_LIBRARY);
      env.set('RUNNING_UNDER_TSRR', '1');
      // Statically linked programs ignore it, and stop at every syscall.
      if (syscallBuffer) env.set('LD_PRELOAD', [PRELOAD_LIBRARY, env.get('LD_PRELOAD')].filter(Boolean).join(' '));
      const envp = [...env].map(([k, v]) => `${k}=${v}`);
      const output = argv.output as string | undefined;
      const claim = output ? TraceDirClaim.take(output) : TraceDirClaim.fresh(program);
      const { dir } = claim;
      let session: RecordSession | undefined;
      let code: number;
      try {
        session = new RecordSession({
          program,
          path,
          argv: words,
          envp,
          dir: claim,
          cpu: (argv['bind-to-cpu'] as number | undefined) ?? defaultCpu(),
          fds: ctx.inheritedFds,
          waitForAll: argv.wait as boolean,
          syscallBuffer,
          cpuidFaulting: argv['cpuid-faulting'] as boolean,
          patchRdtsc: argv['patch-rdtsc'] as boolean,
          ticks: ctx.control.ticks,
          interrupted: ctx.control.interrupted,
          stopSignal: ctx.control.stopSignal,
          cancelStop: ctx.control.cancelStop,
        });
        if (isatty(2)) writeAll(2, `tsrr: saving execution to trace directory ${dir}\n`);
        ctx.tsrr.hooks.sessionCreated.call(session);
        code = session.run();
      } catch (e) {
        session?.killAll();
        // A trace with no event is of no use: nothing of it stays.
        if (!existsSync(join(dir, 'events')) || statSync(join(dir, 'events')).size === 0) claim.discard();
        else if (e instanceof Error) e.message += `; ${dir} keeps the events recorded before`;
        throw e;
      }
      if (!output) markLatest(claim.path);
      if (ctx.control.interrupted()) {
        writeAll(2, `tsrr: recording interrupted after ${session.trace.frameCount} events; ${dir} replays up to there\n`);
      }
      ctx.exit(code);
    },
  };
}
