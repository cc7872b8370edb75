// SPDX-License-Identifier: MIT
/**
 * What a persistent checkpoint saves, by section, and the hooks around writing and restoring
 * one. Each section is a registry of serializers keyed by kind; the pcp plugin registers the
 * built-in kinds through the same API a third-party plugin uses (`pcpRegistry(tsrr)`).
 */
import { SyncHook } from 'tapable';
import type { FileMonitor, Mapping, ReplaySession, Session, Task, Tsrr } from '../../core/index.js';
import { Registry, TsrrError, defineHooks, isSysvAttachment, isTsrrError } from '../../core/index.js';
import type { ChunkRef, ChunkStore } from './ChunkStore.js';
import type { Extent } from './memory.js';

/** What a serializer's save() gets besides its item. Checkpoints are taken in replay
 * (create-checkpoints, a debugger's stops) and while recording (record --checkpoint-interval):
 * `session` is then a RecordSession, whose tasks run the original program and files. */
export interface SaveContext {
  /** Whether the checkpoint is of a replay or of a recording. */
  readonly phase: 'record' | 'replay';
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
  /** The plugin that provides this kind, named in errors (its own, and a checkpoint's that
   * needs it); default: the plugin being applied when the kind was registered. */
  readonly plugin?: string;
  /** Whether a checkpoint holding this kind still restores without the plugin: its state is
   * then skipped, with a warning (default: such a checkpoint cannot be used). */
  readonly optional?: boolean;
  save(item: T, ctx: SaveContext): Uint8Array;
  load(payload: Uint8Array, version: number, ctx: LoadContext): void;
}

/** A section's registry: serializers keyed by kind, and which kind an item is saved as. */
export class SerializerRegistry<T> extends Registry<Serializer<T>> {
  private readonly plugins = new Map<string, string>();

  constructor(
    name: string,
    /** The kind an item is saved as (the mapping kind, the monitor kind, ...). */
    readonly kindOf: (item: T, ctx: SaveContext) => string,
    /** The plugin being applied now, if one is. */
    private readonly applying: () => string | undefined = () => undefined,
  ) {
    super(name);
  }

  override register(kind: string, serializer: Serializer<T>): void {
    super.register(kind, serializer);
    this.plugins.set(kind, serializer.plugin ?? this.applying() ?? 'unnamed');
  }

  /** The plugin that registered `kind`. */
  pluginOf(kind: string): string {
    return this.plugins.get(kind) ?? 'unnamed';
  }

  /** Runs `fn`, a call of the serializer of `kind` (its `method`): what it throws names the
   * plugin that registered it, not the one that took the checkpoint. */
  calling<R>(kind: string, method: 'save' | 'load', fn: () => R): R {
    try {
      return fn();
    } catch (e) {
      const plugin = this.pluginOf(kind);
      if (isTsrrError(e)) {
        e.context.plugin ??= plugin;
        throw e;
      }
      const why = e instanceof Error ? e.message : String(e);
      throw new TsrrError('PLUGIN_ERROR', `plugin ${plugin} failed in its serializer "${kind}" (${this.name}, ${method}): ${why}`, { plugin, kind, hook: `${this.name} ${method}` }, { cause: e });
    }
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
    const applying = () => tsrr.applying;
    r = {
      mappings: new SerializerRegistry('pcp mappings', (m, ctx) => (isSysvAttachment(m) ? 'core/sysv-shm' : ctx.session.sharedFileOf(m, ctx.task) ? 'core/shared-file' : `core/${m.kind}`), applying),
      fileMonitors: new SerializerRegistry('pcp file monitors', (item) => item.monitor.kind, applying),
      syscallBuffers: new SerializerRegistry('pcp syscall buffers', () => 'core/syscall-buffer', applying),
      tasks: new SerializerRegistry('pcp tasks', () => 'core/task', applying),
      trace: new SerializerRegistry('pcp trace position', () => 'core/trace-position', applying),
      extensions: new SerializerRegistry('pcp extensions', () => '', applying),
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
