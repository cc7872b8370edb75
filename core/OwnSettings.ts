// SPDX-License-Identifier: MIT
/**
 * Settings of a task that tsrr changes for itself while recording (its seccomp filter, the
 * no_new_privs bit the filter may need, rdtsc trapping) and the program must not see: the
 * program's own values, followed through its calls, and the answers it would get without
 * tsrr. A call that asks for one is not run (the recorder gives it `hiddenResult`), or its
 * output is corrected (`hiddenOutput`).
 */
import { readFileSync } from 'node:fs';
import { NR } from '../native/syscalls.js';

const PR_GET_SECCOMP = 21n;
const PR_SET_SECCOMP = 22n;
const PR_GET_TSC = 25n;
const PR_SET_TSC = 26n;
const PR_SET_NO_NEW_PRIVS = 38n;
const PR_GET_NO_NEW_PRIVS = 39n;
const SECCOMP_SET_MODE_STRICT = 0n;
const SECCOMP_SET_MODE_FILTER = 1n;
const PR_TSC_ENABLE = 1n;
const PR_TSC_SIGSEGV = 2n;

/** tsrr's own seccomp mode and no_new_privs, which a program it started would inherit. */
function inherited(): { seccomp: bigint; noNewPrivs: boolean } {
  const status = readFileSync('/proc/self/status', 'latin1');
  const field = (name: string) => BigInt(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? '0');
  return { seccomp: field('Seccomp'), noNewPrivs: field('NoNewPrivs') !== 0n };
}

export class OwnSettings {
  constructor(
    public seccomp: bigint,
    public noNewPrivs: boolean,
    /** What the program set with PR_SET_TSC (tsrr keeps trapping rdtsc whatever it says). */
    public tsc: bigint,
    /** The seccomp filters the program installed, as it wrote them, oldest first (see
     * core/seccompFilters.ts). */
    public filters: Buffer[] = [],
  ) {}

  /** The settings of a program tsrr starts. */
  static initial(): OwnSettings {
    const { seccomp, noNewPrivs } = inherited();
    return new OwnSettings(seccomp, noNewPrivs, PR_TSC_ENABLE);
  }

  /** A new task's: the kernel copies them at clone. */
  copy(): OwnSettings {
    return new OwnSettings(this.seccomp, this.noNewPrivs, this.tsc, [...this.filters]);
  }

  /** The result syscall `nr` with `args` would have without tsrr, where tsrr's settings would
   * show through; undefined for calls that run as they are. */
  hiddenResult(nr: number, args: readonly bigint[]): bigint | undefined {
    if (nr !== NR.prctl) return undefined;
    switch (args[0]) {
      case PR_GET_SECCOMP:
        return this.seccomp;
      case PR_GET_NO_NEW_PRIVS:
        return this.noNewPrivs ? 1n : 0n;
      case PR_SET_TSC:
        return args[1] === 1n || args[1] === 2n ? 0n : -22n;
    }
    return undefined;
  }

  /** Memory the call wrote that must say what it would without tsrr: [address, bytes]. */
  hiddenOutput(nr: number, args: readonly bigint[], result: bigint): [bigint, Buffer] | undefined {
    if (nr !== NR.prctl || args[0] !== PR_GET_TSC || result < 0n) return undefined;
    const value = Buffer.alloc(4);
    value.writeInt32LE(Number(this.tsc));
    return [args[1]!, value];
  }

  /** Whether the program asked for SIGSEGV at rdtsc (tsrr traps it anyway, to emulate it). */
  get rdtscFaults(): boolean {
    return this.tsc === PR_TSC_SIGSEGV;
  }

  /** After a call that ran (or was given its hidden result): follows what the program set. */
  afterCall(nr: number, args: readonly bigint[], result: bigint): void {
    if (result < 0n) return;
    if (nr === NR.prctl && args[0] === PR_SET_NO_NEW_PRIVS) this.noNewPrivs = true;
    if (nr === NR.prctl && args[0] === PR_SET_TSC) this.tsc = args[1]!;
    if (nr === NR.prctl && args[0] === PR_SET_SECCOMP) this.seccomp = args[1]!;
    if (nr === NR.seccomp && (args[0] === SECCOMP_SET_MODE_STRICT || args[0] === SECCOMP_SET_MODE_FILTER)) {
      this.seccomp = args[0] === SECCOMP_SET_MODE_STRICT ? 1n : 2n;
    }
  }
}
