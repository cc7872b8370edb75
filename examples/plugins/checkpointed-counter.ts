// SPDX-License-Identifier: MIT
// A tsrr plugin whose state lives through persistent checkpoints: it counts the syscall events
// a session has gone through and saves the count in every pcp checkpoint, with a serializer of
// its own, so that a replay starting from a checkpoint counts on from there as if it had
// replayed from the start. `replay -a -g EVENT` prints the count at EVENT, the same with
// checkpoints as with --ignore-pcp.
//
//   tsrr --plugin pcp --plugin ./checkpointed-counter.ts create-checkpoints -i 100
//   tsrr --plugin pcp --plugin ./checkpointed-counter.ts replay -a -g 150
import type { Event, ReplaySession, Session, Tsrr } from 'tsrr';
import { pcpRegistry } from 'tsrr/plugins/pcp';

export default class CheckpointedCounter {
  readonly name = 'checkpointed-counter';
  readonly version = '1.0.0';
  /** Each session's count: create-checkpoints, record and replay make sessions of their own. */
  private readonly counts = new WeakMap<Session, number>();

  apply(tsrr: Tsrr): void {
    const pcp = pcpRegistry(tsrr);
    // Saved once per checkpoint (the extensions section), as 8 bytes: the payload's format is
    // the plugin's own, `version` says which one a checkpoint holds.
    pcp.extensions.register('example/syscall-count', {
      version: 1,
      plugin: this.name,
      save: (session) => {
        const payload = Buffer.alloc(8);
        payload.writeBigUInt64LE(BigInt(this.counts.get(session) ?? 0));
        return payload;
      },
      load: (payload, _version, { session }) => this.counts.set(session, Number(Buffer.from(payload).readBigUInt64LE())),
    });
    tsrr.hooks.sessionCreated.tap(this.name, (session) => {
      this.counts.set(session, 0);
      const count = (event: Event): void => {
        if (event.kind === 'syscall') this.counts.set(session, this.counts.get(session)! + 1);
        this.report(session, event.frame);
      };
      session.hooks.eventRecorded.tap(this.name, count);
      session.hooks.eventReplayed.tap(this.name, count);
    });
    // A replay whose -g EVENT is a checkpoint's event starts there and replays no event.
    pcp.hooks.restored.tap(this.name, (checkpoint, session) => this.report(session, checkpoint.frame));
  }

  private report(session: Session, frame: number): void {
    if (session.mode === 'replay' && frame === (session as ReplaySession).opts.goto) {
      console.error(`${this.name}: ${this.counts.get(session)} syscall events up to event ${frame}`);
    }
  }
}
