// SPDX-License-Identifier: MIT
/**
 * The gdb commands tsrr adds to gdb (checkpoint, restart, delete checkpoint, info checkpoints,
 * when, seek-frame, and what plugins add), and the init script that defines them: each runs
 * the monitor command of its name; one that moves the replay then has gdb read registers and
 * the stack again.
 */
import type { GdbServer } from './GdbServer.js';
import type { GdbCommand } from './hooks.js';

export const BUILTIN_COMMANDS: readonly GdbCommand[] = [
  { name: 'checkpoint', arg: false, moves: false, help: 'Keep the state of the replay here; restart N comes back to it.' },
  { name: 'restart', arg: true, moves: true, help: 'Go to checkpoint N (back or forward).' },
  { name: 'delete checkpoint', arg: true, moves: false, help: 'Forget checkpoint N.' },
  { name: 'info checkpoints', arg: false, moves: false, help: 'List the checkpoints.' },
  { name: 'when', arg: false, moves: false, help: 'Print the last event replay has completed.' },
  { name: 'seek-frame', arg: true, moves: true, help: 'Go to the state right after event N.' },
];

/** The monitor command of a built-in gdb command; undefined for other words. */
export function builtinMonitor(words: string[], server: GdbServer): string | undefined {
  const command = words.slice(0, -1).join(' ');
  const n = Number(words[words.length - 1]);
  switch (words.join(' ')) {
    case 'checkpoint':
      return server.checkpoint();
    case 'info checkpoints':
      return server.describeCheckpoints();
    case 'when':
      return `Current event: ${server.session.frame}\n`;
  }
  if (words.length < 2) return undefined;
  if (!Number.isInteger(n)) return ['restart', 'delete checkpoint', 'seek-frame'].includes(command) ? `tsrr: ${command} takes a number\n` : undefined;
  if (command === 'restart') return server.restart(n);
  if (command === 'delete checkpoint') return server.deleteCheckpoint(n);
  if (command === 'seek-frame') return server.seekFrame(n);
  return undefined;
}

/** A gdb script defining `commands` (queries about redefining gdb's own are answered yes). */
export function initScript(commands: readonly GdbCommand[]): string {
  const lines = ['set confirm off'];
  for (const c of commands) {
    const run = c.arg ? ['  if $argc != 1', `    echo usage: ${c.name} N\\n`, '  else', `    monitor ${c.name} $arg0`, '  end'] : [`  monitor ${c.name}`];
    const reread = c.moves ? ['  maintenance flush register-cache', '  frame'] : [];
    lines.push(`define ${c.name}`, ...run, ...reread, 'end', `document ${c.name}`, c.help, 'end');
  }
  lines.push('set confirm on');
  return lines.join('\n') + '\n';
}
