// SPDX-License-Identifier: MIT
/**
 * Taking a checkpoint of stopped processes: every section's items go through the serializer
 * registered for their kind, process by process, then the sections of the whole replay; the
 * manifest lists the kinds used so a later load can refuse a checkpoint it cannot restore
 * before touching anything.
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { relative } from 'node:path';
import type { Mapping, Session, Task } from '../../core/index.js';
import type { CheckpointStore, StoredCheckpoint } from './CheckpointStore.js';
import { PCP_FORMAT_VERSION, type Envelope, type KindUse, type ProcessState, type State } from './checkpointFormat.js';
import { storeMemory } from './memory.js';
import { PROCESS_SECTIONS, serializerFor, type PcpRegistry, type ProcessSection, type SaveContext, type SectionName, type SerializerRegistry } from './PcpRegistry.js';

/** One process to save: its tasks, the first of which describes the process. */
export interface CaptureProcess {
  readonly tasks: readonly { readonly task: Task; readonly held: boolean }[];
}

export interface CaptureSource {
  readonly session: Session;
  readonly frame: number;
  readonly traceUuid: string;
  readonly processes: readonly CaptureProcess[];
  /** The trace-relative copy of the file `task` has mapped at `mapping`, if the trace has one. */
  readonly traceCopyOf: (task: Task, mapping: Mapping) => string | undefined;
  /** The trace-relative copy of the program `task` runs. */
  readonly executableOf: (task: Task) => string;
}

/** The session's tasks by process (address space), each process's main thread first if it
 * is alive. */
export function processesOf(tasks: Iterable<Task>): Task[][] {
  const byAs = new Map<unknown, Task[]>();
  for (const t of tasks) {
    const list = byAs.get(t.as) ?? [];
    if (t.rec === t.tgid) list.unshift(t);
    else list.push(t);
    byAs.set(t.as, list);
  }
  return [...byAs.values()];
}

/** Why the processes cannot be checkpointed as they are, if they cannot: shared anonymous
 * memory is saved per process, so two processes sharing some would be restored apart. */
export function unsharedMemoryProblem(processes: readonly Task[][]): string | undefined {
  const seen = new Map<string, number>();
  for (const [task] of processes) {
    for (const m of task!.as.mappings()) {
      if (m.kind !== 'shared-anonymous') continue;
      const other = seen.get(m.object);
      if (other !== undefined && other !== task!.tgid) return `processes ${other} and ${task!.tgid} share anonymous memory (at 0x${m.start.toString(16)})`;
      seen.set(m.object, task!.tgid);
    }
  }
  return undefined;
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
  const needs = new Map<string, KindUse>();
  const contextOf = (task: Task): SaveContext => ({
    session: src.session,
    task,
    traceDir: store.traceDir,
    chunks: store.chunks,
    traceCopyOf: (m) => src.traceCopyOf(task, m),
    storeMemory(start, end, extent) {
      const refs = storeMemory(task, store.chunks, start, end, extent);
      for (const r of refs) {
        used.add(r.hash.toString('hex'));
        memoryBytes += BigInt(r.length);
      }
      return refs;
    },
  });
  const save = <S extends SectionName>(section: S, items: readonly unknown[], ctx: SaveContext, kindOf?: string): Envelope[] =>
    items.map((item) => {
      const registry = reg[section] as SerializerRegistry<unknown>;
      const kind = kindOf ?? registry.kindOf(item, ctx);
      const s = serializerFor(registry, kind);
      needs.set(`${section}\0${kind}`, { section, kind, version: s.version, plugin: s.plugin ?? 'unknown' });
      return { kind, version: s.version, payload: s.save(item, ctx) };
    });
  const processes: ProcessState[] = src.processes.map(({ tasks }) => {
    const main = tasks[0]!.task;
    const ctx = contextOf(main);
    const items: Record<ProcessSection, unknown[]> = {
      mappings: main.as.mappings(),
      fileMonitors: [...main.fds.monitors].map(([fd, monitor]) => ({ fd, monitor })),
      syscallBuffers: reg.syscallBuffers.kinds().length > 0 ? [main] : [],
      tasks: [],
    };
    const sections = Object.fromEntries(PROCESS_SECTIONS.map((section) => [section, save(section, items[section], ctx)])) as ProcessState['sections'];
    sections.tasks = tasks.flatMap(({ task }) => save('tasks', [task], contextOf(task)));
    return { tgid: main.tgid, executable: src.executableOf(main), threads: tasks.map(({ task, held }) => ({ tid: task.rec, held })), sections };
  });
  const first = contextOf(src.processes[0]!.tasks[0]!.task);
  const sections: State['sections'] = {
    trace: save('trace', [{ frame: src.frame }], first),
    extensions: reg.extensions.kinds().flatMap((kind) => save('extensions', [src.session], first, kind)),
  };
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
    { processes, sections },
    used,
  );
  reg.hooks.checkpointWritten.call(cp);
  return cp;
}
