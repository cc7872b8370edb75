// SPDX-License-Identifier: MIT
/**
 * Restoring a checkpoint: for each process a fresh process of its program is launched,
 * everything but the kernel's mappings and the stack is unmapped, its threads are created, and
 * each section's items are handed to the serializer of their kind, in section order and by
 * stage. Everything that can be checked without a tracee (format, trace identity, needed
 * kinds, the chunks' checksums) is checked first, so a checkpoint that cannot be used is
 * passed over for an earlier one before any process exists.
 */
import { basename } from 'node:path';
import { CLONE, NR, TsrrError, writeAll, type ErrorCode, type ReplaySession, type Task } from '../../core/index.js';
import type { CheckpointStore, StoredCheckpoint } from './CheckpointStore.js';
import type { Envelope, KindUse, Manifest, ProcessState, State } from './checkpointFormat.js';
import { loadMemory } from './memory.js';
import { SESSION_SECTIONS, type LoadContext, type PcpRegistry, type SectionName, type SerializerRegistry } from './PcpRegistry.js';

/** A thread as pthread_create makes one: its thread-local storage its own (its saved fs base
 * goes in with its registers). */
const THREAD_FLAGS = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM | CLONE.SETTLS;

export interface LoadedCheckpoint extends StoredCheckpoint {
  readonly manifest: Manifest;
  readonly state: State;
  /** Optional kinds whose state the restore leaves out: no loaded serializer reads it. */
  readonly skipped: readonly KindUse[];
}

const kindKey = (section: string, kind: string) => `${section}\0${kind}`;

/** Reads and checks a checkpoint; throws before any tracee exists if it cannot be restored
 * (its memory is checked as stored: the pack files it needs stay open for the restore). */
export function loadCheckpoint(reg: PcpRegistry, store: CheckpointStore, cp: StoredCheckpoint, traceUuid: string): LoadedCheckpoint {
  const manifest = store.manifest(cp);
  if (manifest.traceUuid !== traceUuid) {
    throw new TsrrError('CHECKPOINT_MISMATCH', `${cp.dir} belongs to another trace (uuid ${manifest.traceUuid}, this trace is ${traceUuid}); remove it with tsrr rm-checkpoints or use --ignore-pcp`, { dir: cp.dir });
  }
  if (manifest.frame !== cp.frame) {
    throw new TsrrError('CHECKPOINT_CORRUPT', `${cp.dir} says it is at frame ${manifest.frame}`, { dir: cp.dir });
  }
  const skipped: KindUse[] = [];
  for (const need of manifest.needs) {
    const registry = reg[need.section] as SerializerRegistry<unknown> | undefined;
    if (need.optional && (!registry?.has(need.kind) || need.version > registry.get(need.kind).version)) {
      skipped.push(need);
      continue;
    }
    if (!registry?.has(need.kind)) {
      throw new TsrrError('CHECKPOINT_NEEDS_KIND', `the checkpoint at event ${cp.frame} needs serializer "${need.kind}" (section ${need.section}) from plugin ${need.plugin}, which is not loaded; add the plugin to rr.config.ts or use --ignore-pcp`, { kind: need.kind, plugin: need.plugin });
    }
    const have = registry.get(need.kind).version;
    if (need.version > have) {
      throw new TsrrError('CHECKPOINT_TOO_NEW', `the checkpoint at event ${cp.frame} has "${need.kind}" version ${need.version}; the loaded serializer reads up to version ${have} (upgrade ${need.plugin}, or use --ignore-pcp)`, { kind: need.kind });
    }
  }
  const state = store.state(cp);
  store.verify(cp);
  return { ...cp, manifest, state, skipped };
}

/** The errors that make a checkpoint unusable, found before any tracee exists. */
const UNUSABLE = new Set<ErrorCode>(['CHECKPOINT_CORRUPT', 'CHECKPOINT_MISMATCH', 'CHECKPOINT_NEEDS_KIND', 'CHECKPOINT_TOO_NEW']);

/** A checkpoint that cannot be used, and why. */
export interface Unusable {
  readonly frame: number;
  readonly why: string;
}

/** The latest checkpoint of the state right after `frame` or before that can be restored,
 * with why each later one cannot; `strict` fails on the first that cannot instead. */
export function usableCheckpoint(reg: PcpRegistry, store: CheckpointStore, frame: number, traceUuid: string, strict: boolean): { cp?: LoadedCheckpoint; unusable: Unusable[] } {
  const unusable: Unusable[] = [];
  for (const c of store.list().filter((c) => c.frame <= frame).reverse()) {
    try {
      if (c.frame === frame && store.manifest(c).partWay) continue;
      return { cp: loadCheckpoint(reg, store, c, traceUuid), unusable };
    } catch (e) {
      if (strict || !(e instanceof TsrrError) || !UNUSABLE.has(e.code)) throw e;
      unusable.push({ frame: c.frame, why: e.message });
    }
  }
  return { unusable };
}

/** Loads a section's items into the context's task, by stage. */
export type SectionLoader = (section: SectionName, envs: readonly Envelope[], task: Task) => void;

/** Makes the main thread of a saved process, `rec` in the trace, with its memory in place. */
export type ProcessMaker = (p: ProcessState, index: number, rec: number, tgid: number, load: SectionLoader) => Task;

export function restoreCheckpoint(reg: PcpRegistry, store: CheckpointStore, session: ReplaySession, cp: LoadedCheckpoint): Task {
  reg.hooks.beforeRestore.call(cp, session);
  for (const k of cp.skipped) {
    const why = reg[k.section].has(k.kind) ? `reads versions up to ${reg[k.section].get(k.kind).version}, not ${k.version}` : 'is not loaded';
    writeAll(2, `tsrr: warning: the checkpoint at event ${cp.frame} holds optional state "${k.kind}" of plugin ${k.plugin}, which ${why}: restoring without it\n`);
  }
  let first: Task;
  try {
    first = restoreState(reg, store, session, cp.state, cp.dir, new Set(cp.skipped.map((k) => kindKey(k.section, k.kind))), (p, _i, rec, tgid, load) => {
      const exe = session.trace.file(p.executable);
      const limits = p.limits.length > 0 ? p.limits : session.startLimits();
      const main = session.launchTask(exe, [basename(exe)], [], limits, rec, tgid);
      const keep = new Set(['vdso', 'vvar', 'vsyscall', 'stack']);
      for (const m of main.as.mappings()) if (!keep.has(m.kind)) main.remoteSyscall(NR.munmap, m.start, m.end - m.start);
      load('mappings', p.sections.mappings, main);
      session.codeChanged(main);
      return main;
    });
  } finally {
    store.chunks.close();
  }
  reg.hooks.restored.call(cp, session, first);
  return first;
}

/** Puts a saved state into `session`: each process made by `makeProcess`, then its file
 * monitors, buffers and threads, then the sections of the whole replay; the kinds in `skip`
 * ("section\0kind") are left out. */
export function restoreState(reg: PcpRegistry, store: CheckpointStore, session: ReplaySession, state: State, where: string, skip: ReadonlySet<string>, makeProcess: ProcessMaker): Task {
  // Format 1 saved the recording's first process, whose ids are the first event's.
  const firstTid = session.trace.peek()?.tid ?? 0;
  const contextOf = (task: Task): LoadContext => ({
    session,
    task,
    traceDir: store.traceDir,
    chunks: store.chunks,
    loadMemory: (start, refs) => loadMemory(task, store.chunks, start, refs),
  });
  const load: SectionLoader = (section, envs, task) => {
    const registry = reg[section] as SerializerRegistry<unknown>;
    const items = envs.filter((env) => !skip.has(kindKey(section, env.kind))).map((env) => ({ env, s: registry.get(env.kind) }));
    items.sort((a, b) => (a.s.stage ?? 0) - (b.s.stage ?? 0));
    const ctx = contextOf(task);
    for (const { env, s } of items) registry.calling(env.kind, 'load', () => s.load(env.payload, env.version, ctx));
  };
  let first: Task | undefined;
  state.processes.forEach((p, index) => {
    const ids = p.threads.map((t) => t.tid || firstTid);
    const main = makeProcess(p, index, ids[0]!, p.tgid || firstTid, load);
    first ??= main;
    main.fds.monitors.clear();
    load('fileMonitors', p.sections.fileMonitors, main);
    load('syscallBuffers', p.sections.syscallBuffers, main);
    // Threads are made while `main` can still run remote syscalls (before it is held).
    const tasks = ids.map((rec, i) => (i === 0 ? main : spawnThread(session, main, rec)));
    tasks.forEach((task, i) => load('tasks', [p.sections.tasks[i]!], task));
    tasks.forEach((task, i) => p.threads[i]!.held && session.hold(task));
  });
  if (!first) throw new TsrrError('CHECKPOINT_CORRUPT', `${where} holds no process`, { dir: where });
  for (const section of SESSION_SECTIONS) load(section, state.sections[section], first);
  return first;
}

/** A new thread in `main`'s process, known in the trace as `rec`: `main` runs clone, and the
 * thread waits at its first stop for its state to be put in. */
function spawnThread(session: ReplaySession, main: Task, rec: number): Task {
  const tid = main.remoteSyscall(NR.clone, THREAD_FLAGS, 0, 0, 0, 0);
  if (tid <= 0n) throw new TsrrError('TRACEE_FAILED', `creating thread ${rec} in task ${main.tid} failed (${tid})`, { tid: main.tid });
  const task = session.adoptChild(main, Number(tid), rec, THREAD_FLAGS);
  const st = session.waitFor(task, false);
  if (st.kind !== 'event' && st.kind !== 'signal') throw new TsrrError('TRACEE_FAILED', `thread ${tid} did not start: ${JSON.stringify(st)}`, { tid: Number(tid) });
  return task;
}
