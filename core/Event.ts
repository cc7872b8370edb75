// SPDX-License-Identifier: MIT
/**
 * An Event is one frame of a trace: something nondeterministic the recorder saw (a syscall and
 * what it returned, a trapped rdtsc, a signal, an exec, an exit). Its frame number is the event
 * time: replay positions are (frame, stops since the frame).
 */

export interface MemWrite {
  readonly addr: bigint;
  readonly data: Buffer;
}

export interface MappedFile {
  readonly path: string;
  /** The copy of the file, relative to the trace directory; '' for /dev/zero, whose
   * mappings are anonymous memory. */
  readonly copy: string;
  /** "device:inode": every mapping and change of one file names it. */
  readonly identity: string;
  /** Whether the trace has the file's changes (FileChange): it is mapped shared, or through
   * an fd open for writing. */
  readonly watched: boolean;
}

/** What a call wrote into process `tid`'s memory. */
export interface RemoteWrites {
  readonly tid: number;
  readonly writes: MemWrite[];
}

/** What a file some tracee maps shared holds after a call changed it. */
export interface FileChange {
  readonly identity: string;
  readonly size: bigint;
  readonly offset: bigint;
  readonly data: Buffer;
}

export interface CpuidResult {
  readonly leaf: number;
  readonly subleaf: number;
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

export interface PageContent {
  readonly hash: bigint;
  readonly data: Buffer;
}

/** A task's state in the middle of user code (see core/snapshot.ts). */
export interface Snapshot {
  readonly regs: Buffer;
  readonly xstate: Buffer;
  /** (address, hash) pairs, two little-endian u64 each, of every present writable page. */
  readonly pages: Buffer;
  readonly contents: PageContent[];
}

export type EventData =
  | { kind: 'exec'; path: string; copy: string; argv: string[]; envp: string[]; regs: Buffer; stack: Buffer; becomes?: number }
  | {
      kind: 'syscall';
      number: number;
      args: bigint[];
      ip: bigint;
      sp: bigint;
      regsCrc: number;
      result: bigint;
      writes: MemWrite[];
      mappedFile?: MappedFile;
      fileChange?: FileChange;
      /** tsrr did not let the call run and gave it its result: replay emulates it. */
      skipped?: boolean;
      /** Memory of another process the call wrote (process_vm_writev, /proc/PID/mem). */
      remoteWrites?: RemoteWrites;
    }
  | { kind: 'signal'; signo: number; code: number; regs: Buffer; siginfo: Buffer; snapshot?: Snapshot; toTracer?: boolean }
  | { kind: 'syscallEntry'; number: number }
  | { kind: 'fork'; child: number; flags: bigint; parentTid: bigint; childTid: bigint; parentTidValue?: number; childTidValue?: number }
  | { kind: 'preempt'; snapshot: Snapshot }
  | { kind: 'buffered'; records: Buffer }
  | { kind: 'rdtsc'; value: bigint; ip: bigint; aux: number }
  | ({ kind: 'cpuid' } & CpuidResult)
  | { kind: 'exit'; status: number }
  | { kind: 'interrupted' };

export type EventKind = EventData['kind'];

export class Event {
  constructor(
    readonly frame: number,
    readonly tid: number,
    readonly data: EventData,
  ) {}

  get kind(): EventKind {
    return this.data.kind;
  }

  /** Whether replay can stop and save its state right after this event: the tracee is then
   * stopped at a syscall boundary with nothing half-done. */
  canCheckpointAt(): boolean {
    return this.data.kind === 'syscall' || this.data.kind === 'rdtsc' || this.data.kind === 'cpuid';
  }

  /** Bytes of tracee memory this event carries. */
  get dataBytes(): number {
    const d = this.data;
    if (d.kind === 'syscall') return d.writes.reduce((n, w) => n + w.data.length, 0);
    if (d.kind === 'exec') return d.stack.length;
    if (d.kind === 'buffered') return d.records.length;
    const snapshot = d.kind === 'preempt' ? d.snapshot : d.kind === 'signal' ? d.snapshot : undefined;
    return snapshot ? snapshot.pages.length + snapshot.xstate.length + snapshot.contents.length * 4104 : 0;
  }
}
