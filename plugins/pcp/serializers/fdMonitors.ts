// SPDX-License-Identifier: MIT
/**
 * core/proc-mem, core/proc-status and core/mmapped-file: the fds a recording watches because
 * writes through them change memory (another process's, or a file that a tracee maps shared)
 * or reads through them would show tsrr; only a recording's checkpoints (record
 * --checkpoint-interval) hold them: replay takes what they did from the trace. core/pidfd: the
 * process a pidfd refers to, in any checkpoint.
 */
import { MmappedFileMonitor, PidfdMonitor, ProcMemMonitor, ProcStatusMonitor } from '../../../core/index.js';
import { MmappedFilePayload, ProcFilePayload } from '../../../schema/pcp.js';
import { decodePayload, encodePayload } from '../checkpointFormat.js';
import type { PcpRegistry } from '../PcpRegistry.js';

export function registerFdMonitorSerializers(reg: PcpRegistry): void {
  for (const Monitor of [ProcMemMonitor, ProcStatusMonitor, PidfdMonitor]) {
    reg.fileMonitors.register(Monitor.KIND, {
      version: 1,
      plugin: 'pcp',
      save: ({ fd, monitor }) => encodePayload(ProcFilePayload, (p) => ((p.fd = fd), (p.target = (monitor as InstanceType<typeof Monitor>).target))),
      load(payload, _version, { task }) {
        const p = decodePayload(ProcFilePayload, payload);
        task.fds.set(p.fd, new Monitor(p.target));
      },
    });
  }
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
