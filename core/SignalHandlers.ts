// SPDX-License-Identifier: MIT
/**
 * A process's signal actions as its program set them (the kernel's sighand): shared by its
 * threads, copied by fork, back to SIG_DFL at exec but for ignored signals. tsrr follows them
 * to know what the start of a handler blocks, and to put back what a forced SIGSEGV resets
 * (core/signalState.ts).
 */

/** struct k_sigaction: handler, flags, restorer, mask. */
export const ACTION_BYTES = 32;
export const SIG_IGN = 1n;
const SA_NODEFER = 0x40000000n;
const SA_RESETHAND = 0x80000000n;

export const signalBit = (signo: number): bigint => 1n << BigInt(signo - 1);

export class SignalHandlers {
  /** By signal number; absent: SIG_DFL. */
  private readonly actions = new Map<number, Buffer>();

  /** A process's whose signals in `ignored` (a mask) are ignored, the others SIG_DFL. */
  static ignoring(ignored: bigint): SignalHandlers {
    const h = new SignalHandlers();
    for (let signo = 1; signo <= 64; signo++) if ((ignored & signalBit(signo)) !== 0n) h.set(signo, SignalHandlers.of(SIG_IGN));
    return h;
  }

  /** A k_sigaction with `handler` and no flags or mask. */
  static of(handler: bigint): Buffer {
    const act = Buffer.alloc(ACTION_BYTES);
    act.writeBigUInt64LE(handler, 0);
    return act;
  }

  copy(): SignalHandlers {
    const h = new SignalHandlers();
    for (const [signo, act] of this.actions) h.set(signo, act);
    return h;
  }

  /** After an exec: handlers are SIG_DFL again. */
  execed(): SignalHandlers {
    let ignored = 0n;
    for (const [signo, act] of this.actions) if (act.readBigUInt64LE(0) === SIG_IGN) ignored |= signalBit(signo);
    return SignalHandlers.ignoring(ignored);
  }

  action(signo: number): Buffer {
    return this.actions.get(signo) ?? SignalHandlers.of(0n);
  }

  set(signo: number, act: Buffer): void {
    if (act.readBigUInt64LE(0) === 0n) this.actions.delete(signo);
    else this.actions.set(signo, Buffer.from(act));
  }

  /** `signo` is delivered: the signals its handler's start blocks (none without a handler);
   * SA_RESETHAND makes it SIG_DFL. */
  delivered(signo: number): bigint {
    const act = this.actions.get(signo);
    const handler = act?.readBigUInt64LE(0) ?? 0n;
    if (!act || handler === SIG_IGN) return 0n;
    const flags = act.readBigUInt64LE(8);
    if ((flags & SA_RESETHAND) !== 0n) this.actions.delete(signo);
    return act.readBigUInt64LE(24) | ((flags & SA_NODEFER) === 0n ? signalBit(signo) : 0n);
  }
}
