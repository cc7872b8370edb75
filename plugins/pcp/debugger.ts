// SPDX-License-Identifier: MIT
/**
 * What the pcp plugin gives the gdb server: in-memory checkpoints (ForkCheckpoint) to go back
 * to, the trace's persistent checkpoints as places to start going back from, and the gdb
 * commands write-checkpoints (the user's checkpoints to disk) and load-checkpoints (the
 * trace's persistent checkpoints as numbered ones).
 */
import type { ReplaySession, Task, Tsrr } from '../../core/index.js';
import type { GdbServer } from '../gdbserver/GdbServer.js';
import { gdbHooks } from '../gdbserver/hooks.js';
import type { SavedState } from '../gdbserver/Timeline.js';
import { CheckpointStore, type StoredCheckpoint } from './CheckpointStore.js';
import { ForkCheckpoint } from './ForkCheckpoint.js';
import type { PcpRegistry } from './PcpRegistry.js';
import { loadCheckpoint, restoreCheckpoint } from './restore.js';

/** A persistent checkpoint as a state the server can restore. */
class PersistentState implements SavedState {
  constructor(
    private readonly reg: PcpRegistry,
    private readonly store: CheckpointStore,
    private readonly cp: StoredCheckpoint,
  ) {}

  restore(session: ReplaySession): Task {
    const cp = this.store.reading(() => loadCheckpoint(this.reg, this.store, this.cp, session.trace.header.uuid));
    return restoreCheckpoint(this.reg, this.store, session, cp);
  }

  drop(): void {}
}

/** The trace's persistent checkpoints the server can use (those at events; part-way ones
 * are the user's to restart from). */
function persistent(reg: PcpRegistry, server: GdbServer): { cp: StoredCheckpoint; state: PersistentState; partWay: boolean }[] {
  const store = new CheckpointStore(server.session.trace.dir);
  return store.list().map((cp) => ({ cp, state: new PersistentState(reg, store, cp), partWay: store.manifest(cp).partWay }));
}

export function serveCheckpoints(tsrr: Tsrr, reg: PcpRegistry, ignorePcp: () => boolean): void {
  const hooks = gdbHooks(tsrr);
  hooks.saveState.tap('pcp', (session, partWay) => ForkCheckpoint.take(reg, new CheckpointStore(session.trace.dir), session, partWay));
  hooks.serverStarted.tap('pcp', (server) => {
    if (ignorePcp()) return;
    for (const p of persistent(reg, server)) if (!p.partWay) server.addCheckpoint(p.state, p.cp.frame, { user: false, partWay: false });
  });
  hooks.gdbCommands.tap('pcp', (list) => [
    ...list,
    { name: 'write-checkpoints', arg: false, help: "Save the checkpoints made in this session to the trace's persistent checkpoints." },
    { name: 'load-checkpoints', arg: false, help: "Add the trace's persistent checkpoints to the checkpoints (restart N goes to them)." },
  ]);
  hooks.monitorCommand.tap('pcp', (words, server) => {
    const command = words.join(' ');
    if (command === 'write-checkpoints') return writeCheckpoints(server);
    if (command === 'load-checkpoints') return loadCheckpoints(reg, server);
    return undefined;
  });
}

function writeCheckpoints(server: GdbServer): string {
  const store = new CheckpointStore(server.session.trace.dir);
  const have = new Set(store.list().map((c) => c.frame));
  const out: string[] = [];
  for (const cp of server.timeline.numbered()) {
    if (!(cp.saved instanceof ForkCheckpoint)) continue; // loaded from disk
    if (have.has(cp.saved.frame)) {
      out.push(`checkpoint ${cp.id}: a persistent checkpoint at event ${cp.saved.frame} exists; kept it\n`);
      continue;
    }
    const stored = cp.saved.persist();
    have.add(stored.frame);
    out.push(`checkpoint ${cp.id}: written to ${stored.dir}\n`);
  }
  return out.length === 0 ? 'No checkpoints to write (checkpoint makes one).\n' : out.join('');
}

/** The persistent checkpoints each server has loaded already. */
const loaded = new WeakMap<GdbServer, Set<string>>();

function loadCheckpoints(reg: PcpRegistry, server: GdbServer): string {
  const done = loaded.get(server) ?? new Set<string>();
  loaded.set(server, done);
  const fresh = persistent(reg, server).filter((p) => !done.has(p.cp.dir));
  const out = fresh.map((p) => {
    done.add(p.cp.dir);
    const cp = server.addCheckpoint(p.state, p.cp.frame, { user: true, partWay: p.partWay });
    return `Checkpoint ${cp.id} at event ${p.cp.frame}${p.partWay ? ' (part way to the next)' : ''}.\n`;
  });
  return out.length === 0 ? 'No persistent checkpoints to load.\n' : out.join('');
}
