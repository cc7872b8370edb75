// SPDX-License-Identifier: MIT
/**
 * Taking a checkpoint of a stopped process: every section's items go through the serializer
 * registered for their kind; the manifest lists the kinds used so a later load can refuse a
 * checkpoint it cannot restore before touching anything.
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { relative } from 'node:path';
import type { Mapping, Session, Task } from '../../core/index.js';
import type { CheckpointStore, StoredCheckpoint } from './CheckpointStore.js';
import { PCP_FORMAT_VERSION, type Envelope, type KindUse, type State } from './checkpointFormat.js';
import { storeMemory } from './memory.js';
import { SECTIONS, serializerFor, type PcpRegistry, type SaveContext, type SerializerRegistry } from './PcpRegistry.js';

export interface CaptureSource {
  readonly session: Session;
  readonly task: Task;
  readonly frame: number;
  readonly traceUuid: string;
  /** The trace-relative copy of the file a mapping maps, if the trace has one. */
  readonly traceCopyOf: (mapping: Mapping) => string | undefined;
  /** The trace-relative copy of the program the process runs. */
  readonly executable: string;
}

/** During replay, mapped and executed files are the trace's copies themselves: a path's copy
 * is the path, relative to the trace. */
export function replayCopyOf(traceDir: string): (path: string) => string | undefined {
  const root = realpathSync(traceDir);
  return (path) => {
    const rel = relative(root, path.replace(/ \(deleted\)$/, ''));
    return rel.startsWith('files/') ? rel : undefined;
  };
}

export function captureCheckpoint(reg: PcpRegistry, store: CheckpointStore, src: CaptureSource): StoredCheckpoint {
  reg.hooks.beforeCheckpointWrite.call(src.session, src.frame);
  const before = store.chunks.storedBytes;
  // A pack name of its own: a checkpoint made again at the same frame must not replace the
  // pack whose chunks the earlier ones refer to.
  store.chunks.begin(`${src.frame}-${randomBytes(4).toString('hex')}`);
  const used = new Set<string>();
  let memoryBytes = 0n;
  const ctx: SaveContext = {
    session: src.session,
    task: src.task,
    traceDir: store.traceDir,
    chunks: store.chunks,
    traceCopyOf: src.traceCopyOf,
    storeMemory(start, end, extent) {
      const refs = storeMemory(src.task, store.chunks, start, end, extent);
      for (const r of refs) {
        used.add(r.hash.toString('hex'));
        memoryBytes += BigInt(r.length);
      }
      return refs;
    },
  };
  const needs = new Map<string, KindUse>();
  const items: { [K in (typeof SECTIONS)[number]]: unknown[] } = {
    mappings: src.task.as.mappings(),
    fileMonitors: [...src.task.fds.monitors].map(([fd, monitor]) => ({ fd, monitor })),
    syscallBuffers: reg.syscallBuffers.kinds().length > 0 ? [src.task] : [],
    tasks: [src.task],
    trace: [{ frame: src.frame }],
    extensions: [],
  };
  const sections = {} as State['sections'];
  for (const section of SECTIONS) {
    const registry = reg[section] as SerializerRegistry<unknown>;
    const save = (kind: string, item: unknown): Envelope => {
      const s = serializerFor(registry, kind);
      needs.set(`${section}\0${kind}`, { section, kind, version: s.version, plugin: s.plugin ?? 'unknown' });
      return { kind, version: s.version, payload: s.save(item, ctx) };
    };
    sections[section] =
      section === 'extensions'
        ? registry.kinds().map((kind) => save(kind, src.session))
        : items[section].map((item) => save(registry.kindOf(item, ctx), item));
  }
  store.chunks.commit();
  const cp = store.write(
    {
      formatVersion: PCP_FORMAT_VERSION,
      traceUuid: src.traceUuid,
      frame: src.frame,
      createdNs: BigInt(Date.now()) * 1_000_000n,
      needs: [...needs.values()],
      memoryBytes,
      storedBytes: BigInt(store.chunks.storedBytes - before),
    },
    { executable: src.executable, sections },
    used,
  );
  reg.hooks.checkpointWritten.call(cp);
  return cp;
}
