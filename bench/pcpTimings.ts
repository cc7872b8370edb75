// SPDX-License-Identifier: MIT
/** A plugin for bench/pcp: appends when each checkpoint write and restore starts and ends, and
 * what it stored, to the file named by $PCP_TIMINGS (one JSON object per line). */
import { appendFileSync } from 'node:fs';
import type { Tsrr } from '../core/index.js';
import { pcpRegistry } from '../plugins/pcp/index.js';

export default class PcpTimings {
  readonly name = 'pcp-timings';

  apply(tsrr: Tsrr): void {
    const log = (what: string, frame: number) => appendFileSync(process.env.PCP_TIMINGS!, JSON.stringify({ what, frame, ns: process.hrtime.bigint().toString() }) + '\n');
    const hooks = pcpRegistry(tsrr).hooks;
    hooks.beforeCheckpointWrite.tap(this.name, (_s, frame) => log('write-start', frame));
    hooks.checkpointWritten.tap(this.name, (cp) => log('write-end', cp.frame));
    hooks.beforeRestore.tap(this.name, (cp) => log('restore-start', cp.frame));
    hooks.restored.tap(this.name, (cp) => log('restore-end', cp.frame));
  }
}
