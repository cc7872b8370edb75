// SPDX-License-Identifier: MIT
// A tsrr plugin that counts the syscalls a program made, by name, as tsrr records or replays
// it, and prints the counts when the program's first process exits. The counts come from the
// trace's syscall events (calls the syscall buffer served are in `buffered` events, not here),
// so a replay prints what its recording printed.
//
//   tsrr --plugin ./syscall-counter.ts record ./prog
//   tsrr --plugin ./syscall-counter.ts replay -a
import { NR, type Event, type Session, type Tsrr } from 'tsrr';

const NAMES = new Map<number, string>(Object.entries(NR).map(([name, nr]) => [nr, name]));

export default class SyscallCounter {
  readonly name = 'syscall-counter';
  readonly version = '1.0.0';

  apply(tsrr: Tsrr): void {
    tsrr.hooks.sessionCreated.tap(this.name, (session: Session) => {
      const counts = new Map<string, number>();
      let program: number | undefined; // the first process's id in the trace
      const count = (event: Event): void => {
        program ??= event.tid;
        if (event.data.kind === 'syscall') {
          const name = NAMES.get(event.data.number) ?? `syscall ${event.data.number}`;
          counts.set(name, (counts.get(name) ?? 0) + 1);
        }
        if (event.kind === 'exit' && event.tid === program) {
          const total = [...counts.values()].reduce((a, b) => a + b, 0);
          const byName = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([n, c]) => `${n} ${c}`);
          console.error(`${this.name}: ${total} syscalls: ${byName.join(', ')}`);
        }
      };
      session.hooks.eventRecorded.tap(this.name, count);
      session.hooks.eventReplayed.tap(this.name, count);
    });
  }
}
