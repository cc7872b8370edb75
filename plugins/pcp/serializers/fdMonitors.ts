// SPDX-License-Identifier: MIT
/**
 * core/proc-mem and core/mmapped-file: the fds a recording watches because writes through them
 * change memory (another process's, or a file that a tracee maps shared). Only a recording's
 * checkpoints (record --checkpoint-interval) hold them: replay takes those writes from the
 * trace.
 */
import { MmappedFileMonitor, ProcMemMonitor } from '../../../core/index.js';
import { MmappedFilePayload, ProcMemPayload } from '../../../schema/pcp.js';
import { decodePayload, encodePayload } from '../checkpointFormat.js';
import type { PcpRegistry } from '../PcpRegistry.js';

export function registerFdMonitorSerializers(reg: PcpRegistry): void {
  reg.fileMonitors.register(ProcMemMonitor.KIND, {
    version: 1,
    plugin: 'pcp',
    save: ({ fd, monitor }) => encodePayload(ProcMemPayload, (p) => ((p.fd = fd), (p.target = (monitor as ProcMemMonitor).target))),
    load(payload, _version, { task }) {
      const p = decodePayload(ProcMemPayload, payload);
      task.fds.set(p.fd, new ProcMemMonitor(p.target));
    },
  });
  reg.fileMonitors.register(MmappedFileMonitor.KIND, {
    version: 1,
    plugin: 'pcp',
    save: ({ fd, monitor }) => encodePayload(MmappedFilePayload, (p) => ((p.fd = fd), (p.identity = (monitor as MmappedFileMonitor).identity))),
    load(payload, _version, { task }) {
      const p = decodePayload(MmappedFilePayload, payload);
      task.fds.set(p.fd, new MmappedFileMonitor(p.identity));
    },
  });
}
