// SPDX-License-Identifier: MIT
/** `tsrr ls [-l] [-t] [-r]`: the traces under the trace root, by name (as rr's ls). */
import { writeAll } from '../writeAll.js';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import type { CliContext } from '../CliContext.js';
import { beingRecorded, fsName, latestTrace, listTraces } from '../traceDir.js';
import { readHeader } from '../TraceReader.js';

/** Bytes `dir` takes on disk (allocated blocks, as du counts them: copies are sparse). */
function diskUsage(dir: string): number {
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    bytes += e.isDirectory() ? diskUsage(path) : e.isFile() ? statSync(path).blocks * 512 : 0;
  }
  return bytes;
}

/** 1234567 -> "1.2M", as ls -h. */
function humanSize(bytes: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let i = 0;
  let v = bytes;
  for (; v >= 1024 && i < units.length - 1; i++) v /= 1024;
  return i === 0 ? String(v) : `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}

/** The command line a trace recorded, or why it cannot be read. */
function commandLine(dir: string): string {
  try {
    return readHeader(dir).argv.join(' ');
  } catch (e) {
    return `(${(e as Error).message})`;
  }
}

/** "2026-12-07 20:31": local time, as ls -l. */
function localTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

const byName = new Intl.Collator('en', { numeric: true }).compare;

export function lsCommand(_ctx: CliContext): CommandModule {
  return {
    command: 'ls',
    describe: 'list the recorded traces, by name (latest-trace marked)',
    builder: (y) =>
      y
        .option('long', { alias: 'l', type: 'boolean', default: false, describe: 'also the size on disk, the time of the last event and the command line' })
        .option('time', { alias: 't', type: 'boolean', default: false, describe: 'newest first' })
        .option('reverse', { alias: 'r', type: 'boolean', default: false, describe: 'reverse the order' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON array, with what -l shows' }),
    handler: (argv) => {
      const latest = latestTrace();
      const traces = listTraces().sort((a, b) => (argv.time ? b.mtimeMs - a.mtimeMs : byName(a.name, b.name)));
      if (argv.reverse) traces.reverse();
      const long = argv.long || argv.json;
      const rows = traces.map((t) => ({
        ...t,
        latest: t.dir === latest,
        ...(long ? { bytes: diskUsage(fsName(t.dir)), recording: beingRecorded(t.dir), command: commandLine(fsName(t.dir)) } : {}),
      }));
      if (argv.json) {
        writeAll(1, JSON.stringify(rows) + '\n');
        return;
      }
      const mark = (r: (typeof rows)[number]) => `${r.latest ? ' (latest)' : ''}${r.recording ? ' (recording)' : ''}`;
      if (!long) {
        writeAll(1, rows.map((r) => `${r.name}${mark(r)}\n`).join(''));
        return;
      }
      const width = Math.max(0, ...rows.map((r) => r.name.length + mark(r).length));
      const lines = rows.map((r) => `${(r.name + mark(r)).padEnd(width)}  ${humanSize(r.bytes!).padStart(5)}  ${localTime(r.mtimeMs)}  ${r.command}`);
      writeAll(1, lines.map((l) => l + '\n').join(''));
    },
  };
}
