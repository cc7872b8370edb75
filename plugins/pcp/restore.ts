// SPDX-License-Identifier: MIT
/**
 * Restoring a checkpoint: a fresh process of the checkpointed program is launched, everything
 * but the kernel's mappings and the stack is unmapped, and each section's items are handed to
 * the serializer of their kind, in section order and by stage. Everything that can be checked
 * without a tracee (format, trace identity, needed kinds) is checked first.
 */
import { basename } from 'node:path';
import { NR, TsrrError, launch, type ReplaySession, type Task } from '../../core/index.js';
import type { CheckpointStore, StoredCheckpoint } from './CheckpointStore.js';
import type { Manifest, State } from './checkpointFormat.js';
import { loadMemory } from './memory.js';
import { SECTIONS, type LoadContext, type PcpRegistry, type SerializerRegistry } from './PcpRegistry.js';

export interface LoadedCheckpoint extends StoredCheckpoint {
  readonly manifest: Manifest;
  readonly state: State;
}

/** Reads and checks a checkpoint; throws before any tracee exists if it cannot be restored. */
export function loadCheckpoint(reg: PcpRegistry, store: CheckpointStore, cp: StoredCheckpoint, traceUuid: string): LoadedCheckpoint {
  const manifest = store.manifest(cp);
  if (manifest.traceUuid !== traceUuid) {
    throw new TsrrError('CHECKPOINT_MISMATCH', `${cp.dir} belongs to another trace (uuid ${manifest.traceUuid}, this trace is ${traceUuid}); remove it with tsrr rm-checkpoints or use --ignore-pcp`, { dir: cp.dir });
  }
  if (manifest.frame !== cp.frame) {
    throw new TsrrError('CHECKPOINT_CORRUPT', `${cp.dir} says it is at frame ${manifest.frame}`, { dir: cp.dir });
  }
  for (const need of manifest.needs) {
    const registry = reg[need.section] as SerializerRegistry<unknown> | undefined;
    if (!registry?.has(need.kind)) {
      throw new TsrrError('CHECKPOINT_NEEDS_KIND', `the checkpoint at event ${cp.frame} needs serializer "${need.kind}" (section ${need.section}) from plugin ${need.plugin}, which is not loaded; add the plugin to rr.config.ts or use --ignore-pcp`, { kind: need.kind, plugin: need.plugin });
    }
    const have = registry.get(need.kind).version;
    if (need.version > have) {
      throw new TsrrError('CHECKPOINT_TOO_NEW', `the checkpoint at event ${cp.frame} has "${need.kind}" version ${need.version}; the loaded serializer reads up to version ${have} (upgrade ${need.plugin}, or use --ignore-pcp)`, { kind: need.kind });
    }
  }
  return { ...cp, manifest, state: store.state(cp) };
}

/** The latest checkpoint at or before `frame`. */
export function nearestCheckpoint(store: CheckpointStore, frame: number): StoredCheckpoint | undefined {
  return store.list().filter((c) => c.frame <= frame).pop();
}

export function restoreCheckpoint(reg: PcpRegistry, store: CheckpointStore, session: ReplaySession, cp: LoadedCheckpoint): Task {
  reg.hooks.beforeRestore.call(cp, session);
  const exe = session.trace.file(cp.state.executable);
  // Checkpoints are of a single process, the recording's first (its id is the first event's).
  const task = session.adoptTask(launch(exe, [basename(exe)], [], session.opts.cpu), session.trace.peek()?.tid);
  session.setUpExec(task, session.trace.header.machine.cpuidFaulting);
  const keep = new Set(['vdso', 'vvar', 'vsyscall', 'stack']);
  for (const m of task.as.mappings()) if (!keep.has(m.kind)) task.remoteSyscall(NR.munmap, m.start, m.end - m.start);
  task.fds.monitors.clear();
  const ctx: LoadContext = {
    session,
    task,
    traceDir: store.traceDir,
    chunks: store.chunks,
    loadMemory: (start, refs) => loadMemory(task, store.chunks, start, refs),
  };
  for (const section of SECTIONS) {
    const registry = reg[section] as SerializerRegistry<unknown>;
    const items = cp.state.sections[section].map((env) => ({ env, s: registry.get(env.kind) }));
    items.sort((a, b) => (a.s.stage ?? 0) - (b.s.stage ?? 0));
    for (const { env, s } of items) s.load(env.payload, env.version, ctx);
  }
  store.chunks.close();
  reg.hooks.restored.call(cp, session, task);
  return task;
}
