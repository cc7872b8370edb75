// SPDX-License-Identifier: MIT
/**
 * The pcp plugin's payloads and checkpoint files, without a tracee: every built-in payload
 * struct encodes and decodes to the same values (a table of cases per payload, edge values
 * included), through the serializers' own save (and, where no tracee is needed, load) paths
 * too; manifests and states survive a trip through a file; the registry refuses duplicate and
 * unknown kinds; and loadCheckpoint refuses, before any tracee exists, a checkpoint that needs
 * a kind nobody registered, a newer serializer version, or that belongs to another trace.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as capnp from 'capnp-es';
import { Tsrr } from '../../core/Tsrr.js';
import { TsrrError } from '../../native/TsrrError.js';
import { StdioMonitor } from '../../core/StdioMonitor.js';
import type { Mapping, MappingKind } from '../../core/AddressSpace.js';
import PcpPlugin from '../../plugins/pcp/index.js';
import { CheckpointStore } from '../../plugins/pcp/CheckpointStore.js';
import type { ChunkRef } from '../../plugins/pcp/ChunkStore.js';
import type { Extent } from '../../plugins/pcp/memory.js';
import {
  PCP_FORMAT_VERSION,
  decodePayload,
  encodeManifest,
  encodePayload,
  encodeState,
  readManifest,
  readState,
  type Envelope,
  type Manifest,
  type ProcessState,
  type State,
} from '../../plugins/pcp/checkpointFormat.js';
import { PROCESS_SECTIONS, SECTIONS, SESSION_SECTIONS, pcpRegistry, serializerFor, type LoadContext, type PcpRegistry, type SaveContext, type Serializer } from '../../plugins/pcp/PcpRegistry.js';
import { loadCheckpoint } from '../../plugins/pcp/restore.js';
import { decodeMapping, encodeMapping, registerMappingSerializers } from '../../plugins/pcp/serializers/mappings.js';
import { registerStdioSerializer } from '../../plugins/pcp/serializers/stdio.js';
import { registerTaskSerializer } from '../../plugins/pcp/serializers/task.js';
import { registerTracePositionSerializer } from '../../plugins/pcp/serializers/tracePosition.js';
import { MappingPayload, StdioPayload, TaskPayload, TracePositionPayload } from '../../schema/pcp.js';
import { tempDir } from '../e2e/helpers.js';

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const U32_MAX = 0xffff_ffff;
const I32_MIN = -0x8000_0000;
const I32_MAX = 0x7fff_ffff;

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest();

// ---------------------------------------------------------------------------------------------
// A RuleTester-like table: for each payload struct, a pair of functions between a plain value
// and the capnp struct, and cases (name, value); each case becomes a test of encode → decode.

interface PayloadCodec<T extends capnp.Struct, V> {
  type: capnp.StructCtor<T>;
  write(root: T, value: V): void;
  read(root: T): V;
}

function roundTripCases<T extends capnp.Struct, V>(name: string, codec: PayloadCodec<T, V>, cases: { name: string; value: V }[]): void {
  describe(`${name} round trips`, () => {
    for (const c of cases) {
      test(c.name, () => {
        const payload = encodePayload(codec.type, (root) => codec.write(root, c.value));
        assert.ok(payload instanceof Uint8Array);
        assert.deepEqual(codec.read(decodePayload(codec.type, payload)), c.value);
        // A payload copied out of a bigger buffer (as readState gives them) decodes the same.
        const copy = Buffer.from(payload);
        assert.deepEqual(codec.read(decodePayload(codec.type, copy)), c.value);
      });
    }
  });
}

const bytesOf = (d: capnp.Data, has: boolean): Buffer => (has ? Buffer.from(d.toUint8Array()) : Buffer.alloc(0));

// MappingPayload ------------------------------------------------------------------------------

interface MappingValue {
  start: bigint;
  end: bigint;
  prot: number;
  shared: boolean;
  file: string;
  offset: bigint;
  chunks: { offset: bigint; length: number; hash: Buffer }[];
}

const mappingCodec: PayloadCodec<MappingPayload, MappingValue> = {
  type: MappingPayload,
  write(p, v) {
    p.start = v.start;
    p.end = v.end;
    p.prot = v.prot;
    p.shared = v.shared;
    p.file = v.file;
    p.offset = v.offset;
    const list = p._initChunks(v.chunks.length);
    v.chunks.forEach((c, i) => {
      const r = list.get(i);
      r.offset = c.offset;
      r.length = c.length;
      r._initHash(c.hash.length).copyBuffer(c.hash);
    });
  },
  read(p) {
    const chunks: MappingValue['chunks'] = [];
    for (let i = 0; i < p.chunks.length; i++) {
      const c = p.chunks.get(i);
      chunks.push({ offset: c.offset, length: c.length, hash: bytesOf(c.hash, c._hasHash()) });
    }
    return { start: p.start, end: p.end, prot: p.prot, shared: p.shared, file: p.file, offset: p.offset, chunks };
  },
};

const manyChunks = Array.from({ length: 5000 }, (_, i) => ({ offset: BigInt(i) * 65536n, length: 65536 - (i % 4096), hash: sha(`chunk ${i}`) }));

roundTripCases('MappingPayload', mappingCodec, [
  { name: 'all zero', value: { start: 0n, end: 0n, prot: 0, shared: false, file: '', offset: 0n, chunks: [] } },
  { name: 'an anonymous mapping with one chunk', value: { start: 0x7f0000000000n, end: 0x7f0000010000n, prot: 3, shared: false, file: '', offset: 0n, chunks: [{ offset: 0n, length: 4096, hash: sha('a') }] } },
  { name: 'a file mapping of a trace copy', value: { start: 0x7ffff7dd0000n, end: 0x7ffff7df5000n, prot: 5, shared: false, file: 'files/2-libc.so.6', offset: 0x28000n, chunks: [] } },
  { name: 'shared, rwx', value: { start: 0x1000n, end: 0x2000n, prot: 7, shared: true, file: 'files/9-data', offset: 0n, chunks: [] } },
  { name: 'max u64 addresses and offsets, max u32 prot and length', value: { start: U64_MAX - 0xfffn, end: U64_MAX, prot: U32_MAX, shared: true, file: '', offset: U64_MAX, chunks: [{ offset: U64_MAX, length: U32_MAX, hash: sha('max') }] } },
  { name: 'a non-ASCII file name', value: { start: 0x1000n, end: 0x3000n, prot: 1, shared: false, file: 'files/3-bibliothèque-✓.so', offset: 0x1000n, chunks: [] } },
  { name: 'an empty hash', value: { start: 0x1000n, end: 0x2000n, prot: 1, shared: false, file: '', offset: 0n, chunks: [{ offset: 0n, length: 0, hash: Buffer.alloc(0) }] } },
  { name: `many chunks (${manyChunks.length})`, value: { start: 0x100000000n, end: 0x100000000n + BigInt(manyChunks.length) * 65536n, prot: 3, shared: false, file: '', offset: 0n, chunks: manyChunks } },
]);

// TaskPayload ---------------------------------------------------------------------------------

interface SigActionValue {
  signo: number;
  handler: bigint;
  flags: bigint;
  restorer: bigint;
  mask: bigint;
}

interface TaskValue {
  regs: Buffer;
  xstate: Buffer;
  name: string;
  sigmask: bigint;
  sigactions: SigActionValue[];
  altstackSp: bigint;
  altstackFlags: number;
  altstackSize: bigint;
  brk: bigint;
  clearChildTid: bigint;
  robustList: bigint;
  robustListLen: bigint;
}

const taskCodec: PayloadCodec<TaskPayload, TaskValue> = {
  type: TaskPayload,
  write(p, v) {
    if (v.regs.length > 0) p._initRegs(v.regs.length).copyBuffer(v.regs);
    if (v.xstate.length > 0) p._initXstate(v.xstate.length).copyBuffer(v.xstate);
    p.name = v.name;
    p.sigmask = v.sigmask;
    const list = p._initSigactions(v.sigactions.length);
    v.sigactions.forEach((a, i) => Object.assign(list.get(i), a));
    p.altstackSp = v.altstackSp;
    p.altstackFlags = v.altstackFlags;
    p.altstackSize = v.altstackSize;
    p.brk = v.brk;
    p.clearChildTid = v.clearChildTid;
    p.robustList = v.robustList;
    p.robustListLen = v.robustListLen;
  },
  read(p) {
    const sigactions: SigActionValue[] = [];
    for (let i = 0; i < p.sigactions.length; i++) {
      const a = p.sigactions.get(i);
      sigactions.push({ signo: a.signo, handler: a.handler, flags: a.flags, restorer: a.restorer, mask: a.mask });
    }
    return {
      regs: bytesOf(p.regs, p._hasRegs()),
      xstate: bytesOf(p.xstate, p._hasXstate()),
      name: p.name,
      sigmask: p.sigmask,
      sigactions,
      altstackSp: p.altstackSp,
      altstackFlags: p.altstackFlags,
      altstackSize: p.altstackSize,
      brk: p.brk,
      clearChildTid: p.clearChildTid,
      robustList: p.robustList,
      robustListLen: p.robustListLen,
    };
  },
};

const USER_REGS_BYTES = 27 * 8;
const counting = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 255));
const allSignals: SigActionValue[] = Array.from({ length: 64 }, (_, i) => i + 1)
  .filter((s) => s !== 9 && s !== 19)
  .map((signo) => ({ signo, handler: 0x401000n + BigInt(signo) * 16n, flags: 0x4000000n | BigInt(signo), restorer: 0x7ffff7e00000n, mask: 1n << BigInt(signo - 1) }));

/** The version-2 fields of a task that never set them. */
const NO_THREAD = { clearChildTid: 0n, robustList: 0n, robustListLen: 0n };

roundTripCases('TaskPayload', taskCodec, [
  { name: 'all zero and empty', value: { regs: Buffer.alloc(0), xstate: Buffer.alloc(0), name: '', sigmask: 0n, sigactions: [], altstackSp: 0n, altstackFlags: 0, altstackSize: 0n, brk: 0n, ...NO_THREAD } },
  {
    name: 'a typical task',
    value: { regs: counting(USER_REGS_BYTES), xstate: counting(2688), name: 'time', sigmask: 0n, sigactions: [{ signo: 2, handler: 0x401136n, flags: 0x4000000n, restorer: 0x7ffff7e00000n, mask: 0n }], altstackSp: 0n, altstackFlags: 2, altstackSize: 0n, brk: 0x555555579000n, ...NO_THREAD },
  },
  {
    name: 'max values',
    value: { regs: Buffer.alloc(USER_REGS_BYTES, 0xff), xstate: Buffer.alloc(1 << 14, 0xff), name: 'x'.repeat(15), sigmask: U64_MAX, sigactions: [{ signo: U32_MAX, handler: U64_MAX, flags: U64_MAX, restorer: U64_MAX, mask: U64_MAX }], altstackSp: U64_MAX, altstackFlags: I32_MAX, altstackSize: U64_MAX, brk: U64_MAX, clearChildTid: U64_MAX, robustList: U64_MAX, robustListLen: U64_MAX },
  },
  { name: 'negative altstack flags (int32 min)', value: { regs: counting(USER_REGS_BYTES), xstate: Buffer.alloc(0), name: 'neg', sigmask: 1n, sigactions: [], altstackSp: 0x7fff0000n, altstackFlags: I32_MIN, altstackSize: 8192n, brk: 0n, ...NO_THREAD } },
  { name: 'altstack flags -1', value: { regs: counting(USER_REGS_BYTES), xstate: Buffer.alloc(0), name: 'neg1', sigmask: 1n, sigactions: [], altstackSp: 0x7fff0000n, altstackFlags: -1, altstackSize: 8192n, brk: 0n, ...NO_THREAD } },
  { name: 'a non-ASCII name', value: { regs: counting(USER_REGS_BYTES), xstate: counting(64), name: 'ĉu-✓', sigmask: 0n, sigactions: [], altstackSp: 0n, altstackFlags: 0, altstackSize: 0n, brk: 0n, ...NO_THREAD } },
  { name: `every catchable signal handled (${allSignals.length})`, value: { regs: counting(USER_REGS_BYTES), xstate: counting(832), name: 'handlers', sigmask: 0xfffffffe_fffbfeffn, sigactions: allSignals, altstackSp: 0x7ffff0000000n, altstackFlags: 0, altstackSize: 65536n, brk: 0x555555559000n, ...NO_THREAD } },
  {
    name: 'a second thread (version 2: clear-tid address and robust list)',
    value: { regs: counting(USER_REGS_BYTES), xstate: counting(832), name: 'worker', sigmask: 0n, sigactions: [], altstackSp: 0n, altstackFlags: 2, altstackSize: 0n, brk: 0x555555559000n, clearChildTid: 0x7ffff7d8e910n, robustList: 0x7ffff7d8e920n, robustListLen: 24n },
  },
]);

// StdioPayload --------------------------------------------------------------------------------

const stdioCodec: PayloadCodec<StdioPayload, { fd: number; target: number }> = {
  type: StdioPayload,
  write(p, v) {
    p.fd = v.fd;
    p.target = v.target;
  },
  read: (p) => ({ fd: p.fd, target: p.target }),
};

roundTripCases('StdioPayload', stdioCodec, [
  { name: 'zero', value: { fd: 0, target: 0 } },
  { name: 'stdout to stdout', value: { fd: 1, target: 1 } },
  { name: 'stderr to stdout', value: { fd: 2, target: 1 } },
  { name: 'a dup of stdout at a high fd', value: { fd: 1023, target: 2 } },
  { name: '-1', value: { fd: -1, target: -1 } },
  { name: 'int32 extremes', value: { fd: I32_MAX, target: I32_MIN } },
]);

// TracePositionPayload ------------------------------------------------------------------------

const traceCodec: PayloadCodec<TracePositionPayload, { frame: bigint }> = {
  type: TracePositionPayload,
  write(p, v) {
    p.frame = v.frame;
  },
  read: (p) => ({ frame: p.frame }),
};

roundTripCases('TracePositionPayload', traceCodec, [
  { name: 'frame 0', value: { frame: 0n } },
  { name: 'frame 1', value: { frame: 1n } },
  { name: 'frame 2^32', value: { frame: 1n << 32n } },
  { name: 'the largest safe integer', value: { frame: BigInt(Number.MAX_SAFE_INTEGER) } },
  { name: 'max u64', value: { frame: U64_MAX } },
]);

test('an empty payload decodes as all defaults', () => {
  const empty = encodePayload(TaskPayload, () => {});
  assert.deepEqual(taskCodec.read(decodePayload(TaskPayload, empty)), { regs: Buffer.alloc(0), xstate: Buffer.alloc(0), name: '', sigmask: 0n, sigactions: [], altstackSp: 0n, altstackFlags: 0, altstackSize: 0n, brk: 0n, ...NO_THREAD });
  assert.deepEqual(mappingCodec.read(decodePayload(MappingPayload, encodePayload(MappingPayload, () => {}))), { start: 0n, end: 0n, prot: 0, shared: false, file: '', offset: 0n, chunks: [] });
});

// ---------------------------------------------------------------------------------------------
// The built-in serializers' own save (and load, where it needs no tracee) paths.

function builtins(): PcpRegistry {
  const reg = pcpRegistry(new Tsrr());
  registerMappingSerializers(reg);
  registerStdioSerializer(reg);
  registerTaskSerializer(reg);
  registerTracePositionSerializer(reg);
  return reg;
}

/** A SaveContext whose storeMemory returns `refs` (recording what it was asked) and whose
 * traceCopyOf returns `copy`, in a session of no tasks that follows no file in a copy of its
 * own. Nothing else is reachable without a tracee. */
function fakeSaveContext(refs: ChunkRef[], copy: string | undefined, calls: [bigint, bigint, Extent][] = [], patchedSites = new Map<bigint, string>()): SaveContext {
  return {
    storeMemory(start: bigint, end: bigint, extent: Extent) {
      calls.push([start, end, extent]);
      return refs;
    },
    traceCopyOf: () => copy,
    task: { as: { patchedSites } },
    session: { sharedFileOf: () => undefined, tasks: new Map() },
  } as unknown as SaveContext;
}

const mapping = (kind: MappingKind, over: Partial<Mapping> = {}): Mapping => ({ start: 0x7f0000000000n, end: 0x7f0000004000n, prot: 'rw-p', offset: 0n, path: '', kind, object: '00:00 0', ...over });

describe('mapping serializers: save', () => {
  const reg = builtins();
  const refs: ChunkRef[] = [
    { offset: 0n, length: 4096, hash: sha('page 0') },
    { offset: 0x2000n, length: 8192, hash: sha('pages 2-3') },
  ];
  const cases: { name: string; kind: string; m: Mapping; copy?: string; expect: MappingValue; extent?: Extent }[] = [
    { name: 'core/anonymous', kind: 'core/anonymous', m: mapping('anonymous'), expect: { start: 0x7f0000000000n, end: 0x7f0000004000n, prot: 3, shared: false, file: '', offset: 0n, chunks: refs }, extent: 'touched' },
    { name: 'core/shared-anonymous', kind: 'core/shared-anonymous', m: mapping('shared-anonymous', { prot: 'rw-s', path: '/dev/zero (deleted)' }), expect: { start: 0x7f0000000000n, end: 0x7f0000004000n, prot: 3, shared: true, file: '00:00 0', offset: 0n, chunks: refs }, extent: 'touched' },
    { name: 'core/heap', kind: 'core/heap', m: mapping('heap', { start: 0x555555559000n, end: 0x55555557a000n, path: '[heap]' }), expect: { start: 0x555555559000n, end: 0x55555557a000n, prot: 3, shared: false, file: '', offset: 0n, chunks: refs }, extent: 'touched' },
    { name: 'core/stack', kind: 'core/stack', m: mapping('stack', { start: 0x7ffffffde000n, end: 0x7ffffffff000n, path: '[stack]' }), expect: { start: 0x7ffffffde000n, end: 0x7ffffffff000n, prot: 3, shared: false, file: '', offset: 0n, chunks: refs }, extent: 'touched' },
    {
      name: 'core/file, private, with a trace copy (the pages it wrote)',
      kind: 'core/file',
      m: mapping('file', { prot: 'r-xp', offset: 0x28000n, path: '/usr/lib/x86_64-linux-gnu/libc.so.6' }),
      copy: 'files/2-libc.so.6',
      expect: { start: 0x7f0000000000n, end: 0x7f0000004000n, prot: 5, shared: false, file: 'files/2-libc.so.6', offset: 0x28000n, chunks: refs },
      extent: 'wrote',
    },
    {
      name: 'core/file, shared, with a trace copy (the pages it touched)',
      kind: 'core/file',
      m: mapping('file', { prot: 'rw-s', offset: 0n, path: '/tmp/data' }),
      copy: 'files/5-data',
      expect: { start: 0x7f0000000000n, end: 0x7f0000004000n, prot: 3, shared: true, file: 'files/5-data', offset: 0n, chunks: refs },
      extent: 'touched',
    },
    {
      name: 'core/file, shared read-only, with a trace copy (nothing: the file holds it)',
      kind: 'core/file',
      m: mapping('file', { prot: 'r--s', offset: 0n, path: '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache' }),
      copy: 'files/5-gconv-modules.cache',
      expect: { start: 0x7f0000000000n, end: 0x7f0000004000n, prot: 1, shared: true, file: 'files/5-gconv-modules.cache', offset: 0n, chunks: [] },
    },
    {
      name: 'core/file without a trace copy (all of it)',
      kind: 'core/file',
      m: mapping('file', { prot: 'r--p', offset: 0x1000n, path: '/etc/hosts' }),
      expect: { start: 0x7f0000000000n, end: 0x7f0000004000n, prot: 1, shared: false, file: '', offset: 0x1000n, chunks: refs },
      extent: 'all',
    },
    { name: 'core/vdso (nothing stored)', kind: 'core/vdso', m: mapping('vdso', { start: 0x7ffff7fc5000n, end: 0x7ffff7fc7000n, prot: 'r-xp', path: '[vdso]' }), expect: { start: 0x7ffff7fc5000n, end: 0x7ffff7fc7000n, prot: 0, shared: false, file: '', offset: 0n, chunks: [] } },
    { name: 'core/vvar (nothing stored)', kind: 'core/vvar', m: mapping('vvar', { start: 0x7ffff7fc1000n, end: 0x7ffff7fc5000n, prot: 'r--p', path: '[vvar]' }), expect: { start: 0x7ffff7fc1000n, end: 0x7ffff7fc5000n, prot: 0, shared: false, file: '', offset: 0n, chunks: [] } },
    { name: 'core/vsyscall (nothing stored)', kind: 'core/vsyscall', m: mapping('vsyscall', { start: 0xffffffffff600000n, end: 0xffffffffff601000n, prot: '--xp', path: '[vsyscall]' }), expect: { start: 0xffffffffff600000n, end: 0xffffffffff601000n, prot: 0, shared: false, file: '', offset: 0n, chunks: [] } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(reg.mappings.kindOf(c.m, fakeSaveContext([], undefined)), c.kind);
      const s = serializerFor(reg.mappings, c.kind);
      assert.equal(s.version, ['core/vdso', 'core/vvar', 'core/vsyscall'].includes(c.kind) ? 1 : c.kind === 'core/shared-anonymous' ? 3 : 2);
      assert.equal(s.plugin, 'pcp');
      const calls: [bigint, bigint, Extent][] = [];
      const payload = s.save(c.m, fakeSaveContext(refs, c.copy, calls));
      assert.deepEqual(mappingCodec.read(decodePayload(MappingPayload, payload)), c.expect);
      if (c.extent === undefined) assert.deepEqual(calls, [], 'no memory stored');
      else assert.deepEqual(calls, [[c.m.start, c.m.end, c.extent]]);
    });
  }

  test('patched sites inside a mapping are saved as offsets from its start', () => {
    const m = mapping('anonymous', { prot: 'r-xp' });
    const sites = new Map([
      [m.start + 0x10n, 'rdtsc'],
      [m.start + 0x20n, 'cpuid'],
      [m.start + 0x3ffdn, 'rdtscp'],
      [m.end, 'rdtsc'], // the next mapping's
      [m.start - 2n, 'cpuid'],
    ]);
    const saved = decodeMapping(serializerFor(reg.mappings, 'core/anonymous').save(m, fakeSaveContext([], undefined, [], sites)));
    assert.deepEqual(saved.patched, [[0x10n, 'rdtsc'], [0x20n, 'cpuid'], [0x3ffdn, 'rdtscp']]);
    assert.deepEqual(decodeMapping(encodeMapping(saved)), saved);
    assert.throws(() => decodeMapping(encodeMapping({ ...saved, patched: [[0n, 'wrmsr' as 'cpuid']] })), /patched instruction "wrmsr"/);
  });

  test('many chunks and no chunks', () => {
    const s = serializerFor(reg.mappings, 'core/anonymous');
    for (const chunks of [[], manyChunks]) {
      const payload = s.save(mapping('anonymous'), fakeSaveContext(chunks, undefined));
      assert.deepEqual(mappingCodec.read(decodePayload(MappingPayload, payload)).chunks, chunks);
    }
  });

  test('core/vdso load refuses a vDSO at another address, naming both', () => {
    const s = serializerFor(reg.mappings, 'core/vdso');
    const payload = s.save(mapping('vdso', { start: 0x7ffff7fc5000n, end: 0x7ffff7fc7000n }), fakeSaveContext([], undefined));
    const ctxAt = (start: bigint, end: bigint) => ({ task: { as: { find: (kind: string) => (kind === 'vdso' ? { start, end } : undefined) } } }) as unknown as LoadContext;
    s.load(payload, 1, ctxAt(0x7ffff7fc5000n, 0x7ffff7fc7000n));
    assert.throws(
      () => s.load(payload, 1, ctxAt(0x7ffff7fc0000n, 0x7ffff7fc2000n)),
      (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_MISMATCH' && /7ffff7fc0000/.test(e.message) && /7ffff7fc5000/.test(e.message),
    );
  });
});

describe('other built-in serializers: save then load', () => {
  const reg = builtins();

  for (const frame of [0, 1, 46, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
    test(`core/trace-position at frame ${frame}`, () => {
      const s = serializerFor(reg.trace, 'core/trace-position');
      assert.equal(reg.trace.kindOf({ frame }, fakeSaveContext([], undefined)), 'core/trace-position');
      const payload = s.save({ frame }, fakeSaveContext([], undefined));
      assert.deepEqual(traceCodec.read(decodePayload(TracePositionPayload, payload)), { frame: BigInt(frame) });
      const started: number[] = [];
      s.load(payload, s.version, { session: { startFrom: (f: number) => started.push(f) } } as unknown as LoadContext);
      assert.deepEqual(started, [frame]);
    });
  }

  for (const [fd, target] of [
    [1, 1],
    [2, 2],
    [0, 1],
    [100, 2],
  ] as const) {
    test(`core/stdio fd ${fd} → ${target}`, () => {
      const s = serializerFor(reg.fileMonitors, StdioMonitor.KIND);
      const item = { fd, monitor: new StdioMonitor(target) };
      assert.equal(reg.fileMonitors.kindOf(item, fakeSaveContext([], undefined)), 'core/stdio');
      const payload = s.save(item, fakeSaveContext([], undefined));
      assert.deepEqual(stdioCodec.read(decodePayload(StdioPayload, payload)), { fd, target });
      const set: [number, unknown][] = [];
      const task = { fds: { set: (f: number, m: unknown) => set.push([f, m]) } };
      const session = { fileMonitors: { get: (kind: string) => (kind === StdioMonitor.KIND ? (_t: unknown, tgt: number) => new StdioMonitor(tgt) : assert.fail(`asked for ${kind}`)) } };
      s.load(payload, s.version, { session, task } as unknown as LoadContext);
      assert.equal(set.length, 1);
      assert.equal(set[0]![0], fd);
      assert.ok(set[0]![1] instanceof StdioMonitor);
      assert.equal((set[0]![1] as StdioMonitor).target, target);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Manifest and State files.

const dir = tempDir('tsrr-pcp-serializers-');
let files = 0;
const tempFile = () => join(dir, `f${files++}`);

const noSessionSections = (): State['sections'] => ({ trace: [], extensions: [] });
const noProcessSections = (): ProcessState['sections'] => ({ mappings: [], fileMonitors: [], syscallBuffers: [], tasks: [] });

const allBuiltinNeeds: Manifest['needs'] = [
  { section: 'mappings', kind: 'core/anonymous', version: 2, plugin: 'pcp' },
  { section: 'mappings', kind: 'core/file', version: 2, plugin: 'pcp' },
  { section: 'mappings', kind: 'core/heap', version: 2, plugin: 'pcp' },
  { section: 'mappings', kind: 'core/stack', version: 2, plugin: 'pcp' },
  { section: 'mappings', kind: 'core/vdso', version: 1, plugin: 'pcp' },
  { section: 'mappings', kind: 'core/vvar', version: 1, plugin: 'pcp' },
  { section: 'mappings', kind: 'core/vsyscall', version: 1, plugin: 'pcp' },
  { section: 'fileMonitors', kind: 'core/stdio', version: 1, plugin: 'pcp' },
  { section: 'tasks', kind: 'core/task', version: 1, plugin: 'pcp' },
  { section: 'trace', kind: 'core/trace-position', version: 1, plugin: 'pcp' },
];

const manifestCases: { name: string; m: Manifest }[] = [
  { name: 'all zero, no needs', m: { formatVersion: 0, traceUuid: '', frame: 0, createdNs: 0n, needs: [], memoryBytes: 0n, storedBytes: 0n, partWay: false } },
  { name: 'a typical manifest', m: { formatVersion: PCP_FORMAT_VERSION, traceUuid: '6f1c2b9e-4d3a-4e8b-9a7c-0123456789ab', frame: 40, createdNs: 1_700_000_000_123_456_789n, needs: allBuiltinNeeds, memoryBytes: 286720n, storedBytes: 15741n, partWay: true } },
  {
    name: 'max values',
    m: { formatVersion: PCP_FORMAT_VERSION, traceUuid: 'u'.repeat(1000), frame: Number.MAX_SAFE_INTEGER, createdNs: U64_MAX, needs: [{ section: 'extensions', kind: 'acme/socket', version: U32_MAX, plugin: '@acme/tsrr-plugin-socket' }], memoryBytes: U64_MAX, storedBytes: U64_MAX, partWay: false },
  },
  {
    name: 'many needs, non-ASCII names',
    m: { formatVersion: 1, traceUuid: 'ünïcødé', frame: 7, createdNs: 1n, needs: Array.from({ length: 300 }, (_, i) => ({ section: SECTIONS[i % SECTIONS.length]!, kind: `plugin${i}/kind-✓`, version: i, plugin: `plugin${i}` })), memoryBytes: 1n, storedBytes: 1n, partWay: false },
  },
];

describe('manifest files round trip', () => {
  for (const c of manifestCases) {
    test(c.name, () => {
      const file = tempFile();
      writeFileSync(file, encodeManifest(c.m));
      assert.deepEqual(readManifest(file), c.m);
    });
  }
});

const bigPayload = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 31) & 255));
const taskEnvelope = (name: string): Envelope => ({ kind: 'core/task', version: 2, payload: encodePayload(TaskPayload, (p) => taskCodec.write(p, { regs: counting(USER_REGS_BYTES), xstate: counting(64), name, sigmask: 0n, sigactions: [], altstackSp: 0n, altstackFlags: 2, altstackSize: 0n, brk: 0x555555579000n, ...NO_THREAD })) });
const stateCases: { name: string; s: State }[] = [
  { name: 'empty', s: { processes: [], sections: noSessionSections() } },
  {
    name: 'one envelope per section',
    s: {
      processes: [
        {
          tgid: 4242,
          executable: 'files/0-time',
          threads: [{ tid: 4242, held: false }],
          limits: [{ resource: 3, soft: 1n << 20n, hard: 0xffff_ffff_ffff_ffffn }],
          sections: {
            mappings: [{ kind: 'core/anonymous', version: 1, payload: encodePayload(MappingPayload, (p) => mappingCodec.write(p, { start: 0x1000n, end: 0x2000n, prot: 3, shared: false, file: '', offset: 0n, chunks: [{ offset: 0n, length: 4096, hash: sha('x') }] })) }],
            fileMonitors: [{ kind: 'core/stdio', version: 1, payload: encodePayload(StdioPayload, (p) => stdioCodec.write(p, { fd: 1, target: 1 })) }],
            syscallBuffers: [{ kind: 'core/syscall-buffer', version: 2, payload: Buffer.from([1, 2, 3]) }],
            tasks: [taskEnvelope('time')],
          },
        },
      ],
      sections: {
        trace: [{ kind: 'core/trace-position', version: 1, payload: encodePayload(TracePositionPayload, (p) => traceCodec.write(p, { frame: 40n })) }],
        extensions: [{ kind: 'acme/socket', version: U32_MAX, payload: Buffer.from('hello\0\xff', 'latin1') }],
      },
    },
  },
  {
    name: 'processes with threads, some held; empty payloads, a 1 MiB payload, many envelopes',
    s: {
      processes: [
        {
          tgid: 100,
          executable: 'files/0-ünïcødé prog',
          threads: [{ tid: 100, held: true }, { tid: 101, held: false }, { tid: I32_MAX, held: true }],
          limits: [],
          sections: {
            ...noProcessSections(),
            mappings: Array.from({ length: 2000 }, (_, i): Envelope => ({ kind: i % 2 ? 'core/anonymous' : 'core/vvar', version: 1, payload: i % 3 ? Buffer.from(`m${i}`) : Buffer.alloc(0) })),
            tasks: [taskEnvelope('main'), taskEnvelope('worker'), taskEnvelope('last')],
          },
        },
        { tgid: 102, executable: 'files/1-echo', threads: [{ tid: 103, held: false }], limits: [{ resource: 9, soft: 0n, hard: 1n }], sections: { ...noProcessSections(), tasks: [taskEnvelope('child')] } },
      ],
      sections: {
        trace: [],
        extensions: [
          { kind: 'acme/empty', version: 0, payload: Buffer.alloc(0) },
          { kind: 'acme/big', version: 1, payload: bigPayload },
        ],
      },
    },
  },
];

const plain = (envs: readonly Envelope[]) => envs.map((e) => ({ kind: e.kind, version: e.version, payload: Buffer.from(e.payload) }));

describe('state files round trip', () => {
  for (const c of stateCases) {
    test(c.name, () => {
      const file = tempFile();
      writeFileSync(file, encodeState(c.s));
      const got = readState(file);
      assert.deepEqual(Object.keys(got.sections).sort(), [...SESSION_SECTIONS].sort());
      for (const section of SESSION_SECTIONS) assert.deepEqual(plain(got.sections[section]), plain(c.s.sections[section]), section);
      assert.equal(got.processes.length, c.s.processes.length);
      got.processes.forEach((p, i) => {
        const want = c.s.processes[i]!;
        assert.deepEqual({ tgid: p.tgid, executable: p.executable, threads: p.threads }, { tgid: want.tgid, executable: want.executable, threads: want.threads });
        for (const section of PROCESS_SECTIONS) assert.deepEqual(plain(p.sections[section]), plain(want.sections[section]), `process ${i} ${section}`);
      });
    });
  }

  test('payloads read back decode to what was saved', () => {
    const file = tempFile();
    const s = stateCases[1]!.s;
    writeFileSync(file, encodeState(s));
    const [got] = readState(file).processes;
    const [want] = s.processes;
    assert.deepEqual(taskCodec.read(decodePayload(TaskPayload, got!.sections.tasks[0]!.payload)), taskCodec.read(decodePayload(TaskPayload, want!.sections.tasks[0]!.payload)));
    assert.deepEqual(traceCodec.read(decodePayload(TracePositionPayload, readState(file).sections.trace[0]!.payload)), { frame: 40n });
    assert.deepEqual(stdioCodec.read(decodePayload(StdioPayload, got!.sections.fileMonitors[0]!.payload)), { fd: 1, target: 1 });
  });

  test('a process whose threads and saved tasks differ in number is corrupt', () => {
    const file = tempFile();
    const [p] = stateCases[1]!.s.processes;
    writeFileSync(file, encodeState({ processes: [{ ...p!, threads: [] }], sections: noSessionSections() }));
    assert.throws(() => readState(file), (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_CORRUPT' && /4242 has 0 threads but 1 saved tasks/.test(e.message));
  });
});

describe('manifest and state files refuse damage', () => {
  const isCorrupt = (file: string, why: RegExp) => (e: unknown) => {
    assert.ok(e instanceof TsrrError, String(e));
    assert.equal(e.code, 'CHECKPOINT_CORRUPT', e.message);
    assert.ok(e.message.includes(file), e.message);
    assert.match(e.message, why);
    return true;
  };

  test('missing', () => {
    const file = tempFile();
    assert.throws(() => readManifest(file), isCorrupt(file, /missing/));
    assert.throws(() => readState(file), isCorrupt(file, /missing/));
  });

  test('a state read as a manifest, and the other way round', () => {
    const m = tempFile();
    const s = tempFile();
    writeFileSync(m, encodeManifest(manifestCases[1]!.m));
    writeFileSync(s, encodeState(stateCases[1]!.s));
    assert.throws(() => readManifest(s), isCorrupt(s, /magic/));
    assert.throws(() => readState(m), isCorrupt(m, /magic/));
  });

  test('every truncation and every single bit flip of a manifest is refused as corrupt', () => {
    const good = encodeManifest(manifestCases[1]!.m);
    const file = tempFile();
    for (let n = 0; n < good.length; n++) {
      writeFileSync(file, good.subarray(0, n));
      assert.throws(() => readManifest(file), isCorrupt(file, /./), `truncated to ${n} bytes`);
    }
    for (let at = 0; at < good.length; at++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(good);
        bad[at]! ^= bit;
        writeFileSync(file, bad);
        let err: unknown;
        try {
          readManifest(file);
        } catch (e) {
          err = e;
        }
        // The prefix's reserved bytes are not checked; any other flip must be found.
        if (err === undefined) {
          assert.ok(at >= 12 && at < 16, `a flip of bit ${bit} at byte ${at} of ${good.length} went unnoticed`);
          continue;
        }
        assert.ok(err instanceof TsrrError && ['CHECKPOINT_CORRUPT', 'CHECKPOINT_TOO_NEW'].includes(err.code), `byte ${at}: ${String(err)}`);
        assert.ok(err.message.includes(file), err.message);
      }
    }
  });

  test('a newer format version is refused as too new, naming both versions', () => {
    const file = tempFile();
    writeFileSync(file, encodeManifest({ ...manifestCases[1]!.m, formatVersion: PCP_FORMAT_VERSION + 1 }));
    assert.throws(
      () => readManifest(file),
      (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_TOO_NEW' && e.message.includes(file) && e.message.includes(String(PCP_FORMAT_VERSION + 1)) && e.message.includes(String(PCP_FORMAT_VERSION)) && /--ignore-pcp/.test(e.message),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The registry.

describe('pcpRegistry', () => {
  test('one registry per Tsrr, with every section', () => {
    const a = new Tsrr();
    const b = new Tsrr();
    assert.equal(pcpRegistry(a), pcpRegistry(a));
    assert.notEqual(pcpRegistry(a), pcpRegistry(b));
    for (const section of SECTIONS) assert.deepEqual(pcpRegistry(b)[section].kinds(), [], section);
  });

  test('the pcp plugin registers the built-in kinds', () => {
    const tsrr = new Tsrr();
    tsrr.apply(new PcpPlugin());
    const reg = pcpRegistry(tsrr);
    assert.deepEqual(reg.mappings.kinds().sort(), ['core/anonymous', 'core/file', 'core/heap', 'core/shared-anonymous', 'core/shared-file', 'core/stack', 'core/sysv-shm', 'core/vdso', 'core/vsyscall', 'core/vvar']);
    assert.deepEqual(reg.fileMonitors.kinds().sort(), ['core/mmapped-file', 'core/pidfd', 'core/proc-mem', 'core/proc-status', 'core/stdio']);
    assert.deepEqual(reg.tasks.kinds(), ['core/task']);
    assert.deepEqual(reg.trace.kinds(), ['core/trace-position']);
    assert.deepEqual(reg.syscallBuffers.kinds(), ['core/syscall-buffer']);
    assert.deepEqual(reg.extensions.kinds(), ['core/sysv-segments']);
    for (const section of SECTIONS) {
      for (const kind of reg[section].kinds()) {
        const s = (reg[section] as PcpRegistry['extensions']).get(kind);
        assert.equal(s.plugin, 'pcp', kind);
        assert.ok(Number.isInteger(s.version) && s.version >= 1, kind);
      }
    }
  });

  test('registering a kind twice throws naming the kind', () => {
    const reg = builtins();
    const dup: Serializer<Mapping> = { version: 1, plugin: 'acme', save: () => new Uint8Array(), load() {} };
    assert.throws(
      () => reg.mappings.register('core/anonymous', dup),
      (e: unknown) => e instanceof TsrrError && e.code === 'PLUGIN_ERROR' && e.message.includes('core/anonymous') && e.message.includes('pcp mappings'),
    );
    reg.extensions.register('acme/socket', { version: 1, plugin: 'acme', save: () => new Uint8Array(), load() {} });
    assert.throws(
      () => reg.extensions.register('acme/socket', { version: 2, plugin: 'acme', save: () => new Uint8Array(), load() {} }),
      (e: unknown) => e instanceof TsrrError && e.code === 'PLUGIN_ERROR' && e.message.includes('acme/socket'),
    );
    assert.equal(reg.extensions.get('acme/socket').version, 1, 'the first registration stays');
    // The same kind in another section is another kind.
    reg.fileMonitors.register('acme/socket', { version: 1, plugin: 'acme', save: () => new Uint8Array(), load() {} });
  });

  test('serializerFor an unknown kind throws naming the kind and the section', () => {
    const reg = builtins();
    assert.throws(
      () => serializerFor(reg.fileMonitors, 'acme/socket'),
      (e: unknown) => {
        assert.ok(e instanceof TsrrError);
        assert.equal(e.code, 'UNSUPPORTED');
        assert.match(e.message, /"acme\/socket"/);
        assert.match(e.message, /pcp file monitors/);
        assert.deepEqual(e.context, { kind: 'acme/socket' });
        return true;
      },
    );
    assert.throws(() => serializerFor(reg.mappings, 'core/nope'), /core\/nope/);
    assert.equal(serializerFor(reg.tasks, 'core/task'), reg.tasks.get('core/task'));
  });
});

// ---------------------------------------------------------------------------------------------
// loadCheckpoint refuses what it cannot restore, with no tracee involved.

describe('loadCheckpoint', () => {
  const UUID = '11111111-2222-4333-8444-555555555555';

  /** A trace directory holding one checkpoint at `frame` with the given needs. */
  function checkpointDir(needs: Manifest['needs'], over: Partial<Manifest> = {}) {
    const traceDir = join(dir, `trace${files++}`);
    mkdirSync(traceDir);
    const store = new CheckpointStore(traceDir);
    const manifest: Manifest = { formatVersion: PCP_FORMAT_VERSION, traceUuid: UUID, frame: 40, createdNs: 1n, needs, memoryBytes: 0n, storedBytes: 0n, partWay: false, ...over };
    const state: State = { processes: [{ tgid: 7, executable: 'files/0-prog', threads: [], limits: [], sections: noProcessSections() }], sections: { extensions: [], trace: [{ kind: 'core/trace-position', version: 1, payload: encodePayload(TracePositionPayload, (p) => (p.frame = 40n)) }] } };
    const cp = store.write(manifest, state, new Set());
    return { store, cp, manifest, state };
  }

  function withAcme(version: number): PcpRegistry {
    const reg = builtins();
    reg.extensions.register('acme/socket', { version, plugin: 'acme-plugin', save: () => new Uint8Array(), load() {} });
    return reg;
  }

  test('a checkpoint it can restore loads, with its manifest and state', () => {
    const { store, cp, manifest } = checkpointDir([...allBuiltinNeeds, { section: 'extensions', kind: 'acme/socket', version: 2, plugin: 'acme-plugin' }]);
    const loaded = loadCheckpoint(withAcme(2), store, cp, UUID);
    assert.equal(loaded.frame, 40);
    assert.equal(loaded.dir, cp.dir);
    assert.deepEqual({ ...loaded.manifest, chunkList: undefined }, { ...manifest, chunkList: undefined }, 'the manifest as written (with the chunk list hash the store adds)');
    assert.equal(loaded.state.processes[0]!.executable, 'files/0-prog');
    assert.deepEqual(traceCodec.read(decodePayload(TracePositionPayload, loaded.state.sections.trace[0]!.payload)), { frame: 40n });
    // An older version of a kind is fine: the serializer reads it.
    const older = checkpointDir([{ section: 'extensions', kind: 'acme/socket', version: 1, plugin: 'acme-plugin' }]);
    assert.equal(loadCheckpoint(withAcme(2), older.store, older.cp, UUID).frame, 40);
  });

  test('a kind nobody registered: CHECKPOINT_NEEDS_KIND naming the kind and the plugin', () => {
    const { store, cp } = checkpointDir([...allBuiltinNeeds, { section: 'extensions', kind: 'acme/socket', version: 1, plugin: 'acme-plugin' }]);
    assert.throws(
      () => loadCheckpoint(builtins(), store, cp, UUID),
      (e: unknown) => {
        assert.ok(e instanceof TsrrError, String(e));
        assert.equal(e.code, 'CHECKPOINT_NEEDS_KIND');
        assert.match(e.message, /"acme\/socket"/);
        assert.match(e.message, /acme-plugin/);
        assert.match(e.message, /event 40/);
        assert.deepEqual(e.context, { kind: 'acme/socket', plugin: 'acme-plugin' });
        return true;
      },
    );
  });

  test('a kind registered in another section only: CHECKPOINT_NEEDS_KIND', () => {
    const { store, cp } = checkpointDir([{ section: 'fileMonitors', kind: 'acme/socket', version: 1, plugin: 'acme-plugin' }]);
    assert.throws(() => loadCheckpoint(withAcme(1), store, cp, UUID), (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_NEEDS_KIND' && e.message.includes('acme/socket'));
  });

  test('a section this tsrr does not know: CHECKPOINT_NEEDS_KIND, not a crash', () => {
    const { store, cp } = checkpointDir([{ section: 'futureSection' as Manifest['needs'][number]['section'], kind: 'core/future', version: 1, plugin: 'pcp' }]);
    assert.throws(() => loadCheckpoint(builtins(), store, cp, UUID), (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_NEEDS_KIND' && e.message.includes('core/future'));
  });

  test('a newer serializer version: CHECKPOINT_TOO_NEW naming the kind and both versions', () => {
    const { store, cp } = checkpointDir([{ section: 'extensions', kind: 'acme/socket', version: 3, plugin: 'acme-plugin' }]);
    assert.throws(
      () => loadCheckpoint(withAcme(2), store, cp, UUID),
      (e: unknown) => {
        assert.ok(e instanceof TsrrError, String(e));
        assert.equal(e.code, 'CHECKPOINT_TOO_NEW');
        assert.match(e.message, /"acme\/socket" version 3/);
        assert.match(e.message, /up to version 2/);
        assert.match(e.message, /acme-plugin/);
        return true;
      },
    );
    // A built-in kind too.
    const core = checkpointDir([{ section: 'tasks', kind: 'core/task', version: 3, plugin: 'pcp' }]);
    assert.throws(() => loadCheckpoint(builtins(), core.store, core.cp, UUID), (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_TOO_NEW' && e.message.includes('core/task'));
  });

  test('another trace: CHECKPOINT_MISMATCH naming the directory and both uuids', () => {
    const { store, cp } = checkpointDir(allBuiltinNeeds, { traceUuid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' });
    assert.throws(
      () => loadCheckpoint(builtins(), store, cp, UUID),
      (e: unknown) => {
        assert.ok(e instanceof TsrrError, String(e));
        assert.equal(e.code, 'CHECKPOINT_MISMATCH');
        assert.ok(e.message.includes(cp.dir), e.message);
        assert.match(e.message, /another trace/);
        assert.ok(e.message.includes('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'), e.message);
        assert.ok(e.message.includes(UUID), e.message);
        return true;
      },
    );
  });

  test('another trace is refused even when it also needs an unknown kind (identity first)', () => {
    const { store, cp } = checkpointDir([{ section: 'extensions', kind: 'acme/socket', version: 1, plugin: 'acme-plugin' }], { traceUuid: 'other' });
    assert.throws(() => loadCheckpoint(builtins(), store, cp, UUID), (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_MISMATCH');
  });

  test('a checkpoint directory renamed to another frame is refused as corrupt', () => {
    const { store, cp } = checkpointDir(allBuiltinNeeds);
    const moved = join(store.dir, '30');
    renameSync(cp.dir, moved);
    const [listed] = store.list();
    assert.deepEqual(listed, { frame: 30, dir: moved });
    assert.throws(() => loadCheckpoint(builtins(), store, listed!, UUID), (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_CORRUPT' && e.message.includes(moved) && e.message.includes('40'));
  });

  test('a damaged state is refused as corrupt, naming it', () => {
    const { store, cp } = checkpointDir(allBuiltinNeeds);
    const file = join(cp.dir, 'state');
    writeFileSync(file, Buffer.from('not a state'));
    assert.throws(() => loadCheckpoint(builtins(), store, cp, UUID), (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_CORRUPT' && e.message.includes(file));
  });
});
