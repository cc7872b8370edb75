// SPDX-License-Identifier: MIT
/**
 * The tracer worker: loads the config and plugins, builds the command line (core commands plus
 * what plugins add) and runs the command. Errors become one line on stderr and a non-zero exit.
 */
import { format } from 'node:util';
import { writeAll } from './writeAll.js';
import { dirname } from 'node:path';
import { workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { Argv, CommandModule } from 'yargs';
import { doctorCommand } from './commands/doctor.js';
import { dumpCommand } from './commands/dump.js';
import { lsCommand } from './commands/ls.js';
import { mvCommand } from './commands/mv.js';
import { rmCommand } from './commands/rm.js';
import { psCommand } from './commands/ps.js';
import { VALUE_OPTIONS, recordCommand, splitProgram } from './commands/record.js';
import { replayCommand } from './commands/replay.js';
import { traceinfoCommand } from './commands/traceinfo.js';
import { DEFAULT_PLUGINS, loadConfig, loadPlugin } from './config.js';
import { wordOption } from './optionValues.js';
import type { CliContext } from './CliContext.js';
import { Control } from './control.js';
import { keepFreedMemory } from '../native/libc.js';
import { Tsrr } from './Tsrr.js';
import { TsrrError, isTsrrError } from '../native/TsrrError.js';
import { TSRR_VERSION } from './version.js';
import { startArguments } from './startArguments.js';
import { commandAt, explicitCommand } from './implicitCommand.js';

// yargs 17 through require: Node 20 loads it in a fifth of the time yargs 18 (ESM only) takes.
const yargs = createRequire(import.meta.url)('yargs/yargs') as (args?: readonly string[]) => Argv;

/** The global options (plugins' included) that take a value, as written on the command line. */
function valueOptions(y: Argv): string[] {
  const o = (y as unknown as { getOptions(): { string: string[]; number: string[]; array: string[]; alias: Record<string, string[]> } }).getOptions();
  const names = [...o.string, ...o.number, ...o.array];
  const all = names.flatMap((n) => [n, ...(o.alias[n] ?? [])]);
  return all.map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
}

/** The values of `--NAME X` / `--NAME=X` (`--plugin`, `--no-plugin`) before the command's own
 * arguments (an empty or missing X is left to yargs to refuse). */
function optionArgs(argv: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === name && i + 1 < argv.length) out.push(argv[++i]!);
    else if (a.startsWith(name + '=')) out.push(a.slice(name.length + 1));
  }
  return out.filter((spec) => spec !== '');
}

const CORE_COMMANDS = [recordCommand, replayCommand, dumpCommand, lsCommand, rmCommand, mvCommand, psCommand, traceinfoCommand, doctorCommand];

const commandName = (m: CommandModule) => String(m.command).split(' ')[0]!;

/** A core command whose options plugins may add to (commandOptions); -M shows in replay's help
 * only, --version in tsrr's. */
function withPluginOptions(tsrr: Tsrr, m: CommandModule): CommandModule {
  const name = commandName(m);
  const builder = m.builder as ((y: Argv) => Argv) | undefined;
  return {
    ...m,
    builder: (y: Argv) => {
      const built = builder ? builder(y) : y;
      built.hide('version');
      if (name !== 'replay') built.hide('mark-stdio');
      tsrr.hooks.commandOptions.call(name, built);
      return built;
    },
  };
}

/** yargs reads `--no-plugin X` as `--plugin false` and a word X: the = form it reads as the
 * option's value (an empty one, which it refuses, when X is missing). */
function joinNoPlugin(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return [...out, ...argv.slice(i)];
    if (argv[i] !== '--no-plugin') out.push(argv[i]!);
    else out.push(`--no-plugin=${i + 1 < argv.length && argv[i + 1] !== '--' ? argv[++i] : ''}`);
  }
  return out;
}

export async function main(argv: string[], control: Control, inheritedFds: readonly number[] = []): Promise<number> {
  // rr prints "rr version X"; asked for before any command.
  const at = commandAt(argv, VALUE_OPTIONS);
  if (argv.slice(0, at < 0 ? argv.length : at).includes('--version')) {
    writeAll(1, `tsrr version ${TSRR_VERSION}\n`);
    return 0;
  }
  let code = 0;
  const tsrr = new Tsrr();
  const ctx: CliContext = { tsrr, control, inheritedFds, exit: (c) => (code = c) };
  const coreCommands = CORE_COMMANDS.map((c) => withPluginOptions(tsrr, c(ctx)));
  // A program or trace given by path is known before plugins load, and must be, for plugins
  // must not be taken from the program's arguments.
  argv = explicitCommand(argv, coreCommands.map(commandName), VALUE_OPTIONS, false);
  const { config, filepath } = await loadConfig(process.cwd());
  const base = filepath ? dirname(filepath) : process.cwd();
  for (const entry of config.plugins ?? []) {
    if (typeof entry === 'string') tsrr.apply(await loadPlugin(entry, undefined, base));
    else if (Array.isArray(entry)) tsrr.apply(await loadPlugin(entry[0], entry[1], base));
    else tsrr.apply(entry);
  }
  const tsrrArgs = splitProgram(argv).tsrrArgs;
  for (const spec of optionArgs(tsrrArgs, '--plugin')) tsrr.apply(await loadPlugin(spec, undefined, process.cwd()));
  const off = new Set([...(config.noPlugins ?? []), ...optionArgs(tsrrArgs, '--no-plugin')]);
  for (const name of off) {
    if (!DEFAULT_PLUGINS.includes(name)) throw new TsrrError('BAD_ARGUMENT', `cannot turn off plugin ${name}: not a default plugin (those are ${DEFAULT_PLUGINS.join(', ')})`, { plugin: name });
  }
  // After the listed ones: a plugin of the same name listed there replaces the default one.
  for (const name of DEFAULT_PLUGINS) if (!off.has(name) && !tsrr.plugins.some((p) => p.name === name)) tsrr.apply(await loadPlugin(name, undefined, base));

  const y: Argv = yargs()
    .scriptName('tsrr')
    .usage('tsrr <command> [options]\ntsrr PROG [ARGS...]   record PROG (tsrr record)\ntsrr TRACEDIR        replay the trace there (tsrr replay)')
    .version(false)
    .parserConfiguration({ 'populate--': true, 'greedy-arrays': false })
    .option(...wordOption('plugin', { what: 'a plugin', array: true, global: true, describe: 'load a plugin (a first-party name, a package or a path); repeatable' }))
    .option('version', { type: 'boolean', describe: 'print tsrr\'s version' })
    .option('mark-stdio', { alias: 'M', type: 'boolean', default: false, global: true, describe: "replay: start each line of the program's output with [tsrr PID EVENT], the process that wrote it and the event" })
    .middleware((a) => {
      if (a['mark-stdio'] && a._[0] !== 'replay') throw new TsrrError('BAD_ARGUMENT', `-M marks replayed output: it is for tsrr replay, not ${a._[0]}`);
    })
    .option(...wordOption('no-plugin', { what: 'a plugin name', array: true, global: true, describe: `do not load this default plugin (${DEFAULT_PLUGINS.join(', ')}); repeatable` }))
    .demandCommand(1, 'tsrr needs a command; see tsrr --help')
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs rethrows what an option's coerce threw (optionValues.ts) as a YError, message kept.
      throw err?.name === 'YError' ? new UsageError(err.message) : (err ?? new UsageError(msg));
    })
    // Help is shown only for --help (failures print one line), but yargs lays it out after
    // every command; unwrapped, that is some 40 ms quicker.
    .wrap(argv.includes('--help') || argv.includes('help') ? Math.min(100, process.stdout.columns || 100) : null);
  for (const command of coreCommands) y.command(command);
  tsrr.hooks.cliCommands.call(y, ctx);
  const commands = (y as unknown as { getInternalMethods(): { getCommandInstance(): { getCommands(): string[] } } }).getInternalMethods().getCommandInstance().getCommands();
  const values = valueOptions(y);
  await y.parseAsync(joinNoPlugin(splitProgram(explicitCommand(argv, commands, values, true), values).all));
  return code;
}

class UsageError extends Error {}

const isSystemError = (e: unknown): e is NodeJS.ErrnoException =>
  e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';

// Output goes straight to fds 1 and 2 (see cli.ts), yargs's help and messages included.
console.log = (...args: unknown[]) => writeAll(1, format(...args) + '\n');
console.error = (...args: unknown[]) => writeAll(2, format(...args) + '\n');

async function run(): Promise<number> {
  keepFreedMemory();
  const control = new Control(workerData.control as SharedArrayBuffer);
  try {
    return await main(startArguments(process.argv.length - 2), control, workerData.fds as number[]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return 0; // the reader went away: nothing more to say
    if (isTsrrError(e) || e instanceof UsageError) {
      writeAll(2, `tsrr: ${e.message.split('\n')[0]}\n`); // one line, whatever a cause wrapped
      return isTsrrError(e) && e.code === 'INTERRUPTED' ? 130 : 1;
    }
    if (isSystemError(e)) {
      // A file system's refusal (no space, no permission, a name too long, ...): Node's
      // message names the call, the reason in words and the path.
      writeAll(2, `tsrr: ${e.message}\n`);
      return 1;
    }
    writeAll(2, `tsrr: internal error: ${(e as Error).stack ?? e}\n`);
    return 70;
  }
}

process.exitCode = await run();
