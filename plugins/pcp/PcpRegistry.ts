// SPDX-License-Identifier: MIT
/**
 * What a persistent checkpoint saves, by section, and the hooks around writing and restoring
 * one. Each section is a registry of serializers keyed by kind; the pcp plugin registers the
 * built-in kinds through the same API a third-party plugin uses (`pcpRegistry(tsrr)`).
 */
import { SyncHook } from 'tapable';
import type { FileMonitor, Mapping, ReplaySession, Session, Task, Tsrr } from '../../core/index.js';
import { Registry, TsrrError, defineHooks, isSysvAttachment } from '../../core/index.js';
import type { ChunkRef, ChunkStore } from './ChunkStore.js';
import type { Extent } from './memory.js';

/** What a serializer's save() gets besides its item. */
export interface SaveContext {
  readonly session: Session;
  readonly task: Task;
  readonly traceDir: string;
  readonly chunks: ChunkStore;
  /** Stores the non-zero memory of [start, end) as chunks: all of it, the pages the process
   * touched, or those it wrote (for file mappings: what differs from the file). */
  storeMemory(start: bigint, end: bigint, extent: Extent): ChunkRef[];
  /** Stores the file at `path`: its size, and its non-zero bytes as chunks by file offset. */
  storeFile(path: string): { size: bigint; refs: ChunkRef[] };
  /** Stores `bytes`: the non-zero ones as chunks by offset. */
  storeBytes(bytes: Buffer): ChunkRef[];
  /** The trace-relative copy of the file mapped at `mapping`, if the trace holds one. */
  traceCopyOf(mapping: Mapping): string | undefined;
}

/** What a serializer's load() gets: the task being rebuilt, stopped and ready for remote syscalls. */
export interface LoadContext {
  readonly session: ReplaySession;
  readonly task: Task;
  readonly traceDir: string;
  readonly chunks: ChunkStore;
  /** Writes chunks back into memory starting at `start`. */
  loadMemory(start: bigint, refs: readonly ChunkRef[]): void;
}

/** Saves one kind of item as a versioned payload, and restores it. */
export interface Serializer<T> {
  /** The payload format version; load() gets the version a payload was written with. */
  readonly version: number;
  /** Restore order inside the section: lower first (default 0). */
  readonly stage?: number;
  /** The plugin that provides this kind, named in errors when a checkpoint needs it. */
  readonly plugin?: string;
  save(item: T, ctx: SaveContext): Uint8Array;
  load(payload: Uint8Array, version: number, ctx: LoadContext): void;
}

/** A section's registry: serializers keyed by kind, and which kind an item is saved as. */
export class SerializerRegistry<T> extends Registry<Serializer<T>> {
  constructor(
    name: string,
    /** The kind an item is saved as (the mapping kind, the monitor kind, ...). */
    readonly kindOf: (item: T, ctx: SaveContext) => string,
  ) {
    super(name);
  }
}

export interface CheckpointInfo {
  readonly dir: string;
  readonly frame: number;
}

export function createPcpHooks() {
  return defineHooks('pcp', {
    /** A checkpoint of `session` at `frame` is about to be written (record or replay). */
    beforeCheckpointWrite: new SyncHook<[Session, number]>(['session', 'frame']),
    /** A checkpoint was written and is complete on disk. */
    checkpointWritten: new SyncHook<[CheckpointInfo]>(['checkpoint']),
    /** Replay: a checkpoint is about to be restored into a fresh process. */
    beforeRestore: new SyncHook<[CheckpointInfo, ReplaySession]>(['checkpoint', 'session']),
    /** Replay: a checkpoint was restored; `task` now is the checkpointed process. */
    restored: new SyncHook<[CheckpointInfo, ReplaySession, Task]>(['checkpoint', 'session', 'task']),
  });
}

/** Sections each process has, in save and restore order (mappings before registers). */
export const PROCESS_SECTIONS = ['mappings', 'fileMonitors', 'syscallBuffers', 'tasks'] as const;
/** Sections of the whole replay, restored after every process. */
export const SESSION_SECTIONS = ['trace', 'extensions'] as const;
export const SECTIONS = [...PROCESS_SECTIONS, ...SESSION_SECTIONS] as const;
export type ProcessSection = (typeof PROCESS_SECTIONS)[number];
export type SessionSection = (typeof SESSION_SECTIONS)[number];
export type SectionName = (typeof SECTIONS)[number];

export interface PcpRegistry {
  readonly mappings: SerializerRegistry<Mapping>;
  readonly fileMonitors: SerializerRegistry<{ fd: number; monitor: FileMonitor }>;
  readonly syscallBuffers: SerializerRegistry<Task>;
  readonly tasks: SerializerRegistry<Task>;
  readonly trace: SerializerRegistry<{ frame: number }>;
  /** Data of plugins' own, saved once per checkpoint: every kind here is saved each time. */
  readonly extensions: SerializerRegistry<Session>;
  readonly hooks: ReturnType<typeof createPcpHooks>;
}

// Kept on globalThis: a plugin loaded through jiti may get its own copy of this module, and
// must still find the registry the pcp plugin filled.
const registries: WeakMap<Tsrr, PcpRegistry> = ((globalThis as Record<symbol, unknown>)[Symbol.for('tsrr.pcp.registries')] ??= new WeakMap()) as WeakMap<Tsrr, PcpRegistry>;

/** The checkpoint serializers and hooks of `tsrr`, created on first use. */
export function pcpRegistry(tsrr: Tsrr): PcpRegistry {
  let r = registries.get(tsrr);
  if (!r) {
    r = {
      mappings: new SerializerRegistry('pcp mappings', (m, ctx) => (isSysvAttachment(m) ? 'core/sysv-shm' : ctx.session.sharedFileOf(m, ctx.task) ? 'core/shared-file' : `core/${m.kind}`)),
      fileMonitors: new SerializerRegistry('pcp file monitors', (item) => item.monitor.kind),
      syscallBuffers: new SerializerRegistry('pcp syscall buffers', () => 'core/syscall-buffer'),
      tasks: new SerializerRegistry('pcp tasks', () => 'core/task'),
      trace: new SerializerRegistry('pcp trace position', () => 'core/trace-position'),
      extensions: new SerializerRegistry('pcp extensions', () => ''),
      hooks: createPcpHooks(),
    };
    registries.set(tsrr, r);
  }
  return r;
}

/** The serializer for an item about to be saved: a kind without one fails at save time. */
export function serializerFor<T>(registry: SerializerRegistry<T>, kind: string): Serializer<T> {
  if (!registry.has(kind)) {
    throw new TsrrError('UNSUPPORTED', `cannot checkpoint: no serializer for kind "${kind}" in ${registry.name}`, { kind });
  }
  return registry.get(kind);
}
