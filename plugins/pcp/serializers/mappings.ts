// SPDX-License-Identifier: MIT
/**
 * Built-in mapping kinds. Every kind saves the same payload (range, protection, contents as
 * chunks); they differ in how the mapping is made again: the heap with brk, the stack as a
 * grows-down mapping, a file mapping from the trace's copy of the file (only pages the process
 * wrote are stored), the vDSO checked in place (tsrr patched it already), vvar and vsyscall
 * left to the kernel. Version 2 adds the instructions tsrr patched to trap in the mapping
 * (core/trapPatching.ts): code saved as memory cannot tell them again. core/shared-file: a
 * mapping of a file whose changes replay follows in a shared copy (core/SharedFiles.ts); the
 * file is saved whole and made that copy again, which the mapping then maps. Version 3 of
 * core/shared-anonymous names the memory object (and its size), so that every mapping of one
 * object, in any process, maps it again: the first made creates it, the others open it through
 * /proc/PID/map_files of that one.
 */
import { NR, TsrrError, mapFilesPath, patchable, type Mapping, type PatchedInstruction, type Task } from '../../../core/index.js';
import { strerror } from '../../../native/libc.js';
import { MappingPayload } from '../../../schema/pcp.js';
import { decodePayload, encodePayload, readChunkRefs, writeChunkRefs } from '../checkpointFormat.js';
import type { ChunkRef } from '../ChunkStore.js';
import { loadFile, type Extent } from '../memory.js';
import type { LoadContext, PcpRegistry, SaveContext, Serializer } from '../PcpRegistry.js';

const PROT = { r: 1, w: 2, x: 4 } as const;
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_GROWSDOWN = 0x100;
const AT_FDCWD = -100n;
const O_RDWR = 2;
const EPERM = 1n;

export const protOf = (m: Mapping): number => (m.prot[0] === 'r' ? PROT.r : 0) | (m.prot[1] === 'w' ? PROT.w : 0) | (m.prot[2] === 'x' ? PROT.x : 0);

/** A MappingPayload as a plain object. */
export interface SavedMapping {
  start: bigint;
  end: bigint;
  prot: number;
  shared: boolean;
  file: string;
  offset: bigint;
  chunks: ChunkRef[];
  /** core/shared-file: the file's size and bytes (`file` is its identity). */
  fileSize: bigint;
  fileChunks: ChunkRef[];
  /** Instructions patched to trap, by offset from `start`. */
  patched: [bigint, PatchedInstruction][];
}
type Saved = SavedMapping;

export function encodeMapping(s: SavedMapping): Uint8Array {
  return encodePayload(MappingPayload, (p) => {
    p.start = s.start;
    p.end = s.end;
    p.prot = s.prot;
    p.shared = s.shared;
    p.file = s.file;
    p.offset = s.offset;
    p.fileSize = s.fileSize;
    writeChunkRefs(p._initChunks(s.chunks.length), s.chunks);
    writeChunkRefs(p._initFileChunks(s.fileChunks.length), s.fileChunks);
    const sites = p._initPatchedSites(s.patched.length);
    s.patched.forEach(([offset, instruction], i) => Object.assign(sites.get(i), { offset, instruction }));
  });
}

export function decodeMapping(payload: Uint8Array): SavedMapping {
  const p = decodePayload(MappingPayload, payload);
  return {
    start: p.start, end: p.end, prot: p.prot, shared: p.shared, file: p.file, offset: p.offset, chunks: readChunkRefs(p.chunks),
    patched: [...p.patchedSites].map((x) => [x.offset, patchedInstruction(x.instruction)]), fileSize: p.fileSize, fileChunks: readChunkRefs(p.fileChunks),
  };
}

function save(m: Mapping, ctx: SaveContext, file: string | undefined, extent: Extent | undefined = savedExtent(m, file), whole?: { size: bigint; refs: ChunkRef[] }): Uint8Array {
  const chunks = extent ? ctx.storeMemory(m.start, m.end, extent) : [];
  const patched = [...ctx.task.as.patchedSites].filter(([addr]) => addr >= m.start && addr < m.end).map(([addr, insn]): [bigint, PatchedInstruction] => [addr - m.start, insn]);
  return encodeMapping({ start: m.start, end: m.end, prot: protOf(m), shared: m.prot[3] === 's', file: file ?? '', offset: m.offset, chunks, patched, fileSize: whole?.size ?? 0n, fileChunks: whole?.refs ?? [] });
}

/** Without a copy of its file, all of a file mapping is saved, touched or not; a shared
 * writable one's written pages are file pages too, so all it touched is; a shared read-only
 * one holds its file's bytes only. */
function savedExtent(m: Mapping, file: string | undefined): Extent | undefined {
  const shared = m.prot[3] === 's';
  return m.kind !== 'file' ? 'touched' : file === undefined ? 'all' : !shared ? 'wrote' : m.prot[1] === 'w' ? 'touched' : undefined;
}

/** Puts the mapping's contents back, and makes its patched sites the address space's again. */
function loadContents(s: Saved, ctx: LoadContext): void {
  ctx.loadMemory(s.start, s.chunks);
  const sites = new Map(ctx.task.as.patchedSites);
  for (const [offset, insn] of s.patched) sites.set(s.start + offset, insn);
  ctx.task.as.patchedSites = sites;
}

function patchedInstruction(name: string): PatchedInstruction {
  const known = patchable(name);
  if (known) return known;
  throw new TsrrError('CHECKPOINT_CORRUPT', `a mapping of the checkpoint has a patched instruction "${name}" this tsrr does not know`, { instruction: name });
}

/** Shared anonymous objects made so far by the restore under way: where one is mapped. */
const madeObjects = new Map<string, { tid: number; start: bigint; end: bigint }>();

/** The size of the memory object `m` maps: the end of the furthest mapping of it. */
function objectSize(m: Mapping, ctx: SaveContext): bigint {
  const spaces = new Set([...ctx.session.tasks.values()].map((t) => t.as));
  let size = m.offset + m.end - m.start;
  for (const as of spaces) for (const o of as.mappings()) if (o.object === m.object && o.offset + o.end - o.start > size) size = o.offset + o.end - o.start;
  return size;
}

/** Maps shared anonymous object `s.file` again at `s`: made at its saved size (for a moment
 * at a place of the kernel's choosing) the first time, opened where it is mapped later. */
function mapSharedObject(task: Task, s: Saved): void {
  const made = madeObjects.get(s.file);
  if (!made && s.offset === 0n && s.fileSize === s.end - s.start) {
    // All of its object: made in place, without /proc/PID/map_files (closed to non-root).
    mapAnonymous(task, s);
    madeObjects.set(s.file, { tid: task.tid, start: s.start, end: s.end });
    return;
  }
  const source = made ?? (() => {
    const at = task.remoteSyscall(NR.mmap, 0, s.fileSize, PROT.r | PROT.w, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (at < 0n) throw new TsrrError('TRACEE_FAILED', `making a shared object of ${s.fileSize} bytes in task ${task.tid} failed: ${strerror(Number(-at))}`, { tid: task.tid });
    return { tid: task.tid, start: at, end: at + s.fileSize };
  })();
  const path = mapFilesPath(source.tid, source.start, source.end);
  const fd = task.withScratch(Buffer.from(`${path}\0`), (addr) => task.remoteSyscall(NR.openat, AT_FDCWD, addr, O_RDWR));
  if (fd < 0n) throw new TsrrError('TRACEE_FAILED', `cannot open ${path} to share its memory again: ${strerror(Number(-fd))}${fd === -EPERM ? ' (it needs CAP_SYS_ADMIN)' : ''}`, { file: path });
  const got = task.remoteSyscall(NR.mmap, s.start, s.end - s.start, s.prot, MAP_SHARED | MAP_FIXED, fd, s.offset);
  task.remoteSyscall(NR.close, fd);
  if (!made) task.remoteSyscall(NR.munmap, source.start, source.end - source.start);
  check(task, s, got);
  if (!made) madeObjects.set(s.file, { tid: task.tid, start: s.start, end: s.end });
}

function mapAnonymous(task: Task, s: Saved, extraFlags = 0): void {
  const flags = (s.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_FIXED | extraFlags;
  check(task, s, task.remoteSyscall(NR.mmap, s.start, s.end - s.start, s.prot, flags, -1, 0));
}

function check(task: Task, s: Saved, got: bigint): void {
  if (got !== s.start) {
    throw new TsrrError('TRACEE_FAILED', `restoring the mapping at 0x${s.start.toString(16)}-0x${s.end.toString(16)} in task ${task.tid} failed (${got})`, { tid: task.tid });
  }
}

/** A kind that saves memory and makes the mapping with `create`. */
function memoryKind(create: (task: Task, s: Saved, ctx: LoadContext) => void, stage = 0): Serializer<Mapping> {
  return {
    version: 2,
    stage,
    plugin: 'pcp',
    save: (m, ctx) => save(m, ctx, undefined),
    load(payload, _version, ctx) {
      const s = decodeMapping(payload);
      create(ctx.task, s, ctx);
      loadContents(s, ctx);
    },
  };
}

/** A kind the kernel provides in every process at the same place: nothing to save. */
const kernelKind: Serializer<Mapping> = {
  version: 1,
  plugin: 'pcp',
  save: (m) => encodePayload(MappingPayload, (p) => ((p.start = m.start), (p.end = m.end))),
  load() {},
};

export function registerMappingSerializers(reg: PcpRegistry): void {
  reg.mappings.register('core/anonymous', memoryKind((task, s) => mapAnonymous(task, s)));
  reg.mappings.register('core/shared-anonymous', {
    ...memoryKind((task, s) => (s.file ? mapSharedObject(task, s) : mapAnonymous(task, s))),
    version: 3,
    save: (m, ctx) => save(m, ctx, m.object, 'touched', { size: objectSize(m, ctx), refs: [] }),
  });
  reg.hooks.beforeRestore.tap('pcp', () => madeObjects.clear());
  // First: brk must find its range free.
  reg.mappings.register('core/heap', memoryKind((task, s) => {
    const got = task.remoteSyscall(NR.brk, s.end);
    if (got !== s.end) throw new TsrrError('TRACEE_FAILED', `restoring the heap up to 0x${s.end.toString(16)} failed (brk returned 0x${got.toString(16)})`, { tid: task.tid });
  }, -10));
  // Last: the other kinds use the stack below the red zone as scratch space.
  reg.mappings.register('core/stack', memoryKind((task, s) => {
    const fresh = task.as.find('stack');
    mapAnonymous(task, s, MAP_GROWSDOWN);
    if (fresh && fresh.start < s.start) task.remoteSyscall(NR.munmap, fresh.start, s.start - fresh.start);
  }, 10));
  reg.mappings.register('core/file', {
    version: 2,
    plugin: 'pcp',
    save: (m, ctx) => save(m, ctx, ctx.traceCopyOf(m)),
    load(payload, _version, ctx) {
      const s = decodeMapping(payload);
      const { task } = ctx;
      if (!s.file) mapAnonymous(task, s); // not a file of the trace: all of it was saved
      else {
        const path = ctx.session.trace.file(s.file);
        const fd = task.withScratch(Buffer.from(`${path}\0`), (addr) => task.remoteSyscall(NR.openat, AT_FDCWD, addr, 0));
        if (fd < 0n) throw new TsrrError('CHECKPOINT_CORRUPT', `cannot open ${path}, which the checkpoint maps: ${strerror(Number(-fd))}`, { file: s.file });
        // Shared as replay maps it: only a writable one is private, to leave the copy alone.
        const sharing = s.shared && (s.prot & PROT.w) === 0 ? MAP_SHARED : MAP_PRIVATE;
        const got = task.remoteSyscall(NR.mmap, s.start, s.end - s.start, s.prot, sharing | MAP_FIXED, fd, s.offset);
        task.remoteSyscall(NR.close, fd);
        check(task, s, got);
      }
      loadContents(s, ctx);
    },
  });
  reg.mappings.register('core/shared-file', {
    version: 1,
    plugin: 'pcp',
    save(m, ctx) {
      const file = ctx.session.sharedFileOf(m, ctx.task)!;
      // A shared mapping's memory is the file's; a private one keeps the pages it wrote.
      return save(m, ctx, file.identity, m.prot[3] === 's' ? undefined : 'wrote', ctx.storeFile(file.path));
    },
    load(payload, _version, ctx) {
      const s = decodeMapping(payload);
      const { task } = ctx;
      const path = ctx.session.sharedFiles.pathFor(s.file, (p) => loadFile(ctx.chunks, p, s.fileSize, s.fileChunks));
      const fd = task.withScratch(Buffer.from(`${path}\0`), (addr) => task.remoteSyscall(NR.openat, AT_FDCWD, addr, O_RDWR));
      if (fd < 0n) throw new TsrrError('TRACEE_FAILED', `cannot open ${path}, replay's copy of file ${s.file}: ${strerror(Number(-fd))}`, { file: path });
      const got = task.remoteSyscall(NR.mmap, s.start, s.end - s.start, s.prot, (s.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, fd, s.offset);
      task.remoteSyscall(NR.close, fd);
      check(task, s, got);
      loadContents(s, ctx);
    },
  });
  reg.mappings.register('core/vdso', {
    ...kernelKind,
    load(payload, _version, ctx) {
      const s = decodeMapping(payload);
      const here = ctx.task.as.find('vdso');
      if (!here || here.start !== s.start || here.end !== s.end) {
        throw new TsrrError('CHECKPOINT_MISMATCH', `the vDSO is at 0x${here?.start.toString(16)} here, 0x${s.start.toString(16)} in the checkpoint (another kernel?); use --ignore-pcp`, {});
      }
    },
  });
  reg.mappings.register('core/vvar', kernelKind);
  reg.mappings.register('core/vsyscall', kernelKind);
}
