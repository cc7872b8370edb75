// SPDX-License-Identifier: MIT
/** `tsrr replay [-a] [-g EVENT | -f PID | -p PID] [-s PORT] [TRACE] [-- DEBUGGER ARGS]` */
import { writeAll } from '../writeAll.js';
import type { CommandModule } from 'yargs';
import type { CliContext } from '../CliContext.js';
import { machineDifferences, replayCpu } from '../machine.js';
import { ReplaySession } from '../ReplaySession.js';
import { resolveTrace } from '../traceDir.js';
import { TraceReader } from '../TraceReader.js';
import { TsrrError } from '../../native/TsrrError.js';

export function replayCommand(ctx: CliContext): CommandModule {
  return {
    command: 'replay [trace]',
    describe: 'replay a trace (the latest by default)',
    builder: (y) =>
      y
        .positional('trace', { type: 'string', describe: 'trace directory or name' })
        .option('autopilot', { alias: 'a', type: 'boolean', default: false, describe: 'replay without a debugger, to the end or to -g' })
        .option('goto', { alias: 'g', type: 'number', describe: 'stop at this event (frame)' })
        .option('onfork', { alias: 'f', type: 'number', describe: 'stop where process PID starts' })
        .option('onprocess', { alias: 'p', type: 'number', describe: 'stop where process PID execs' })
        .option('dbgport', { alias: 's', type: 'number', describe: 'serve the debugger protocol on this port and wait for a debugger (no gdb is started)' })
        .option('dbghost', { type: 'string', default: '127.0.0.1', describe: 'address to serve the debugger protocol on' })
        .conflicts('goto', ['onfork', 'onprocess']),
    handler: (argv) => {
      const debug = !argv.autopilot;
      if (debug && !ctx.tsrr.hooks.debugReplay.isUsed()) {
        throw new TsrrError('BAD_ARGUMENT', 'replay without -a needs a debugger plugin (tsrr --plugin gdbserver replay); use -a to replay on autopilot');
      }
      const port = argv.dbgport as number | undefined;
      if (!debug && port !== undefined) throw new TsrrError('BAD_ARGUMENT', '-s serves a debugger; it does not go with -a');
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new TsrrError('BAD_ARGUMENT', `-s ${port}: not a TCP port`);
      const dir = resolveTrace(argv.trace as string | undefined);
      const trace = TraceReader.open(dir);
      try {
        const goto = (argv.goto as number | undefined) ?? processStart(trace, argv.onfork as number | undefined, argv.onprocess as number | undefined);
        if (goto !== undefined && (!Number.isInteger(goto) || goto < 1 || goto > trace.frameCount)) {
          throw new TsrrError('BAD_ARGUMENT', `-g ${goto}: the trace has events 1-${trace.frameCount}${trace.cutOff ? ` (${trace.cutOff})` : ''}`, { frame: goto });
        }
        for (const d of machineDifferences(trace.header.machine)) writeAll(2, `tsrr: warning: this machine differs from the recording one: ${d}\n`);
        // With a debugger started in this terminal, Ctrl-C is the debugger's (it interrupts
        // the replay through the protocol); other stop requests still end tsrr.
        const debuggerInFront = debug && port === undefined;
        const stop = debuggerInFront ? () => ![0, 2].includes(ctx.control.stopSignal()) : ctx.control.interrupted;
        const session = new ReplaySession({ trace, cpu: replayCpu(trace.header.machine), goto, interrupted: stop });
        ctx.tsrr.hooks.sessionCreated.call(session);
        try {
          if (debug) {
            const debuggerArgs = ((argv['--'] as unknown[] | undefined) ?? []).map(String);
            let again: TraceReader | undefined;
            const fresh = () => {
              again?.close();
              again = TraceReader.open(dir);
              const s = new ReplaySession({ trace: again, cpu: replayCpu(trace.header.machine), interrupted: stop });
              ctx.tsrr.hooks.sessionCreated.call(s);
              return s;
            };
            try {
              const pid = (argv.onfork ?? argv.onprocess) as number | undefined;
              ctx.tsrr.hooks.debugReplay.call(session, { port, host: argv.dbghost as string, debuggerArgs, stop, fresh, pid });
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
