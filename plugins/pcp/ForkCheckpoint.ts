// SPDX-License-Identifier: MIT
/**
 * In-memory checkpoints. Each process of the replay forks (a remote fork in its main thread)
 * a frozen copy that never runs: its memory is the checkpoint's, shared copy-on-write with the
 * replay, so taking one costs a fork and the serializers of everything but memory. Restoring
 * forks each frozen copy again, so a checkpoint restores any number of times; persisting one
 * saves the frozen copies' memory as a persistent checkpoint would.
 */
import { FdTable, NR, Task, TsrrError, type Mapping, type ReplaySession } from '../../core/index.js';
import { kill, waitTimed } from '../../native/libc.js';
import { SIG, WAIT } from '../../native/ptrace.js';
import { Capture, replayCopyOf, whileCheckpointable, writeCheckpoint } from './capture.js';
import type { CheckpointStore, StoredCheckpoint } from './CheckpointStore.js';
import type { State } from './checkpointFormat.js';
import { replayProgram } from './commands.js';
import type { PcpRegistry } from './PcpRegistry.js';
import { restoreState } from './restore.js';

/** clone(2) flags of a frozen copy: a plain fork whose parent is the forking process's own, so
 * the copy is reaped as its original would be. */
const FORK_FLAGS = 0x8000 /* CLONE_PARENT */ | SIG.CHLD;

export class ForkCheckpoint {
  private constructor(
    private readonly reg: PcpRegistry,
    private readonly store: CheckpointStore,
    readonly frame: number,
    /** Part way to the event after `frame` (a debugger's stop), not right after it. */
    readonly partWay: boolean,
    private readonly state: State,
    private readonly capture: Capture,
    /** The frozen copy of each process, in the order of state.processes. */
    private readonly frozen: Task[],
  ) {}

  /** Checkpoints the replay where it is, or says why it cannot now. */
  static take(reg: PcpRegistry, store: CheckpointStore, session: ReplaySession, partWay: boolean): ForkCheckpoint | string {
    const copyOf = replayCopyOf(store.traceDir);
    return whileCheckpointable(session, (processes) => {
      for (const { tasks } of processes) {
        const main = tasks[0]!.task;
        const shared = main.as.mappings().find((m) => m.prot[3] === 's' && m.prot[1] === 'w');
        if (shared) return `process ${main.tgid} has shared writable memory (at 0x${shared.start.toString(16)}), which a frozen copy would share`;
      }
      const frozen: Task[] = [];
      try {
        for (const { tasks } of processes) frozen.push(forkFrozen(session, tasks[0]!.task));
        const src = { session, frame: session.frame, traceUuid: session.trace.header.uuid, processes, traceCopyOf: (_t: Task, m: Mapping) => copyOf(m.path), executableOf: (t: Task) => replayProgram(t, copyOf) };
        const capture = new Capture(reg, store, src, false);
        return new ForkCheckpoint(reg, store, session.frame, partWay, capture.state(), capture, frozen);
      } catch (e) {
        for (const f of frozen) end(f);
        throw e;
      }
    });
  }

  /** Puts the checkpoint's state into `session`, a replay not started yet; returns its first task. */
  restore(session: ReplaySession): Task {
    if (this.frozen.length === 0) throw new TsrrError('INTERNAL', `the checkpoint at event ${this.frame} was dropped`);
    return restoreState(this.reg, this.store, session, this.state, `the in-memory checkpoint at event ${this.frame}`, new Set(), (_p, i, rec, tgid) => {
      const copy = this.frozen[i]!;
      const main = session.adoptTask(forkOf(session, copy), rec, tgid);
      main.as.takeCodeOf(copy.as);
      return main;
    });
  }

  /** Writes the checkpoint to disk as a persistent one. */
  persist(): StoredCheckpoint {
    const capture = new Capture(this.reg, this.store, this.capture.src, true, this.capture.needs);
    return writeCheckpoint(this.reg, this.store, capture, this.frame, this.capture.src.traceUuid, this.partWay, () => ({
      processes: this.state.processes.map((p, i) => ({ ...p, sections: { ...p.sections, mappings: capture.mappings(this.frozen[i]!) } })),
      sections: this.state.sections,
    }));
  }

  /** Ends the frozen copies. */
  drop(): void {
    for (const f of this.frozen.splice(0)) end(f);
  }
}

/** A stopped copy of `task`'s process, made by a fork in it; the copy is traced (auto-attached)
 * and stays at its first stop until it runs remote syscalls. */
function forkOf(session: ReplaySession, task: Task): number {
  const pid = task.remoteSyscall(NR.clone, FORK_FLAGS, 0, 0, 0, 0);
  if (pid <= 0n) throw new TsrrError('TRACEE_FAILED', `forking task ${task.tid} for a checkpoint failed (${pid})`, { tid: task.tid });
  const st = session.waitFor(new Task(Number(pid), task.as, task.fds), false);
  if (st.kind !== 'signal' && st.kind !== 'event') throw new TsrrError('TRACEE_FAILED', `the fork of task ${task.tid} did not stop: ${JSON.stringify(st)}`, { tid: task.tid });
  return Number(pid);
}

function forkFrozen(session: ReplaySession, task: Task): Task {
  const pid = forkOf(session, task);
  const copy = new Task(pid, task.as.forked(pid), new FdTable(), task.rec, task.tgid);
  copy.blocked = task.blocked;
  copy.sighand = task.sighand.copy();
  copy.robustList = task.robustList;
  return copy;
}

function end(copy: Task): void {
  kill(copy.tid, SIG.KILL);
  copy.closeMem();
  waitTimed(copy.tid, WAIT.WALL, 1_000_000_000); // its end, unless another wait reaped it
}
