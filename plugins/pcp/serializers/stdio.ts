// SPDX-License-Identifier: MIT
/** core/stdio: which fds of the tracee have their output reproduced, and to where. */
import { StdioMonitor } from '../../../core/index.js';
import { StdioPayload } from '../../../schema/pcp.js';
import { decodePayload, encodePayload } from '../checkpointFormat.js';
import type { PcpRegistry } from '../PcpRegistry.js';

export function registerStdioSerializer(reg: PcpRegistry): void {
  reg.fileMonitors.register(StdioMonitor.KIND, {
    version: 1,
    plugin: 'pcp',
    save: ({ fd, monitor }) => encodePayload(StdioPayload, (p) => ((p.fd = fd), (p.target = (monitor as StdioMonitor).target))),
    load(payload, _version, { session, task }) {
      const p = decodePayload(StdioPayload, payload);
      task.fds.set(p.fd, session.fileMonitors.get(StdioMonitor.KIND)(task, p.target));
    },
  });
}
