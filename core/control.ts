// SPDX-License-Identifier: MIT
/**
 * Shared state between the main thread (which gets signals) and the tracer worker (which
 * polls it whenever a wait for its tracees times out, at least every few tens of ms): which
 * signal asked tsrr to stop, whether SIGINT is for a debugger in the terminal rather than for
 * tsrr, and a clock that ticks every TICK_MS without the worker asking the kernel for the time.
 */
import { SIG } from '../native/ptrace.js';

const STOP = 0;
const TICKS = 1;
const SIGINT_TO_DEBUGGER = 2;
export const TICK_MS = 100;

export class Control {
  private readonly cells: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(12)) {
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

  /** Whether a stop was asked for (a Ctrl-C for a debugger in the terminal is not one). */
  readonly interrupted = (): boolean => {
    const signal = Atomics.load(this.cells, STOP);
    return signal !== 0 && !(signal === SIG.INT && Atomics.load(this.cells, SIGINT_TO_DEBUGGER) === 1);
  };

  /** Worker: from now on Ctrl-C is the debugger's, which interrupts the replay through its
   * protocol (other stop requests still end tsrr). */
  readonly leaveSigintToDebugger = (): void => {
    Atomics.store(this.cells, SIGINT_TO_DEBUGGER, 1);
  };

  /** Worker: the signal that asked to stop, 0 for none. */
  readonly stopSignal = (): number => Atomics.load(this.cells, STOP);

  /** Worker: the request was not meant for tsrr (a terminal's Ctrl-C the tracees handle). */
  readonly cancelStop = (): void => {
    Atomics.store(this.cells, STOP, 0);
  };
}
