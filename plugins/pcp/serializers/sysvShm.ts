// SPDX-License-Identifier: MIT
/**
 * System V shared memory in checkpoints. core/sysv-segments (a session extension): every
 * segment the program made, by the trace's id, with its size and, where a segment stands for
 * it, its bytes (read through an attachment of tsrr's own, or a tracee's once the program
 * removed it). core/sysv-shm (a mapping kind): an attachment, made again on restore by
 * attaching replay's segment for that id where it was. Segments are made on restore by the
 * first attachment of each, or by the extension for those nobody has attached; the extension,
 * restored last, then puts their bytes in.
 */
import { fillShm, makeShm, readShm } from '../../../native/libc.js';
import { TsrrError, attachedSegment, isSysvAttachment, type Mapping, type Session } from '../../../core/index.js';
import { SysvSegmentsPayload } from '../../../schema/pcp.js';
import { decodePayload, encodePayload, readChunkRefs, writeChunkRefs } from '../checkpointFormat.js';
import { decodeMapping, encodeMapping, protOf } from './mappings.js';
import { loadBytes } from '../memory.js';
import type { PcpRegistry, SaveContext } from '../PcpRegistry.js';

const SHM_RDONLY = 0o10000n;
const SHM_EXEC = 0o100000n;

/** Why attachment `m` cannot be checkpointed, if it cannot: a segment the recording did not
 * see made, or a part of one (its restore attaches whole segments). */
export function sysvProblem(session: Session, m: Mapping, tgid: number): string | undefined {
  const id = attachedSegment(m);
  const recorded = session.sysvSegments.recordedOf(id);
  const segment = recorded === undefined ? undefined : session.sysvSegments.segment(recorded);
  if (!segment) return `process ${tgid} has a System V segment attached (at 0x${m.start.toString(16)}) that the recording did not see made`;
  const pages = (segment.size + 4095n) & ~4095n;
  if (m.offset !== 0n || m.end - m.start !== pages) return `process ${tgid} has a part of a System V segment attached (at 0x${m.start.toString(16)})`;
  return undefined;
}

/** The bytes of `segment` now, if anything can still read them. */
function bytesOf(session: Session, segment: { size: bigint; id?: bigint }): Buffer | undefined {
  if (segment.id === undefined) return undefined;
  const own = readShm(Number(segment.id), Number(segment.size));
  if (own) return own;
  // Removed (IPC_RMID) but still attached somewhere: read through that attachment.
  for (const task of session.tasks.values()) {
    const m = task.as.mappings().find((x) => isSysvAttachment(x) && attachedSegment(x) === segment.id);
    if (m) return task.readMem(m.start, Number(segment.size));
  }
  return undefined;
}

function saveSegments(session: Session, ctx: SaveContext): Uint8Array {
  const saved = session.sysvSegments.list().map((s) => {
    const bytes = bytesOf(session, s);
    return { recorded: s.recorded, size: s.size, made: bytes !== undefined, chunks: bytes ? ctx.storeBytes(bytes) : [] };
  });
  return encodePayload(SysvSegmentsPayload, (p) => {
    const list = p._initSegments(saved.length);
    saved.forEach((s, i) => {
      const out = list.get(i);
      out.recorded = s.recorded;
      out.size = s.size;
      out.made = s.made;
      writeChunkRefs(out._initChunks(s.chunks.length), s.chunks);
    });
  });
}

export function registerSysvSerializers(reg: PcpRegistry): void {
  reg.extensions.register('core/sysv-segments', {
    version: 1,
    plugin: 'pcp',
    save: saveSegments,
    load(payload, _version, { session, chunks }) {
      for (const s of decodePayload(SysvSegmentsPayload, payload).segments) {
        const refs = readChunkRefs(s.chunks);
        const id = s.made ? (session.sysvSegments.segment(s.recorded)?.id ?? BigInt(makeShm(Number(s.size)))) : undefined;
        session.sysvSegments.created(s.recorded, s.size, id);
        if (id !== undefined && !fillShm(Number(id), Number(s.size), (bytes) => loadBytes(chunks, refs, bytes))) {
          throw new TsrrError('TRACEE_FAILED', `cannot attach System V segment ${id} to put the checkpoint's bytes in`, { id: Number(id) });
        }
      }
    },
  });
  reg.mappings.register('core/sysv-shm', {
    version: 1,
    plugin: 'pcp',
    save(m, ctx) {
      // sysvProblem() let only segments the session knows through.
      const segment = ctx.session.sysvSegments.segment(ctx.session.sysvSegments.recordedOf(attachedSegment(m))!)!;
      return encodeMapping({ start: m.start, end: m.end, prot: protOf(m), shared: true, file: String(segment.recorded), offset: 0n, chunks: [], patched: [], fileSize: segment.size, fileChunks: [] });
    },
    load(payload, _version, { session, task }) {
      const p = decodeMapping(payload);
      // Processes come before the extension: the size its segment is made with, if first.
      if (!session.sysvSegments.segment(BigInt(p.file))) session.sysvSegments.created(BigInt(p.file), p.fileSize);
      const flags = ((p.prot & 2) === 0 ? SHM_RDONLY : 0n) | ((p.prot & 4) !== 0 ? SHM_EXEC : 0n);
      const got = session.attachSysv(task, BigInt(p.file), p.start, flags);
      if (got !== p.start) throw new TsrrError('TRACEE_FAILED', `attaching System V segment ${p.file} at 0x${p.start.toString(16)} in task ${task.tid} failed (${got})`, { tid: task.tid });
    },
  });
}
