// SPDX-License-Identifier: MIT
/** core/trace-position: the frame replay had completed; restoring moves the trace reader there. */
import { TracePositionPayload } from '../../../schema/pcp.js';
import { decodePayload, encodePayload } from '../checkpointFormat.js';
import type { PcpRegistry } from '../PcpRegistry.js';

export function registerTracePositionSerializer(reg: PcpRegistry): void {
  reg.trace.register('core/trace-position', {
    version: 1,
    plugin: 'pcp',
    save: ({ frame }) => encodePayload(TracePositionPayload, (p) => (p.frame = BigInt(frame))),
    load(payload, _version, { session }) {
      session.startFrom(Number(decodePayload(TracePositionPayload, payload).frame));
    },
  });
}
