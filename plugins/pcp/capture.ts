// SPDX-License-Identifier: MIT
/**
 * Taking a checkpoint of stopped processes: every section's items go through the serializer
 * registered for their kind, process by process, then the sections of the whole replay; the
 * manifest lists the kinds used so a later load can refuse a checkpoint it cannot restore
 * before touching anything.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { TsrrError, isSysvAttachment, limitsOf, mapFilesPath, realName, replayedLimits, type Mapping, type ReplaySession, type Session, type Task } from '../../core/index.js';
import { sysvProblem } from './serializers/sysvShm.js';
import type { CheckpointStore, StoredCheckpoint } from './CheckpointStore.js';
import type { ChunkRef } from './ChunkStore.js';
import { PCP_FORMAT_VERSION, type Envelope, type KindUse, type ProcessState, type State } from './checkpointFormat.js';
import { storeBytes, storeFile, storeMemory } from './memory.js';
import { serializerFor, type PcpRegistry, type ProcessSection, type SaveContext, type SectionName, type SerializerRegistry } from './PcpRegistry.js';

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

/** Why the processes cannot be checkpointed as they are, if they cannot: a System V
 * attachment its restore cannot make again (serializers/sysvShm.ts), or anonymous memory two
 * processes share, shared again on restore through /proc/PID/map_files, which only
 * CAP_SYS_ADMIN may open. (Files mapped shared are saved whole, core/shared-file, and shared
 * again on restore.) */
export function unsharedMemoryProblem(session: Session, processes: readonly Task[][]): string | undefined {
  const seen = new Map<string, number>();
  for (const [task] of processes) {
    for (const m of task!.as.mappings()) {
      if (isSysvAttachment(m)) {
        const problem = sysvProblem(session, m, task!.tgid);
        if (problem) return problem;
        continue;
      }
      if (m.kind !== 'shared-anonymous') continue;
      const other = seen.get(m.object);
      if (other !== undefined && other !== task!.tgid && !mapFilesOpen()) {
        return `processes ${other} and ${task!.tgid} share anonymous memory (at 0x${m.start.toString(16)}), which a restore shares again through /proc/PID/map_files, closed to tsrr here (it needs CAP_SYS_ADMIN)`;
      }
      seen.set(m.object, task!.tgid);
    }
  }
  return undefined;
}

let mapFiles: boolean | undefined;

/** Whether tsrr may open /proc/PID/map_files entries (tried on its own first mapping). */
function mapFilesOpen(): boolean {
  if (mapFiles !== undefined) return mapFiles;
  const [, start, end] = /^([0-9a-f]+)-([0-9a-f]+)/.exec(readFileSync('/proc/self/maps', 'latin1')) ?? [];
  try {
    closeSync(openSync(mapFilesPath('self', BigInt(`0x${start}`), BigInt(`0x${end}`)), 'r'));
    mapFiles = true;
  } catch {
    mapFiles = false;
  }
  return mapFiles;
}

/** Runs `fn` on the replay's tasks by process, with held tasks taken out of their calls and
 * breakpoints lifted; or says why they cannot be checkpointed now. */
export function whileCheckpointable<T>(session: ReplaySession, fn: (processes: CaptureProcess[]) => T): T | string {
  const phases = new Map([...session.tasks.values()].map((t) => [t, session.checkpointPhase(t)]));
  for (const [t, phase] of phases) if (!phase) return `task ${t.rec} is in the middle of a signal delivery, an exit, a fork or a restarted call`;
  const processes = processesOf(phases.keys());
  const shared = unsharedMemoryProblem(session, processes);
  if (shared) return shared;
  const held = [...phases].filter(([, phase]) => phase === 'held').map(([t]) => t);
  for (const t of held) session.release(t);
  try {
    const lifted = processes.reduce((inner, [main]) => () => main!.as.withBreakpointsLifted(main!, inner), () => fn(processes.map((tasks) => ({ tasks: tasks.map((task) => ({ task, held: phases.get(task) === 'held' })) }))));
    return lifted();
  } finally {
    for (const t of held) session.hold(t);
  }
}

/** During replay, mapped and executed files are the trace's copies themselves: a path's copy
 * is the path, relative to the trace. */
export function replayCopyOf(traceDir: string): (path: string) => string | undefined {
  const root = realName(traceDir);
  return (path) => {
    const rel = relative(root, path.replace(/ \(deleted\)$/, ''));
    return rel.startsWith('files/') ? rel : undefined;
  };
}

/** Saves items section by section through the serializers of their kinds, noting the kinds
 * (and chunks) used. Without memory (an in-memory checkpoint, whose frozen processes hold it)
 * mappings are not saved. */
export class Capture {
  readonly needs: Map<string, KindUse>;
  readonly used = new Set<string>();
  memoryBytes = 0n;

  constructor(
    private readonly reg: PcpRegistry,
    private readonly store: CheckpointStore,
    readonly src: CaptureSource,
    readonly withMemory: boolean,
    needs: ReadonlyMap<string, KindUse> = new Map(),
  ) {
    this.needs = new Map(needs);
  }

  contextOf(task: Task): SaveContext {
    return {
      phase: this.src.session.mode,
      session: this.src.session,
      task,
      traceDir: this.store.traceDir,
      chunks: this.store.chunks,
      traceCopyOf: (m) => this.src.traceCopyOf(task, m),
      storeMemory: (start, end, extent) => {
        if (!this.withMemory) throw new TsrrError('INTERNAL', 'an in-memory checkpoint keeps memory in its frozen processes, not in chunks');
        return this.using(storeMemory(task, this.store.chunks, start, end, extent));
      },
      storeBytes: (bytes) => this.using(storeBytes(this.store.chunks, bytes)),
      storeFile: (path) => {
        const { size, refs } = storeFile(this.store.chunks, path);
        return { size, refs: this.using(refs) };
      },
    };
  }

  /** Notes `refs` as this checkpoint's. */
  private using(refs: ChunkRef[]): ChunkRef[] {
    for (const r of refs) {
      this.used.add(r.hash.toString('hex'));
      this.memoryBytes += BigInt(r.length);
    }
    return refs;
  }

  save<S extends SectionName>(section: S, items: readonly unknown[], ctx: SaveContext, kindOf?: string): Envelope[] {
    return items.map((item) => {
      const registry = this.reg[section] as SerializerRegistry<unknown>;
      const kind = kindOf ?? registry.kindOf(item, ctx);
      const s = serializerFor(registry, kind);
      this.needs.set(`${section}\0${kind}`, { section, kind, version: s.version, plugin: registry.pluginOf(kind), ...(s.optional && { optional: true }) });
      return { kind, version: s.version, payload: registry.calling(kind, 'save', () => s.save(item, ctx)) };
    });
  }

  /** The mappings of `task`'s process, with their memory. */
  mappings(task: Task): Envelope[] {
    return this.save('mappings', task.as.mappings(), this.contextOf(task));
  }

  /** The state of the source's processes. */
  state(): State {
    const src = this.src;
    const processes: ProcessState[] = src.processes.map(({ tasks }) => {
      const main = tasks[0]!.task;
      const ctx = this.contextOf(main);
      const items: Record<Exclude<ProcessSection, 'mappings' | 'tasks'>, unknown[]> = {
        fileMonitors: [...main.fds.monitors].map(([fd, monitor]) => ({ fd, monitor })),
        syscallBuffers: this.reg.syscallBuffers.kinds().length > 0 ? [main] : [],
      };
      const sections = {
        mappings: this.withMemory ? this.mappings(main) : [],
        fileMonitors: this.save('fileMonitors', items.fileMonitors, ctx),
        syscallBuffers: this.save('syscallBuffers', items.syscallBuffers, ctx),
        tasks: tasks.flatMap(({ task }) => this.save('tasks', [task], this.contextOf(task))),
      };
      const threads = tasks.map(({ task, held }) => ({ tid: task.rec, held }));
      return { tgid: main.tgid, executable: src.executableOf(main), threads, limits: replayedLimits(limitsOf(main.tid)), sections };
    });
    const first = this.contextOf(src.processes[0]!.tasks[0]!.task);
    return {
      processes,
      sections: {
        trace: this.save('trace', [{ frame: src.frame }], first),
        extensions: this.reg.extensions.kinds().flatMap((kind) => this.save('extensions', [src.session], first, kind)),
      },
    };
  }
}

/** Writes a checkpoint at `frame` whose state `fill` makes with a capture that stores memory
 * in a pack of its own, as the checkpoints' only writer meanwhile. */
export function writeCheckpoint(reg: PcpRegistry, store: CheckpointStore, capture: Capture, frame: number, traceUuid: string, partWay: boolean, fill: () => State): StoredCheckpoint {
  const cp = store.writing(() => {
    const before = store.chunks.storedBytes;
    // A pack name of its own: a checkpoint made again at the same frame must not replace the
    // pack whose chunks the earlier ones refer to.
    store.chunks.begin(`${frame}-${randomBytes(4).toString('hex')}`);
    let state: State;
    try {
      state = fill();
    } catch (e) {
      store.chunks.abort();
      throw e;
    }
    store.chunks.commit();
    return store.write(
      {
        formatVersion: PCP_FORMAT_VERSION,
        traceUuid,
        frame,
        createdNs: BigInt(Date.now()) * 1_000_000n,
        needs: [...capture.needs.values()],
        memoryBytes: capture.memoryBytes,
        storedBytes: BigInt(store.chunks.storedBytes - before),
        partWay,
      },
      state,
      capture.used,
    );
  });
  reg.hooks.checkpointWritten.call(cp);
  return cp;
}

export function captureCheckpoint(reg: PcpRegistry, store: CheckpointStore, src: CaptureSource): StoredCheckpoint {
  reg.hooks.beforeCheckpointWrite.call(src.session, src.frame);
  const capture = new Capture(reg, store, src, true);
  return writeCheckpoint(reg, store, capture, src.frame, src.traceUuid, false, () => capture.state());
}
