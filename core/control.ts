// SPDX-License-Identifier: MIT
/**
 * Shared state between the main thread (which gets signals) and the tracer worker (which
 * polls it whenever a wait for its tracees times out, at least every few tens of ms): which
 * signal asked tsrr to stop, and a clock that ticks every TICK_MS without the worker asking
 * the kernel for the time.
 */
const STOP = 0;
const TICKS = 1;
export const TICK_MS = 100;

export class Control {
  private readonly cells: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.cells = new Int32Array(buffer);
  }

  /** Main thread: the user asked to stop with `signal`. */
  requestStop(signal: number): void {
    Atomics.store(this.cells, STOP, signal);
  }

  /** Main thread: advances the clock; called every TICK_MS. */
  tick(): void {
    Atomics.add(this.cells, TICKS, 1);
  }

  /** Worker: the clock, in ticks of TICK_MS. */
  readonly ticks = (): number => Atomics.load(this.cells, TICKS);

  /** Worker: whether a stop was asked for. */
  readonly interrupted = (): boolean => Atomics.load(this.cells, STOP) !== 0;

  /** Worker: the signal that asked to stop, 0 for none. */
  readonly stopSignal = (): number => Atomics.load(this.cells, STOP);

  /** Worker: the request was not meant for tsrr (a terminal's Ctrl-C the tracees handle). */
  readonly cancelStop = (): void => {
    Atomics.store(this.cells, STOP, 0);
  };
}
