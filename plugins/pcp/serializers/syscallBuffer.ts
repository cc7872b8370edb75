// SPDX-License-Identifier: MIT
/** core/syscall-buffer: where each thread of a process keeps its syscall buffer (core/syscallBuffer.ts).
 * The buffer's contents, pending results included, are memory, saved with the mappings. */
import { markReplay } from '../../../core/index.js';
import { SyscallBufferPayload } from '../../../schema/pcp.js';
import { decodePayload, encodePayload } from '../checkpointFormat.js';
import type { PcpRegistry } from '../PcpRegistry.js';

export function registerSyscallBufferSerializer(reg: PcpRegistry): void {
  reg.syscallBuffers.register('core/syscall-buffer', {
    version: 1,
    plugin: 'pcp',
    save(main, { session }) {
      const buffers = session.syscallBuffers;
      const mine = [...session.tasks.values()].filter((t) => t.tgid === main.tgid && buffers.has(t.rec));
      return encodePayload(SyscallBufferPayload, (p) => {
        const list = p._initBuffers(mine.length);
        mine.forEach((t, i) => Object.assign(list.get(i), { tid: t.rec, address: buffers.get(t.rec)! }));
      });
    },
    load(payload, _version, { session, task }) {
      const p = decodePayload(SyscallBufferPayload, payload);
      for (let i = 0; i < p.buffers.length; i++) session.syscallBuffers.set(p.buffers.get(i).tid, p.buffers.get(i).address);
      // Saved while recording, the library's page says so.
      if (p.buffers.length > 0) markReplay(task);
    },
  });
}
