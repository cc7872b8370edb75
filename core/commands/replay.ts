// SPDX-License-Identifier: MIT
/** `tsrr replay [-a] [-g EVENT | -e | -f PID | -p PID] [-s PORT] [-h HOST] [-x FILE] [-o OPTION] [-d PATH] [TRACE] [-- DEBUGGER ARGS]` */
import { writeAll } from '../writeAll.js';
import type { CommandModule } from 'yargs';
import type { CliContext } from '../CliContext.js';
import { hasTaps } from '../hooks.js';
import { machineDifferences, replayCpu } from '../machine.js';
import { numberOption, wordOption } from '../optionValues.js';
import { ReplaySession } from '../ReplaySession.js';
import { resolveTrace } from '../traceDir.js';
import { TraceReader } from '../TraceReader.js';
import { TsrrError } from '../../native/TsrrError.js';

/** The highest PID Linux gives (PID_MAX_LIMIT on 64-bit). */
export const PID_MAX_LIMIT = 4_194_304;

export function replayCommand(ctx: CliContext): CommandModule {
  return {
    command: 'replay [trace]',
    describe: 'replay a trace (the latest by default)',
    builder: (y) =>
      y
        .positional('trace', { type: 'string', describe: 'trace directory or name' })
        .option('autopilot', { alias: 'a', type: 'boolean', default: false, describe: 'replay without a debugger, to the end or to -g' })
        .option(...numberOption('goto', { alias: 'g', what: 'an event number', min: 1, describe: 'stop at this event (frame)' }))
        .option('goto-exit', { alias: 'e', type: 'boolean', describe: 'start the debugger at the end of the replay, where the last task exits' })
        .option(...numberOption('onfork', { alias: 'f', what: 'a PID', min: 1, max: PID_MAX_LIMIT, describe: 'stop where process PID starts' }))
        .option(...numberOption('onprocess', { alias: 'p', what: 'a PID', min: 1, max: PID_MAX_LIMIT, describe: 'stop where process PID execs' }))
        .option(...numberOption('dbgport', { alias: 's', what: 'a TCP port', min: 0, max: 65535, describe: 'serve the debugger protocol on this port (0: any free one) and wait for a debugger (no gdb is started)' }))
        .option(...wordOption('dbghost', { alias: 'h', what: 'an address', describe: 'address to serve the debugger protocol on (default: 127.0.0.1)' }))
        .option(...wordOption('gdb-x', { alias: 'x', what: 'a gdb script', array: true, describe: 'gdb runs this script (-x FILE); repeatable' }))
        .option(...wordOption('gdb-option', { alias: 'o', what: 'a gdb option', array: true, describe: 'pass this option to gdb; repeatable' }))
        .option(...wordOption('debugger', { alias: 'd', what: 'a program', describe: 'the gdb to start (default: gdb in PATH)' }))
        .conflicts('goto', ['onfork', 'onprocess', 'goto-exit'])
        .conflicts('goto-exit', ['onfork', 'onprocess'])
        .conflicts('onfork', 'onprocess'),
    handler: (argv) => {
      const debug = !argv.autopilot;
      const port = argv.dbgport as number | undefined;
      const afterDashes = `the arguments after -- (${((argv['--'] as unknown[] | undefined) ?? []).join(' ')})`;
      const scripts = ((argv.gdbX as string[] | undefined) ?? []).flatMap((f) => ['-x', f]);
      const debuggerArgs = [...((argv.gdbOption as string[] | undefined) ?? []), ...scripts, ...((argv['--'] as unknown[] | undefined) ?? []).map(String)];
      const forGdb = argv.gdbX !== undefined ? '-x' : argv.gdbOption !== undefined ? '-o' : argv.debugger !== undefined ? '-d' : undefined;
      if (!debug) {
        const misplaced = argv.gotoExit ? '-e goes' : port !== undefined ? '-s goes' : argv.dbghost !== undefined ? '--dbghost goes' : forGdb ? `${forGdb} goes` : debuggerArgs.length > 0 ? `${afterDashes} go` : undefined;
        if (misplaced) throw new TsrrError('BAD_ARGUMENT', `${misplaced} with a debugger; -a replays without one`);
      } else if (!hasTaps(ctx.tsrr.hooks.debugReplay)) {
        throw needsDebugger();
      }
      if (port !== undefined && forGdb) throw new TsrrError('BAD_ARGUMENT', `${forGdb} is for the gdb tsrr starts, and with -s it starts none`);
      if (port !== undefined && debuggerArgs.length > 0) throw new TsrrError('BAD_ARGUMENT', `${afterDashes} are for the gdb tsrr starts, and with -s it starts none`);
      const dir = resolveTrace(argv.trace as string | undefined);
      const trace = TraceReader.open(dir);
      try {
        const goto = (argv.goto as number | undefined) ?? processStart(trace, argv.onfork as number | undefined, argv.onprocess as number | undefined);
        if (goto !== undefined && goto > trace.frameCount) {
          throw new TsrrError('BAD_ARGUMENT', `-g ${goto}: the trace has events 1-${trace.frameCount}${trace.cutOff ? ` (${trace.cutOff})` : ''}`, { frame: goto });
        }
        for (const d of machineDifferences(trace.header.machine)) writeAll(2, `tsrr: warning: this machine differs from the recording one: ${d}\n`);
        if (debug && port === undefined) ctx.control.leaveSigintToDebugger();
        const stop = ctx.control.interrupted;
        const markStdio = argv['mark-stdio'] === true;
        const session = new ReplaySession({ trace, cpu: replayCpu(trace.header.machine), goto, interrupted: stop, markStdio });
        ctx.tsrr.hooks.sessionCreated.call(session);
        try {
          if (debug) {
            let again: TraceReader | undefined;
            const fresh = () => {
              again?.close();
              again = TraceReader.open(dir);
              const s = new ReplaySession({ trace: again, cpu: replayCpu(trace.header.machine), interrupted: stop, markStdio });
              ctx.tsrr.hooks.sessionCreated.call(s);
              return s;
            };
            try {
              const pid = (argv.onfork ?? argv.onprocess) as number | undefined;
              const served = ctx.tsrr.hooks.debugReplay.call(session, { port, host: (argv.dbghost as string | undefined) ?? '127.0.0.1', debuggerArgs, stop, fresh, pid, atEnd: Boolean(argv.gotoExit), debugger: argv.debugger as string | undefined });
              if (!served) throw needsDebugger();
            } finally {
              again?.close();
            }
            return;
          }
          const end = session.run();
          if (end.kind === 'reached') writeAll(2, `tsrr: reached event ${end.frame}\n`);
          if (end.kind === 'interrupted-recording') {
            writeAll(2, end.cutOff ? `tsrr: warning: replayed to event ${end.frame}, where the trace ends: ${end.cutOff}\n` : `tsrr: replayed to event ${end.frame}, where the recording was interrupted\n`);
          }
        } finally {
          session.killAll();
        }
      } finally {
        trace.close();
      }
    },
  };
}

const needsDebugger = () => new TsrrError('BAD_ARGUMENT', 'tsrr replay needs -a (replay to the end) or a debugger plugin (the default one, gdbserver, is turned off)');

/** The frame where process `fork` first appears, or where process `exec` first execs; the
 * trace reader is left at its start. */
function processStart(trace: TraceReader, fork: number | undefined, exec: number | undefined): number | undefined {
  const pid = fork ?? exec;
  if (pid === undefined) return undefined;
  const found = [...trace.events()].find((e) => e.tid === pid && (fork !== undefined || e.kind === 'exec'));
  trace.forwardTo(1);
  if (!found) throw new TsrrError('BAD_ARGUMENT', `no process ${pid} ${fork !== undefined ? 'runs' : 'execs'} in ${trace.dir} (tsrr ps lists them)`, { pid });
  return found.frame;
}
