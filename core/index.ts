// SPDX-License-Identifier: MIT
/** The public API for plugins and rr.config.ts. */
export { defineConfig, type Config, type PluginEntry } from './config.js';
export { Tsrr, type Plugin } from './Tsrr.js';
export { TsrrError, isTsrrError, type ErrorCode } from './TsrrError.js';
export { Session, type Divergence, type SessionHooks } from './Session.js';
export { RecordSession } from './RecordSession.js';
export { ReplaySession } from './ReplaySession.js';
export { Task } from './Task.js';
export { AddressSpace, type Mapping, type MappingKind } from './AddressSpace.js';
export { FdTable } from './FdTable.js';
export type { FileMonitor } from './FileMonitor.js';
export { StdioMonitor } from './StdioMonitor.js';
export { Event, type EventData, type EventKind } from './Event.js';
export { TraceReader } from './TraceReader.js';
export { TraceWriter } from './TraceWriter.js';
export { Registry } from './Registry.js';
export type { CliContext } from './CliContext.js';
export { defineHooks } from './hooks.js';
export { launch } from './launch.js';
export { resolveTrace } from './traceDir.js';
export { writeAll } from './writeAll.js';
export { progressBar } from './progressBar.js';
export { framed, framedMessage, readPrefix, checksumOk, PREFIX_BYTES } from './traceFile.js';
export { presizedMessage, readMessage } from './eventCodec.js';
export { Registers } from '../native/regs.js';
export { NR } from '../native/syscalls.js';
export { replayCpu } from './machine.js';
export type { TraceHeader } from './TraceHeader.js';
