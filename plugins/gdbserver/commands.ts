// SPDX-License-Identifier: MIT
/**
 * The gdb commands tsrr adds to gdb (checkpoint, restart, delete checkpoint, info checkpoints,
 * when, seek-frame, and what plugins add), and the init script that defines them: most run
 * the monitor command of their name; those that move the replay run gdb's `run`.
 */
import type { GdbServer } from './GdbServer.js';
import type { GdbCommand } from './hooks.js';

export const BUILTIN_COMMANDS: readonly GdbCommand[] = [
  { name: 'checkpoint', arg: false, help: 'Keep the state of the replay here; restart N comes back to it.' },
  { name: 'delete checkpoint', arg: true, help: 'Forget checkpoint N.' },
  { name: 'info checkpoints', arg: false, help: 'List the checkpoints.' },
  { name: 'when', arg: false, help: 'Print the last event replay has completed.' },
];

/** Commands that move the replay: gdb's `run` with an argument the server reads (vRun), so
 * gdb takes the replay as a new start, even after the program ended. */
const MOVES = [
  { name: 'restart', run: 'c', help: 'Go to checkpoint N (back or forward).' },
  { name: 'seek-frame', run: 'f', help: 'Go to the state right after event N.' },
];

/** The monitor command of a built-in gdb command; undefined for other words. */
export function builtinMonitor(words: string[], server: GdbServer): string | undefined {
  switch (words.join(' ')) {
    case 'checkpoint':
      return server.checkpoint();
    case 'info checkpoints':
      return server.describeCheckpoints();
    case 'when':
      return `Current event: ${server.session.frame}\n`;
  }
  if (words.length !== 3 || words[0] !== 'delete' || words[1] !== 'checkpoint') return undefined;
  const n = Number(words[2]);
  return Number.isInteger(n) ? server.deleteCheckpoint(n) : 'tsrr: delete checkpoint takes a number\n';
}

/** A gdb script defining `commands` (queries about redefining gdb's own are answered yes). */
export function initScript(commands: readonly GdbCommand[]): string {
  const lines = ['set confirm off'];
  const define = (name: string, body: string[], help: string) => lines.push(`define ${name}`, ...body, 'end', `document ${name}`, help, 'end');
  const withArg = (name: string, run: string[]) => ['  if $argc != 1', `    echo usage: ${name} N\\n`, '  else', ...run.map((l) => '    ' + l), '  end'];
  for (const c of commands) define(c.name, c.arg ? withArg(c.name, [`monitor ${c.name} $arg0`]) : [`  monitor ${c.name}`], c.help);
  for (const m of MOVES) {
    // `run` asks before it starts the program again, and keeps its argument for the next run.
    const run = ['set $tsrr_confirm = $_gdb_setting_str("confirm")', 'set confirm off', `run ${m.run}$arg0`, 'set args', 'eval "set confirm %s", $tsrr_confirm'];
    define(m.name, withArg(m.name, run), m.help);
  }
  lines.push('set confirm on');
  return lines.join('\n') + '\n';
}
