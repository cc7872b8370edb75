// SPDX-License-Identifier: MIT
/** `tsrr doctor [--json]`: what of this machine works for tsrr, and what to do where it does not. */
import type { CommandModule } from 'yargs';
import type { CliContext } from '../CliContext.js';
import { runChecks } from '../doctor.js';
import { writeAll } from '../writeAll.js';

const MARK = { ok: 'ok', missing: 'missing', fail: 'FAIL' } as const;

export function doctorCommand(ctx: CliContext): CommandModule {
  return {
    command: 'doctor',
    describe: 'check what tsrr needs and uses on this machine (ptrace, seccomp, rdtsc/cpuid trapping, ...); exits 1 where recording cannot work',
    builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'the checks as a JSON array' }),
    handler: (argv) => {
      const checks = runChecks();
      const failed = checks.filter((c) => c.state === 'fail');
      if (argv.json) {
        writeAll(1, JSON.stringify(checks) + '\n');
      } else {
        const width = Math.max(...checks.map((c) => c.name.length));
        const lines = checks.map((c) => `${MARK[c.state].padEnd(7)} ${c.name.padEnd(width)}  ${c.detail}${c.fix ? `\n${' '.repeat(width + 10)}fix: ${c.fix}` : ''}`);
        lines.push(failed.length === 0 ? 'tsrr can record and replay here' : `tsrr cannot record here: ${failed.map((c) => c.name).join(', ')} (fix above)`);
        writeAll(1, lines.join('\n') + '\n');
      }
      if (failed.length > 0) ctx.exit(1);
    },
  };
}
