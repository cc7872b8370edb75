// SPDX-License-Identifier: MIT
/**
 * Where persistent checkpoints are kept: the committed v1 and v2 files in test/fixtures/pcp-format/
 * still read as what was written (a format change that breaks old checkpoints fails here);
 * ChunkStore stores each distinct chunk once, compressed when that helps, and refuses missing
 * or damaged chunks; CheckpointStore writes atomically, lists in frame order, and removing
 * checkpoints collects the chunks no remaining one uses.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { TsrrError } from '../../native/TsrrError.js';
import { PREFIX_BYTES, checksumOk, framed, readPrefix } from '../../core/traceFile.js';
import { zstdAvailable, zstdDecompress } from '../../native/zstd.js';
import { CheckpointStore } from '../../plugins/pcp/CheckpointStore.js';
import { ChunkStore } from '../../plugins/pcp/ChunkStore.js';
import { PCP_FORMAT_VERSION, decodePayload, encodePayload, readManifest, readState, type Manifest, type State } from '../../plugins/pcp/checkpointFormat.js';
import { PROCESS_SECTIONS, SECTIONS } from '../../plugins/pcp/PcpRegistry.js';
import { Registers } from '../../native/regs.js';
import { MappingPayload, StdioPayload, TaskPayload, TracePositionPayload } from '../../schema/pcp.js';
import { tempDir } from '../e2e/helpers.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/pcp-format/', import.meta.url));
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest();
const hex = (b: string | Buffer) => sha(b).toString('hex');

const base = tempDir('tsrr-pcp-store-');
let dirs = 0;
function freshDir(): string {
  const dir = join(base, String(dirs++));
  mkdirSync(dir);
  return dir;
}

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

function corruptError(file: string, why: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof TsrrError, String(e));
    assert.equal(e.code, 'CHECKPOINT_CORRUPT', e.message);
    assert.ok(e.message.includes(file), `${e.message} does not name ${file}`);
    assert.match(e.message, why);
    assert.deepEqual(e.context, { file });
    return true;
  };
}

/** The error for a chunk that no readable index lists, naming it and the index `file`
 * that could not be read. */
function unindexedError(hash: Buffer, file: string, why: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof TsrrError, String(e));
    assert.equal(e.code, 'CHECKPOINT_CORRUPT', e.message);
    assert.ok(e.message.includes(hash.toString('hex')), `${e.message} does not name the chunk`);
    assert.ok(e.message.includes(file), `${e.message} does not name ${file}`);
    assert.match(e.message, why);
    assert.deepEqual(e.context, { chunk: hash.toString('hex'), file });
    return true;
  };
}

// ---------------------------------------------------------------------------------------------
// The committed v1 files.

describe('format fixture v1', () => {
  const v1 = join(FIXTURES, 'v1');

  test('the manifest reads as written', () => {
    const m = readManifest(join(v1, 'manifest'));
    assert.deepEqual(m, {
      formatVersion: 1,
      traceUuid: '6f1c2b9e-4d3a-4e8b-9a7c-0123456789ab',
      frame: 12345,
      createdNs: 1700000000123456789n,
      needs: [
        { section: 'mappings', kind: 'core/anonymous', version: 1, plugin: 'pcp' },
        { section: 'mappings', kind: 'core/file', version: 1, plugin: 'pcp' },
        { section: 'mappings', kind: 'core/vvar', version: 1, plugin: 'pcp' },
        { section: 'fileMonitors', kind: 'core/stdio', version: 1, plugin: 'pcp' },
        { section: 'tasks', kind: 'core/task', version: 1, plugin: 'pcp' },
        { section: 'trace', kind: 'core/trace-position', version: 1, plugin: 'pcp' },
        { section: 'extensions', kind: 'acme/socket', version: 3, plugin: 'acme' },
      ],
      memoryBytes: 1048576n,
      storedBytes: 65536n,
      partWay: false,
    } satisfies Manifest);
    assert.ok(PCP_FORMAT_VERSION >= 1, 'this tsrr must still read format version 1');
  });

  test('the state reads as written, and its payloads decode', () => {
    const state = readState(join(v1, 'state'));
    // Format 1 held one process, whose ids are those of the trace's first event (0 here).
    assert.equal(state.processes.length, 1);
    const [p] = state.processes;
    assert.deepEqual([p!.tgid, p!.executable, p!.threads], [0, 'files/0-prog', [{ tid: 0, held: false }]]);
    const s = { sections: { ...p!.sections, ...state.sections } };
    const kinds = Object.fromEntries(SECTIONS.map((sec) => [sec, s.sections[sec].map((e) => `${e.kind}@${e.version}`)]));
    assert.deepEqual(kinds, {
      mappings: ['core/anonymous@1', 'core/file@1', 'core/vvar@1'],
      fileMonitors: ['core/stdio@1', 'core/stdio@1'],
      syscallBuffers: [],
      tasks: ['core/task@1'],
      trace: ['core/trace-position@1'],
      extensions: ['acme/socket@3'],
    });
    const mapping = (i: number) => {
      const p = decodePayload(MappingPayload, s.sections.mappings[i]!.payload);
      const chunks = [];
      for (let j = 0; j < p.chunks.length; j++) {
        const c = p.chunks.get(j);
        chunks.push({ offset: c.offset, length: c.length, hash: Buffer.from(c.hash.toUint8Array()) });
      }
      return { start: p.start, end: p.end, prot: p.prot, shared: p.shared, file: p.file, offset: p.offset, chunks };
    };
    assert.deepEqual(mapping(0), {
      start: 0x7f0000000000n,
      end: 0x7f0000010000n,
      prot: 3,
      shared: false,
      file: '',
      offset: 0n,
      chunks: [
        { offset: 0n, length: 65536, hash: sha('a') },
        { offset: 0x8000n, length: 4096, hash: sha('b') },
      ],
    });
    assert.deepEqual(mapping(1), { start: 0x7ffff7dd0000n, end: 0x7ffff7df5000n, prot: 5, shared: false, file: 'files/2-libc.so.6', offset: 0x28000n, chunks: [] });
    assert.deepEqual(mapping(2), { start: 0x7ffff7fc1000n, end: 0x7ffff7fc5000n, prot: 0, shared: false, file: '', offset: 0n, chunks: [] });
    const stdio = s.sections.fileMonitors.map((e) => decodePayload(StdioPayload, e.payload)).map((p) => [p.fd, p.target]);
    assert.deepEqual(stdio, [
      [1, 1],
      [2, 2],
    ]);
    const t = decodePayload(TaskPayload, s.sections.tasks[0]!.payload);
    assert.deepEqual(Buffer.from(t.regs.toUint8Array()), Buffer.from(Array.from({ length: 216 }, (_, i) => i & 255)));
    assert.deepEqual(Buffer.from(t.xstate.toUint8Array()), Buffer.from(Array.from({ length: 64 }, (_, i) => 255 - i)));
    assert.equal(t.name, 'prog');
    assert.equal(t.sigmask, 0x4000n);
    assert.equal(t.sigactions.length, 1);
    const a = t.sigactions.get(0);
    assert.deepEqual([a.signo, a.handler, a.flags, a.restorer, a.mask], [2, 0x401136n, 0x4000000n, 0x7ffff7e00000n, 0n]);
    assert.deepEqual([t.altstackSp, t.altstackFlags, t.altstackSize, t.brk], [0n, 2, 0n, 0x555555579000n]);
    assert.equal(decodePayload(TracePositionPayload, s.sections.trace[0]!.payload).frame, 12345n);
    assert.deepEqual(Buffer.from(s.sections.extensions[0]!.payload), Buffer.from('hello\0\xff', 'latin1'));
  });

  const chunkCases: { encoding: number; name: string; data: Buffer; offset: number; needsZstd?: boolean }[] = [
    { encoding: 0, name: 'raw', data: Buffer.from(Array.from({ length: 256 }, (_, i) => i)), offset: 0 },
    { encoding: 1, name: 'deflate-raw', data: Buffer.from('pcp!'.repeat(1024)), offset: 257 },
    { encoding: 2, name: 'zstd', data: Buffer.from(Array.from({ length: 8192 }, (_, i) => (i >> 4) & 255)), offset: 284, needsZstd: true },
  ];
  for (const c of chunkCases) {
    test(`the ${c.name} chunk of the pack reads as written`, { skip: c.needsZstd && !zstdAvailable ? 'libzstd is not installed' : false }, () => {
      assert.equal(readFileSync(join(v1, 'packs', '12345.pack'))[c.offset], c.encoding, 'the fixture has the header byte of its encoding');
      const store = new ChunkStore(join(v1, 'packs'));
      assert.deepEqual(store.packs(), ['12345']);
      assert.deepEqual(store.get(sha(c.data)), c.data);
    });
  }

  test('the fixture directory holds exactly these files', () => {
    assert.deepEqual(filesUnder(v1), ['manifest', join('packs', '12345.idx'), join('packs', '12345.pack'), 'state']);
  });
});

describe('format fixture v2', () => {
  const v2 = join(FIXTURES, 'v2');

  test('the manifest reads as written', () => {
    const m = readManifest(join(v2, 'manifest'));
    assert.deepEqual([m.formatVersion, m.traceUuid, m.frame, m.createdNs], [2, '0b7e6a5d-2c1f-4e3d-8a9b-fedcba987654', 777, 1800000000000000000n]);
    assert.deepEqual(m.needs.map((n) => `${n.section}:${n.kind}@${n.version}`), ['mappings:core/anonymous@1', 'fileMonitors:core/stdio@1', 'tasks:core/task@2', 'trace:core/trace-position@1']);
    assert.ok(PCP_FORMAT_VERSION >= 2, 'this tsrr must still read format version 2');
  });

  test('the state reads as written: two processes, one with a held main thread and a worker', () => {
    const s = readState(join(v2, 'state'));
    assert.deepEqual(
      s.processes.map((p) => ({ tgid: p.tgid, executable: p.executable, threads: p.threads, kinds: PROCESS_SECTIONS.map((sec) => p.sections[sec].length) })),
      [
        { tgid: 1000, executable: 'files/0-server', threads: [{ tid: 1000, held: true }, { tid: 1001, held: false }], kinds: [1, 2, 0, 2] },
        { tgid: 1002, executable: 'files/3-echo', threads: [{ tid: 1002, held: false }], kinds: [0, 1, 0, 1] },
      ],
    );
    const tasks = s.processes.flatMap((p) => p.sections.tasks.map((e) => decodePayload(TaskPayload, e.payload)));
    assert.deepEqual(
      tasks.map((t) => [t.name, new Registers(Buffer.from(t.regs.toUint8Array())).rsp, t.clearChildTid, t.robustList, t.robustListLen]),
      [
        ['server', 0x7ffffffde000n, 0n, 0x7ffff7d8a0a0n, 24n],
        ['worker', 0x7ffff7d89e00n, 0x7ffff7d8a910n, 0x7ffff7d8a920n, 24n],
        ['echo', 0x7ffffffde800n, 0x7ffff7d8ba10n, 0n, 0n],
      ],
    );
    assert.equal(decodePayload(TracePositionPayload, s.sections.trace[0]!.payload).frame, 777n);
    assert.deepEqual(s.sections.extensions, []);
  });
});

// ---------------------------------------------------------------------------------------------
// ChunkStore: chunks go into one pack per checkpoint (begin ... commit), with an index.

/** Bytes that do not compress. */
function incompressible(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let at = 0;
  for (let i = 0; at < n; i++) {
    const h = sha(`${seed}:${i}`);
    h.copy(out, at);
    at += h.length;
  }
  return out;
}

/** Bytes that compress well. */
const compressible = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => ((i >> 6) + seed) & 255));

/** The index layout of schema/pcp.capnp: a framed list of entries, each a chunk's sha256,
 * its offset in the pack (u64), its stored length (u32) and the crc32 of its stored bytes. */
const INDEX_MAGIC = 0x58435054;
const ENTRY = 32 + 8 + 4 + 4;

/** The entries of a pack's index, checked against its documented layout. */
function indexOf(dir: string, pack: string): { hex: string; offset: number; length: number; crc: number }[] {
  const idx = readFileSync(join(dir, `${pack}.idx`));
  const p = readPrefix(idx, 0);
  assert.equal(p.magic, INDEX_MAGIC, 'index magic');
  assert.equal(idx.length, PREFIX_BYTES + p.length, 'index length');
  assert.equal(p.length, p.count * ENTRY, 'index count');
  assert.ok(checksumOk(p, idx.subarray(PREFIX_BYTES)), 'index checksum');
  const out = [];
  for (let at = PREFIX_BYTES; at < idx.length; at += ENTRY) {
    out.push({ hex: idx.subarray(at, at + 32).toString('hex'), offset: Number(idx.readBigUInt64LE(at + 32)), length: idx.readUInt32LE(at + 40), crc: idx.readUInt32LE(at + 44) });
  }
  return out;
}

/** What a chunk looks like in its pack: its header byte and the bytes after it. */
function storedBody(dir: string, hexName: string): Buffer {
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.idx') && !n.startsWith('.'))) {
    const pack = f.slice(0, -4);
    const e = indexOf(dir, pack).find((x) => x.hex === hexName);
    if (!e) continue;
    const body = readFileSync(join(dir, `${pack}.pack`)).subarray(e.offset, e.offset + e.length);
    assert.equal(crc32(body), e.crc, `the index has the crc32 of chunk ${hexName} as stored`);
    return body;
  }
  assert.fail(`chunk ${hexName} is in no pack of ${dir}`);
}

/** Puts `chunks` into a new pack `name` of `store`; returns their hashes. */
function putPack(store: ChunkStore, name: string, chunks: Buffer[]): Buffer[] {
  store.begin(name);
  const hashes = chunks.map((c) => store.put(c));
  store.commit();
  return hashes;
}

describe('ChunkStore', () => {
  test('put names a chunk by its sha256; commit makes a pack and its index', () => {
    const dir = join(freshDir(), 'packs');
    const store = new ChunkStore(dir);
    const a = compressible(65536);
    const b = incompressible(4096);
    assert.deepEqual(putPack(store, '10', [a, b]), [sha(a), sha(b)]);
    assert.deepEqual(filesUnder(dir), ['10.idx', '10.pack']);
    assert.deepEqual(store.packs(), ['10']);
    const entries = indexOf(dir, '10');
    assert.deepEqual(entries.map((e) => e.hex), [hex(a), hex(b)]);
    assert.equal(entries[0]!.offset, 0);
    assert.equal(entries[1]!.offset, entries[0]!.length, 'chunks follow each other in the pack');
    assert.equal(statSync(join(dir, '10.pack')).size, entries[0]!.length + entries[1]!.length);
    assert.equal(store.storedBytes, entries[0]!.length + entries[1]!.length);
  });

  test('put outside begin/commit is refused', () => {
    const store = new ChunkStore(join(freshDir(), 'packs'));
    assert.throws(() => store.put(compressible(64)), (e: unknown) => e instanceof TsrrError);
  });

  test('a pack is invisible until committed', () => {
    const dir = join(freshDir(), 'packs');
    const store = new ChunkStore(dir);
    store.begin('10');
    store.put(compressible(4096));
    assert.deepEqual(new ChunkStore(dir).packs(), [], 'an uncommitted pack is not listed');
    assert.ok(!existsSync(join(dir, '10.idx')));
    store.commit();
    assert.deepEqual(new ChunkStore(dir).packs(), ['10']);
    assert.ok(!readdirSync(dir).some((f) => f.startsWith('.')), 'no temporary file left');
  });

  test('put dedupes: within a pack, across packs, and in another store on the same directory', () => {
    const dir = join(freshDir(), 'packs');
    const store = new ChunkStore(dir);
    const a = compressible(65536);
    const b = incompressible(65536);
    store.begin('10');
    store.put(a);
    const afterA = store.storedBytes;
    assert.ok(afterA > 0);
    assert.deepEqual(store.put(Buffer.from(a)), sha(a));
    assert.equal(store.storedBytes, afterA, 'the same bytes again are not written again');
    store.commit();
    assert.equal(indexOf(dir, '10').length, 1);
    putPack(store, '20', [a, b]);
    assert.deepEqual(indexOf(dir, '20').map((e) => e.hex), [hex(b)], 'a chunk of an earlier pack is not stored again');
    const again = new ChunkStore(dir);
    assert.deepEqual(putPack(again, '30', [Buffer.from(a), Buffer.from(b)]), [sha(a), sha(b)]);
    assert.equal(again.storedBytes, 0, 'chunks already on disk are not written again');
    assert.deepEqual(indexOf(dir, '30'), []);
    assert.deepEqual(again.get(sha(a)), a);
    assert.deepEqual(again.get(sha(b)), b);
  });

  test('put stores compressible data compressed (zstd, or deflate-raw without libzstd)', () => {
    const dir = join(freshDir(), 'packs');
    const store = new ChunkStore(dir);
    const data = compressible(65536);
    const [h] = putPack(store, '1', [data]);
    const body = storedBody(dir, h!.toString('hex'));
    assert.ok(body.length < data.length / 4, `${body.length} bytes stored for ${data.length} compressible ones`);
    if (zstdAvailable) {
      assert.equal(body[0], 2);
      assert.deepEqual(zstdDecompress(body.subarray(1)), data);
    } else {
      assert.equal(body[0], 1);
      assert.deepEqual(inflateRawSync(body.subarray(1)), data);
    }
    assert.deepEqual(store.get(h!), data);
  });

  test('put stores incompressible data raw', () => {
    const dir = join(freshDir(), 'packs');
    const store = new ChunkStore(dir);
    const sizes = [1, 100, 4096, 65536];
    const datas = sizes.map((n) => incompressible(n, n));
    const hashes = putPack(store, '1', datas);
    datas.forEach((data, i) => {
      assert.deepEqual(storedBody(dir, hashes[i]!.toString('hex')), Buffer.concat([Buffer.of(0), data]), `${sizes[i]} bytes`);
      assert.deepEqual(store.get(hashes[i]!), data);
    });
  });

  test('an empty chunk, and an empty pack', () => {
    const dir = join(freshDir(), 'packs');
    const store = new ChunkStore(dir);
    const [h] = putPack(store, '1', [Buffer.alloc(0)]);
    assert.deepEqual(h, sha(Buffer.alloc(0)));
    assert.deepEqual(store.get(h!), Buffer.alloc(0));
    putPack(store, '2', []);
    assert.deepEqual(indexOf(dir, '2'), []);
    assert.deepEqual(new ChunkStore(dir).packs().sort(), ['1', '2']);
    assert.deepEqual(new ChunkStore(dir).get(h!), Buffer.alloc(0));
  });

  test('get reads every encoding, whatever put would choose', () => {
    const dir = join(freshDir(), 'packs');
    mkdirSync(dir);
    const datas = [compressible(16384, 7), compressible(16384, 8), incompressible(1000, 9)];
    const bodies = [Buffer.concat([Buffer.of(0), datas[0]!]), Buffer.concat([Buffer.of(1), deflateRawSync(datas[1]!)]), Buffer.concat([Buffer.of(0), datas[2]!])];
    writeHandMadePack(dir, '5', datas, bodies);
    const store = new ChunkStore(dir);
    for (const d of datas) assert.deepEqual(store.get(sha(d)), d);
  });

  describe('get refuses a missing or damaged chunk with CHECKPOINT_CORRUPT naming the file', () => {
    function stored(datas: Buffer[]) {
      const dir = join(freshDir(), 'packs');
      const hashes = putPack(new ChunkStore(dir), '7', datas);
      const entries = indexOf(dir, '7');
      return { dir, hashes, entries, pack: join(dir, '7.pack'), idx: join(dir, '7.idx'), fresh: () => new ChunkStore(dir) };
    }

    test('a chunk in no pack', () => {
      const { dir, fresh } = stored([compressible(4096)]);
      const never = sha('never stored');
      assert.throws(
        () => fresh().get(never),
        (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_CORRUPT' && e.message.includes(never.toString('hex')) && e.message.includes(dir),
      );
    });

    test('the pack missing', () => {
      const { hashes, pack, fresh } = stored([compressible(4096)]);
      rmSync(pack);
      assert.throws(() => fresh().get(hashes[0]!), corruptError(pack, /missing/));
    });

    test('the index missing', () => {
      const { dir, hashes, idx, fresh } = stored([compressible(4096)]);
      rmSync(idx);
      assert.throws(() => fresh().get(hashes[0]!), (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_CORRUPT' && e.message.includes(dir) && e.message.includes(hashes[0]!.toString('hex')));
    });

    test('every single bit flip of the index', () => {
      const { hashes, idx, fresh } = stored([compressible(4096, 1), incompressible(512, 2)]);
      const good = readFileSync(idx);
      for (let at = 0; at < good.length; at++) {
        const bad = Buffer.from(good);
        bad[at]! ^= 1 << (at % 8);
        writeFileSync(idx, bad);
        assert.throws(() => fresh().get(hashes[1]!), (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_CORRUPT', `flip at byte ${at} of ${good.length}`);
      }
    });

    test('the index cut short, or with a byte more', () => {
      const { hashes, idx, fresh } = stored([compressible(4096, 1), incompressible(512, 2)]);
      const good = readFileSync(idx);
      for (const bad of [good.subarray(0, 0), good.subarray(0, 10), good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.of(0)])]) {
        writeFileSync(idx, bad);
        assert.throws(() => fresh().get(hashes[0]!), unindexedError(hashes[0]!, idx, /corrupt/), `${bad.length} of ${good.length} bytes`);
      }
    });

    test('a bit flipped in a raw chunk', () => {
      const { hashes, entries, pack, fresh } = stored([compressible(4096, 1), incompressible(4096, 2)]);
      const e = entries[1]!;
      assert.equal(readFileSync(pack)[e.offset], 0);
      const bytes = readFileSync(pack);
      bytes[e.offset + 2000]! ^= 0x01;
      writeFileSync(pack, bytes);
      assert.throws(() => fresh().get(hashes[1]!), corruptError(pack, /corrupt/));
      assert.deepEqual(fresh().get(hashes[0]!), compressible(4096, 1), 'the other chunk of the pack still reads');
    });

    test('every single bit flip in a compressed chunk', () => {
      const { hashes, entries, pack, fresh } = stored([incompressible(100, 1), compressible(8192, 3)]);
      const e = entries[1]!;
      const good = readFileSync(pack);
      assert.notEqual(good[e.offset], 0);
      for (let at = e.offset; at < e.offset + e.length; at++) {
        const bad = Buffer.from(good);
        bad[at]! ^= 1 << (at % 8);
        writeFileSync(pack, bad);
        assert.throws(() => fresh().get(hashes[1]!), corruptError(pack, /corrupt/), `flip at byte ${at - e.offset} of ${e.length}`);
      }
    });

    test('the pack cut short', () => {
      const { hashes, entries, pack, fresh } = stored([compressible(8192, 4), incompressible(4096, 5)]);
      for (const n of [0, entries[1]!.offset + 1, entries[1]!.offset + entries[1]!.length - 1]) {
        truncateSync(pack, n);
        assert.throws(() => fresh().get(hashes[1]!), corruptError(pack, /truncated|corrupt/), `cut to ${n} bytes`);
      }
    });

    test('an unknown encoding byte', () => {
      const { hashes, entries, pack, fresh } = stored([compressible(4096, 5)]);
      for (const enc of [3, 0x80, 0xff]) {
        const bad = readFileSync(pack);
        bad[entries[0]!.offset] = enc;
        writeFileSync(pack, bad);
        assert.throws(() => fresh().get(hashes[0]!), corruptError(pack, /corrupt/), `encoding ${enc}`);
      }
    });

    test('bytes that are not the chunk its hash names (stored whole, with their own crc)', () => {
      const dir = join(freshDir(), 'packs');
      mkdirSync(dir);
      const data = compressible(4096, 6);
      writeHandMadePack(dir, '9', [data], [Buffer.concat([Buffer.of(0), compressible(4096, 9)])]);
      assert.throws(() => new ChunkStore(dir).get(sha(data)), corruptError(join(dir, '9.pack'), /corrupt/));
    });
  });

  test('a damaged or missing index fails only the chunks of its pack', () => {
    for (const harm of [(idx: string) => truncateSync(idx, 20), (idx: string) => writeFileSync(idx, 'x'), (idx: string) => rmSync(idx)]) {
      const dir = join(freshDir(), 'packs');
      const [a] = putPack(new ChunkStore(dir), '1', [compressible(4096, 1)]) as [Buffer];
      const [b] = putPack(new ChunkStore(dir), '2', [compressible(4096, 2)]) as [Buffer];
      harm(join(dir, '2.idx'));
      const store = new ChunkStore(dir);
      assert.deepEqual(store.get(a), compressible(4096, 1));
      store.verify([a.toString('hex')]);
      for (const use of [() => store.get(b), () => store.verify([a.toString('hex'), b.toString('hex')])]) {
        assert.throws(use, (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_CORRUPT' && e.message.includes(b.toString('hex')) && e.message.includes(join(dir, '2.')));
      }
    }
  });

  test('verify finds a damaged chunk by its checksum, without reading it whole', () => {
    const dir = join(freshDir(), 'packs');
    const [a, b] = putPack(new ChunkStore(dir), '1', [compressible(4096, 1), incompressible(4096, 2)]) as [Buffer, Buffer];
    const e = indexOf(dir, '1')[1]!;
    const bytes = readFileSync(join(dir, '1.pack'));
    bytes[e.offset + 100]! ^= 0x08;
    writeFileSync(join(dir, '1.pack'), bytes);
    new ChunkStore(dir).verify([a.toString('hex')]);
    assert.throws(() => new ChunkStore(dir).verify([b.toString('hex')]), corruptError(join(dir, '1.pack'), /checksum/));
  });

  test('collect removes the packs none of whose chunks is listed, whole, and keeps the others whole', () => {
    const dir = join(freshDir(), 'packs');
    const store = new ChunkStore(dir);
    const [a, b, c, d, e] = [compressible(4096, 1), incompressible(4096, 2), compressible(4096, 3), incompressible(4096, 4), compressible(100, 5)] as [Buffer, Buffer, Buffer, Buffer, Buffer];
    putPack(store, '10', [a, b]);
    putPack(store, '20', [c, d]);
    putPack(store, '30', [e]);
    assert.equal(store.collect(new Set([hex(a)])), 2);
    assert.deepEqual(filesUnder(dir), ['10.idx', '10.pack']);
    assert.deepEqual(store.get(sha(a)), a);
    assert.deepEqual(store.get(sha(b)), b, 'a pack with a live chunk stays whole');
    for (const x of [c, d, e]) assert.throws(() => store.get(sha(x)), (err: unknown) => err instanceof TsrrError && err.code === 'CHECKPOINT_CORRUPT');
    assert.equal(store.collect(new Set([hex(b)])), 0, 'nothing more to collect');
    assert.equal(store.collect(new Set()), 1);
    assert.deepEqual(filesUnder(dir), []);
  });

  test('collect removes leftovers of interrupted writes', () => {
    const dir = join(freshDir(), 'packs');
    const store = new ChunkStore(dir);
    const a = compressible(4096, 1);
    putPack(store, '10', [a]);
    writeFileSync(join(dir, '.20.pack.tmp-12345'), Buffer.alloc(100, 1));
    writeFileSync(join(dir, '.20.idx.tmp-12345'), Buffer.alloc(10, 1));
    assert.deepEqual(new ChunkStore(dir).packs(), ['10'], 'leftovers are not packs');
    new ChunkStore(dir).collect(new Set([hex(a)]));
    assert.deepEqual(filesUnder(dir), ['10.idx', '10.pack']);
  });

  test('collect of a store that was never written is a no-op', () => {
    assert.equal(new ChunkStore(join(freshDir(), 'nothing')).collect(new Set()), 0);
  });

  test('a chunk collected and then put again is stored again', () => {
    const store = new ChunkStore(join(freshDir(), 'packs'));
    const data = compressible(4096, 11);
    putPack(store, '1', [data]);
    assert.equal(store.collect(new Set()), 1);
    putPack(store, '2', [data]);
    assert.deepEqual(store.get(sha(data)), data, 'put after collect must write the chunk again');
    assert.deepEqual(new ChunkStore(store.dir).get(sha(data)), data);
  });
});

/** Writes pack `name` with the given stored bodies of `datas`, and its index, by hand. */
function writeHandMadePack(dir: string, name: string, datas: Buffer[], bodies: Buffer[]): void {
  const entries: Buffer[] = [];
  let offset = 0;
  datas.forEach((d, i) => {
    const e = Buffer.alloc(ENTRY);
    sha(d).copy(e, 0);
    e.writeBigUInt64LE(BigInt(offset), 32);
    e.writeUInt32LE(bodies[i]!.length, 40);
    e.writeUInt32LE(crc32(bodies[i]!), 44);
    entries.push(e);
    offset += bodies[i]!.length;
  });
  writeFileSync(join(dir, `${name}.pack`), Buffer.concat(bodies));
  writeFileSync(join(dir, `${name}.idx`), framed(INDEX_MAGIC, entries.length, Buffer.concat(entries)));
}

// ---------------------------------------------------------------------------------------------
// CheckpointStore.

const UUID = '11111111-2222-4333-8444-555555555555';

function manifestAt(frame: number, over: Partial<Manifest> = {}): Manifest {
  return { formatVersion: PCP_FORMAT_VERSION, traceUuid: UUID, frame, createdNs: BigInt(frame) * 1000n, needs: [{ section: 'trace', kind: 'core/trace-position', version: 1, plugin: 'pcp' }], memoryBytes: 0n, storedBytes: 0n, partWay: false, ...over };
}

function stateAt(frame: number): State {
  const trace = [{ kind: 'core/trace-position', version: 1, payload: encodePayload(TracePositionPayload, (p) => (p.frame = BigInt(frame))) }];
  const none = { mappings: [], fileMonitors: [], syscallBuffers: [], tasks: [] };
  return { processes: [{ tgid: 7, executable: 'files/0-prog', threads: [], limits: [], sections: none }], sections: { trace, extensions: [] } };
}

/** Writes a checkpoint at `frame` whose memory is `chunks` (put into a pack of its own first,
 * as a capture does). */
function writeWith(store: CheckpointStore, frame: number, chunks: Buffer[]) {
  store.chunks.begin(String(frame));
  const used = new Set(chunks.map((c) => store.chunks.put(c).toString('hex')));
  store.chunks.commit();
  return store.write(manifestAt(frame), stateAt(frame), used);
}

describe('CheckpointStore', () => {
  test('a store of a trace without checkpoints lists none', () => {
    const store = new CheckpointStore(freshDir());
    assert.equal(store.dir, join(store.traceDir, 'checkpoints'));
    assert.deepEqual(store.list(), []);
    assert.deepEqual(store.remove(), []);
  });

  test('write makes FRAME/{manifest,state,chunks} that read back, and leaves nothing temporary', () => {
    const trace = freshDir();
    const store = new CheckpointStore(trace);
    const a = compressible(4096, 1);
    const b = incompressible(4096, 2);
    const cp = writeWith(store, 40, [a, b]);
    assert.deepEqual(cp, { frame: 40, dir: join(trace, 'checkpoints', '40') });
    assert.deepEqual(readdirSync(cp.dir).sort(), ['chunks', 'manifest', 'state']);
    const { chunkList, ...manifest } = store.manifest(cp);
    assert.deepEqual(manifest, manifestAt(40));
    assert.deepEqual(chunkList, createHash('sha256').update(readFileSync(join(cp.dir, 'chunks'))).digest());
    const state = store.state(cp);
    assert.equal(state.processes[0]!.executable, 'files/0-prog');
    assert.equal(decodePayload(TracePositionPayload, state.sections.trace[0]!.payload).frame, 40n);
    assert.deepEqual(readFileSync(join(cp.dir, 'chunks'), 'utf8').split('\n').sort(), [hex(a), hex(b)].sort());
    assert.deepEqual(readdirSync(store.dir).sort(), ['40', 'lock', basename(store.chunks.dir)]);
    assert.equal(store.size(cp), ['manifest', 'state', 'chunks'].reduce((n, f) => n + statSync(join(cp.dir, f)).size, 0));
  });

  test('a chunk list that lost or gained a whole line is damaged (its manifest has its hash)', () => {
    const store = new CheckpointStore(freshDir());
    const cp = writeWith(store, 40, [compressible(4096, 1), incompressible(4096, 2)]);
    const file = join(cp.dir, 'chunks');
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(store.usedChunks(cp).length, 2);
    for (const changed of [lines.slice(1), [...lines, lines[0]!]]) {
      writeFileSync(file, changed.join('\n'));
      assert.throws(() => store.usedChunks(cp), (e: TsrrError) => e.code === 'CHECKPOINT_CORRUPT' && /chunks is corrupt: it does not match its hash in the manifest/.test(e.message));
    }
  });

  test('a checkpoint with no chunks', () => {
    const store = new CheckpointStore(freshDir());
    const cp = writeWith(store, 1, []);
    assert.equal(readFileSync(join(cp.dir, 'chunks'), 'utf8'), '');
    assert.deepEqual(store.list(), [cp]);
    assert.deepEqual(store.remove(), [1]);
    assert.deepEqual(store.list(), []);
  });

  test('list is in frame order (numeric, not by name)', () => {
    const store = new CheckpointStore(freshDir());
    for (const f of [100, 9, 20, 1000, 3]) writeWith(store, f, [compressible(64, f)]);
    assert.deepEqual(
      store.list().map((c) => c.frame),
      [3, 9, 20, 100, 1000],
    );
    assert.deepEqual(
      store.list().map((c) => c.dir),
      [3, 9, 20, 100, 1000].map((f) => join(store.dir, String(f))),
    );
  });

  test('only complete checkpoints are listed: not .tmp-* (a write interrupted), not a directory without a manifest, not other names', () => {
    const store = new CheckpointStore(freshDir());
    writeWith(store, 10, [compressible(64)]);
    const tmp = join(store.dir, '.tmp-123-456');
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'chunks'), '');
    writeFileSync(join(tmp, 'state'), 'half');
    writeFileSync(join(tmp, 'manifest'), 'half');
    mkdirSync(join(store.dir, '20'));
    writeFileSync(join(store.dir, '20', 'state'), 'no manifest yet');
    mkdirSync(join(store.dir, 'notes'));
    writeFileSync(join(store.dir, 'notes', 'manifest'), '');
    writeFileSync(join(store.dir, '30'), 'a file, not a directory');
    mkdirSync(join(store.dir, '-5'));
    writeFileSync(join(store.dir, '-5', 'manifest'), '');
    assert.deepEqual(store.list(), [{ frame: 10, dir: join(store.dir, '10') }]);
  });

  test('write replaces a checkpoint at the same frame, and a leftover temporary directory of it', () => {
    const store = new CheckpointStore(freshDir());
    writeWith(store, 50, [compressible(64, 1)]);
    mkdirSync(join(store.dir, `.tmp-50-${process.pid}`));
    writeFileSync(join(store.dir, `.tmp-50-${process.pid}`, 'junk'), 'x');
    const cp = store.write(manifestAt(50, { memoryBytes: 777n }), stateAt(50), new Set([hex(compressible(64, 2))]));
    assert.deepEqual(store.list(), [cp]);
    assert.equal(store.manifest(cp).memoryBytes, 777n);
    assert.deepEqual(readdirSync(cp.dir).sort(), ['chunks', 'manifest', 'state']);
    assert.equal(readFileSync(join(cp.dir, 'chunks'), 'utf8'), hex(compressible(64, 2)));
    assert.ok(!readdirSync(store.dir).some((n) => n.startsWith('.tmp-')), 'no temporary directory left');
  });

  test('remove with frames removes those only and returns them; unknown frames are ignored', () => {
    const store = new CheckpointStore(freshDir());
    for (const f of [10, 20, 30]) writeWith(store, f, [compressible(64, f)]);
    assert.deepEqual(store.remove([20, 999]), [20]);
    assert.deepEqual(
      store.list().map((c) => c.frame),
      [10, 30],
    );
    assert.ok(!existsSync(join(store.dir, '20')));
    assert.deepEqual(store.remove([999]), []);
    assert.deepEqual(store.remove(), [10, 30]);
    assert.deepEqual(store.list(), []);
  });

  test('remove collects the packs none of whose chunks a remaining checkpoint lists', () => {
    const store = new CheckpointStore(freshDir());
    const [x, y, z, w] = [compressible(4096, 1), incompressible(4096, 2), compressible(4096, 3), incompressible(4096, 4)] as [Buffer, Buffer, Buffer, Buffer];
    writeWith(store, 10, [x, y]); // pack 10: x, y
    writeWith(store, 20, [y, z]); // pack 20: z (y is in pack 10 already)
    writeWith(store, 30, [z, w]); // pack 30: w
    const packs = () => new ChunkStore(store.chunks.dir).packs().sort();
    assert.deepEqual(packs(), ['10', '20', '30']);
    assert.deepEqual(indexOf(store.chunks.dir, '20').map((e) => e.hex), [hex(z)]);
    assert.deepEqual(store.remove([10]), [10]);
    assert.deepEqual(packs(), ['10', '20', '30'], 'pack 10 holds y, which 20 uses: it stays whole');
    assert.deepEqual(store.chunks.get(sha(y)), y);
    assert.deepEqual(store.remove([20]), [20]);
    assert.deepEqual(packs(), ['20', '30'], 'nothing left uses x or y; 30 uses z of pack 20');
    for (const d of [z, w]) assert.deepEqual(new CheckpointStore(store.traceDir).chunks.get(sha(d)), d);
    for (const d of [x, y]) assert.throws(() => new CheckpointStore(store.traceDir).chunks.get(sha(d)), (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_CORRUPT');
    assert.deepEqual(store.remove(), [30]);
    assert.deepEqual(filesUnder(store.chunks.dir), []);
  });

  test('remove also collects packs nothing ever listed, and leftovers of interrupted pack writes', () => {
    const store = new CheckpointStore(freshDir());
    const used = compressible(4096, 1);
    writeWith(store, 10, [used]);
    store.chunks.begin('orphan');
    store.chunks.put(incompressible(4096, 2));
    store.chunks.commit();
    store.chunks.begin('interrupted');
    store.chunks.put(incompressible(4096, 3));
    // (never committed: a crash here leaves a temporary pack)
    assert.deepEqual(new CheckpointStore(store.traceDir).remove([999]), []);
    assert.deepEqual(filesUnder(store.chunks.dir), ['10.idx', '10.pack']);
  });

  test('remove removes leftover temporary directories', () => {
    const store = new CheckpointStore(freshDir());
    writeWith(store, 10, [compressible(64)]);
    for (const name of ['.tmp-123-456', `.tmp-10-${process.pid}`]) {
      mkdirSync(join(store.dir, name));
      writeFileSync(join(store.dir, name, 'manifest'), 'half');
    }
    assert.deepEqual(store.remove([999]), []);
    assert.deepEqual(readdirSync(store.dir).sort(), ['10', 'lock', basename(store.chunks.dir)]);
    assert.deepEqual(store.remove(), [10]);
    assert.ok(!readdirSync(store.dir).some((n) => n.startsWith('.tmp-')));
  });

  test('verify checks the chunks a checkpoint lists; a damaged list is corrupt', () => {
    const store = new CheckpointStore(freshDir());
    const cp = writeWith(store, 10, [compressible(4096, 1), incompressible(4096, 2)]);
    store.verify(cp);
    const list = join(cp.dir, 'chunks');
    const good = readFileSync(list, 'latin1');
    writeFileSync(list, good.slice(0, 40));
    assert.throws(() => store.verify(cp), corruptError(list, /does not match its hash in the manifest/));
    writeFileSync(list, good.replace(/^[0-9a-f]/, (c) => (c === '0' ? '1' : '0')));
    assert.throws(() => store.verify(cp), corruptError(list, /does not match its hash in the manifest/));
    rmSync(list);
    assert.throws(() => store.verify(cp), corruptError(list, /missing/));
  });

  test('the next writer removes the leftovers of writers that are gone, whatever their pid', () => {
    const store = new CheckpointStore(freshDir());
    writeWith(store, 10, [compressible(64, 1)]);
    mkdirSync(join(store.dir, '.tmp-20-123'));
    writeFileSync(join(store.dir, '.tmp-20-123', 'state'), 'half');
    writeFileSync(join(store.chunks.dir, '.20-ab.pack.tmp-123'), 'half');
    writeWith(store, 30, [compressible(64, 3)]);
    assert.deepEqual(readdirSync(store.dir).sort(), ['10', '30', 'lock', basename(store.chunks.dir)]);
    assert.ok(!readdirSync(store.chunks.dir).some((n) => n.startsWith('.')), 'a temporary pack is left');
  });

  test('a writer waits for another process holding the lock, which SIGKILL releases', async () => {
    const store = new CheckpointStore(freshDir());
    writeWith(store, 10, [compressible(64, 1)]);
    const lock = fileURLToPath(new URL('../../plugins/pcp/checkpointLock.js', import.meta.url));
    // It holds the lock until it kills itself.
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `
      import { withCheckpointLock } from ${JSON.stringify(lock)};
      withCheckpointLock(${JSON.stringify(join(store.dir, 'lock'))}, true, () => {
        process.stdout.write('locked\\n');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
        process.kill(process.pid, 'SIGKILL');
      });`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [first] = (await once(holder.stdout!, 'data')) as [Buffer];
    assert.equal(first.toString(), 'locked\n');
    assert.deepEqual(store.remove(), [10]);
    // remove() blocked this process until then: the holder is dead, not reaped yet.
    const stat = `/proc/${holder.pid}/stat`;
    assert.ok(!existsSync(stat) || readFileSync(stat, 'latin1').split(') ')[1]!.startsWith('Z'), 'remove did not wait for the holder');
    const [, signal] = (await once(holder, 'exit')) as [number | null, string | null];
    assert.equal(signal, 'SIGKILL');
  });

  test('a damaged manifest or state is refused as corrupt, naming the file', () => {
    const store = new CheckpointStore(freshDir());
    const cp = writeWith(store, 10, []);
    const manifest = join(cp.dir, 'manifest');
    const state = join(cp.dir, 'state');
    truncateSync(manifest, statSync(manifest).size - 1);
    assert.throws(() => store.manifest(cp), corruptError(manifest, /truncated/));
    const bytes = readFileSync(state);
    bytes[bytes.length - 3]! ^= 0x20;
    writeFileSync(state, bytes);
    assert.throws(() => store.state(cp), corruptError(state, /checksum/));
  });
});
