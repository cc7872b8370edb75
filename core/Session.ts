// SPDX-License-Identifier: MIT
/**
 * A Session is one recording or one replay of a process tree. It owns the tasks, their address
 * spaces and fd tables, and the hooks plugins tap; RecordSession and ReplaySession add the
 * trace. Several sessions can exist in one tsrr process.
 */
import { SyncBailHook, SyncHook } from 'tapable';
import { kill, waitpid } from '../native/libc.js';
import { PTRACE, SIG, WAIT } from '../native/ptrace.js';
import { NR } from '../native/syscalls.js';
import { AddressSpace } from './AddressSpace.js';
import type { Event } from './Event.js';
import { FdTable } from './FdTable.js';
import type { FileMonitor } from './FileMonitor.js';
import { defineHooks } from './hooks.js';
import { Registry } from './Registry.js';
import { StdioMonitor } from './StdioMonitor.js';
import { Task } from './Task.js';
import { TsrrError } from './TsrrError.js';
import { patchVdso } from './vdso.js';

/** What replay found different from the trace. */
export interface Divergence {
  readonly frame: number;
  readonly tid: number;
  readonly expected: string;
  readonly actual: string;
}

const PR_SET_TSC = 26;
const PR_TSC_SIGSEGV = 2;
const ARCH_SET_CPUID = 0x1012;

export function createSessionHooks() {
  return defineHooks('Session', {
    /** A task came under the tracer, stopped at its first exec (record and replay). */
    taskCreated: new SyncHook<[Task]>(['task']),
    /** A task exited; `status` is its raw wait status (record and replay). */
    taskExited: new SyncHook<[Task, number]>(['task', 'status']),
    /** A task stopped at a syscall entry; registers are in task.regs (record and replay). */
    beforeSyscall: new SyncHook<[Task, number]>(['task', 'nr']),
    /** A syscall finished: as the kernel ran it (record) or as tsrr reproduced it (replay). */
    afterSyscall: new SyncHook<[Task, Event]>(['task', 'event']),
    /** Record: an event was appended to the trace. */
    eventRecorded: new SyncHook<[Event, Task]>(['event', 'task']),
    /** Replay: an event was reproduced in the tracee. */
    eventReplayed: new SyncHook<[Event, Task]>(['event', 'task']),
    /** Replay: the tracee differs from the trace; replay stops with an error after this. */
    divergence: new SyncHook<[Divergence]>(['divergence']),
    /** Replay: before the program is launched at frame 1. A tap that returns a task has made
     * the session's first task itself (restored from a checkpoint, say) and called
     * startFrom(frame); replay goes on from there instead. */
    beforeLaunch: new SyncBailHook<[Session], Task | undefined>(['session']),
  });
}

export type SessionHooks = ReturnType<typeof createSessionHooks>;

export interface SessionOptions {
  /** Polled at every stop: true once the user asked tsrr to stop (SIGINT, SIGTERM). */
  readonly interrupted: () => boolean;
}

export abstract class Session {
  abstract readonly mode: 'record' | 'replay';
  readonly hooks = createSessionHooks();
  readonly tasks = new Map<number, Task>();
  /** File-monitor kinds: a plugin registers its kind here to create its monitors by name. */
  readonly fileMonitors = new Registry<(task: Task, fd: number) => FileMonitor>('file monitors');

  constructor(protected readonly options: SessionOptions) {
    this.fileMonitors.register(StdioMonitor.KIND, (_task, fd) => new StdioMonitor(fd));
  }

  /** Takes the stopped tracee `tid` into the session as its first task, with stdout and
   * stderr monitored. */
  adoptTask(tid: number): Task {
    const task = new Task(tid, new AddressSpace(tid), new FdTable());
    for (const fd of [1, 2]) task.fds.set(fd, this.fileMonitors.get(StdioMonitor.KIND)(task, fd));
    this.tasks.set(tid, task);
    this.hooks.taskCreated.call(task);
    return task;
  }

  /** At a PTRACE_EVENT_EXEC stop: patches the vDSO, runs the task to the exit of execve and
   * turns on rdtsc trapping and, if asked and possible, cpuid faulting. Returns whether cpuid
   * faulting is on. Record and replay must make exactly the same calls here. */
  setUpExec(task: Task, cpuidFaulting: boolean): boolean {
    task.execed(new AddressSpace(task.tid));
    task.as.syscallInsn = patchVdso(task);
    task.resume(PTRACE.SYSCALL);
    const st = task.wait();
    if (st.kind !== 'syscall') {
      throw new TsrrError('TRACEE_FAILED', `task ${task.tid}: expected the exit of execve, got ${JSON.stringify(st)}`, { tid: task.tid });
    }
    task.inSyscall = false;
    const tsc = task.remoteSyscall(NR.prctl, PR_SET_TSC, PR_TSC_SIGSEGV);
    if (tsc !== 0n) throw new TsrrError('UNSUPPORTED', `cannot trap rdtsc (prctl PR_SET_TSC returned ${tsc})`, { tid: task.tid });
    return cpuidFaulting && task.remoteSyscall(NR.arch_prctl, ARCH_SET_CPUID, 0) === 0n;
  }

  /** Kills every task and reaps it, so that no tracee outlives the session. */
  killAll(): void {
    for (const task of this.tasks.values()) {
      kill(task.tid, SIG.KILL);
      for (;;) {
        const [pid, status] = waitpid(task.tid, WAIT.WALL);
        if (pid < 0 || (status & 0x7f) !== 0x7f) break;
      }
      task.closeMem();
    }
    this.tasks.clear();
  }

  protected exitCode(status: number): number {
    const low = status & 0x7f;
    return low === 0 ? (status >> 8) & 0xff : 128 + low;
  }
}
