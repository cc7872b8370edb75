// SPDX-License-Identifier: MIT
/** What every command gets: the root object, the stop request shared with the main thread,
 * and a way to set tsrr's exit status. */
import type { Control } from './control.js';
import type { Tsrr } from './Tsrr.js';

export interface CliContext {
  readonly tsrr: Tsrr;
  readonly control: Control;
  /** The fds beyond 0-2 tsrr was started with, which a recorded program inherits. */
  readonly inheritedFds: readonly number[];
  /** Sets the exit status of tsrr. */
  exit(code: number): void;
}
