// SPDX-License-Identifier: MIT
/**
 * Shared state between the main thread (which gets signals) and the tracer worker (which is
 * blocked in waitpid while tracees run): which signal asked tsrr to stop, and the tracee to
 * kick so that the worker wakes up and sees it.
 */
const STOP = 0;
const TRACEE = 1;

export class Control {
  private readonly cells: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.cells = new Int32Array(buffer);
  }

  /** Main thread: the user asked to stop with `signal`. Returns the tracee to kick, if any. */
  requestStop(signal: number): number {
    Atomics.store(this.cells, STOP, signal);
    return Atomics.load(this.cells, TRACEE);
  }

  /** Worker: polled at every stop. */
  readonly interrupted = (): boolean => Atomics.load(this.cells, STOP) !== 0;

  /** Worker: the tracee currently running, 0 for none. */
  setTracee(tid: number): void {
    Atomics.store(this.cells, TRACEE, tid);
  }
}
