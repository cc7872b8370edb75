// SPDX-License-Identifier: MIT
/**
 * Where persistent checkpoints are kept: the committed v1 files in test/fixtures/pcp-format/
 * still read as what was written (a format change that breaks old checkpoints fails here);
 * ChunkStore stores each distinct chunk once, compressed when that helps, and refuses missing
 * or damaged chunks; CheckpointStore writes atomically, lists in frame order, and removing
 * checkpoints collects the chunks no remaining one uses.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { TsrrError } from '../../core/TsrrError.js';
import { zstdAvailable, zstdDecompress } from '../../native/zstd.js';
import { CheckpointStore } from '../../plugins/pcp/CheckpointStore.js';
import { ChunkStore } from '../../plugins/pcp/ChunkStore.js';
import { PCP_FORMAT_VERSION, decodePayload, encodePayload, readManifest, readState, type Manifest, type State } from '../../plugins/pcp/checkpointFormat.js';
import { SECTIONS } from '../../plugins/pcp/PcpRegistry.js';
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
    } satisfies Manifest);
    assert.ok(PCP_FORMAT_VERSION >= 1, 'this tsrr must still read format version 1');
  });

  test('the state reads as written, and its payloads decode', () => {
    const s = readState(join(v1, 'state'));
    assert.equal(s.executable, 'files/0-prog');
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

  const chunkCases: { encoding: number; name: string; data: Buffer; needsZstd?: boolean }[] = [
    { encoding: 0, name: 'raw', data: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
    { encoding: 1, name: 'deflate-raw', data: Buffer.from('pcp!'.repeat(1024)) },
    { encoding: 2, name: 'zstd', data: Buffer.from(Array.from({ length: 8192 }, (_, i) => (i >> 4) & 255)), needsZstd: true },
  ];
  for (const c of chunkCases) {
    test(`the ${c.name} chunk reads as written`, { skip: c.needsZstd && !zstdAvailable ? 'libzstd is not installed' : false }, () => {
      const h = sha(c.data);
      const file = join(v1, 'chunks', h.toString('hex').slice(0, 2), h.toString('hex'));
      assert.equal(readFileSync(file)[0], c.encoding, 'the fixture has the header byte of its encoding');
      assert.deepEqual(new ChunkStore(join(v1, 'chunks')).get(h), c.data);
    });
  }

  test('the fixture directory holds exactly these files', () => {
    assert.deepEqual(
      filesUnder(v1),
      ['manifest', 'state', ...chunkCases.map((c) => hex(c.data)).map((h) => join('chunks', h.slice(0, 2), h))].sort(),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// ChunkStore.

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

describe('ChunkStore', () => {
  test('put names a chunk by its sha256, under its first two hex digits', () => {
    const store = new ChunkStore(join(freshDir(), 'chunks'));
    const data = compressible(65536);
    const h = store.put(data);
    assert.deepEqual(h, sha(data));
    assert.deepEqual(filesUnder(store.dir), [join(hex(data).slice(0, 2), hex(data))]);
  });

  test('put dedupes: the same bytes are stored once, in this store and in another one on the same directory', () => {
    const dir = join(freshDir(), 'chunks');
    const store = new ChunkStore(dir);
    const a = compressible(65536);
    const b = incompressible(65536);
    store.put(a);
    const afterA = store.storedBytes;
    assert.ok(afterA > 0);
    assert.deepEqual(store.put(Buffer.from(a)), sha(a));
    assert.equal(store.storedBytes, afterA, 'the same bytes again are not written again');
    store.put(b);
    assert.ok(store.storedBytes > afterA);
    assert.equal(filesUnder(dir).length, 2);
    const mtime = statSync(join(dir, hex(a).slice(0, 2), hex(a))).mtimeMs;
    const again = new ChunkStore(dir);
    assert.deepEqual(again.put(Buffer.from(a)), sha(a));
    assert.deepEqual(again.put(Buffer.from(b)), sha(b));
    assert.equal(again.storedBytes, 0, 'a chunk already on disk is not written again');
    assert.equal(statSync(join(dir, hex(a).slice(0, 2), hex(a))).mtimeMs, mtime);
    assert.equal(filesUnder(dir).length, 2);
    assert.ok(!filesUnder(dir).some((f) => f.includes('.tmp-')), 'no temporary file left');
  });

  test('put stores compressed data compressed (zstd, or deflate-raw without libzstd)', () => {
    const store = new ChunkStore(join(freshDir(), 'chunks'));
    const data = compressible(65536);
    const h = store.put(data);
    const body = readFileSync(join(store.dir, h.toString('hex').slice(0, 2), h.toString('hex')));
    assert.ok(body.length < data.length / 4, `${body.length} bytes stored for ${data.length} compressible ones`);
    assert.equal(store.storedBytes, body.length);
    if (zstdAvailable) {
      assert.equal(body[0], 2);
      assert.deepEqual(zstdDecompress(body.subarray(1)), data);
    } else {
      assert.equal(body[0], 1);
      assert.deepEqual(inflateRawSync(body.subarray(1)), data);
    }
    assert.deepEqual(store.get(h), data);
  });

  test('put stores incompressible data raw', () => {
    const store = new ChunkStore(join(freshDir(), 'chunks'));
    for (const n of [1, 100, 4096, 65536]) {
      const data = incompressible(n, n);
      const h = store.put(data);
      const body = readFileSync(join(store.dir, h.toString('hex').slice(0, 2), h.toString('hex')));
      assert.deepEqual(body, Buffer.concat([Buffer.of(0), data]), `${n} bytes`);
      assert.deepEqual(store.get(h), data);
    }
  });

  test('an empty chunk round-trips', () => {
    const store = new ChunkStore(join(freshDir(), 'chunks'));
    const h = store.put(Buffer.alloc(0));
    assert.deepEqual(h, sha(Buffer.alloc(0)));
    assert.deepEqual(store.get(h), Buffer.alloc(0));
  });

  test('get reads every encoding, whatever put would choose', () => {
    const store = new ChunkStore(join(freshDir(), 'chunks'));
    const data = compressible(16384, 7);
    const h = sha(data);
    const file = join(store.dir, h.toString('hex').slice(0, 2), h.toString('hex'));
    mkdirSync(join(store.dir, h.toString('hex').slice(0, 2)), { recursive: true });
    writeFileSync(file, Buffer.concat([Buffer.of(0), data]));
    assert.deepEqual(store.get(h), data);
    writeFileSync(file, Buffer.concat([Buffer.of(1), deflateRawSync(data)]));
    assert.deepEqual(store.get(h), data);
  });

  describe('get refuses a missing or damaged chunk with CHECKPOINT_CORRUPT naming its file', () => {
    function stored(data: Buffer) {
      const store = new ChunkStore(join(freshDir(), 'chunks'));
      const h = store.put(data);
      const file = join(store.dir, h.toString('hex').slice(0, 2), h.toString('hex'));
      return { store, h, file, body: readFileSync(file) };
    }

    test('missing', () => {
      const { store, h, file } = stored(compressible(4096));
      rmSync(file);
      assert.throws(() => store.get(h), corruptError(file, /missing/));
      const never = sha('never stored');
      assert.throws(() => new ChunkStore(join(freshDir(), 'nothing')).get(never), (e: unknown) => e instanceof TsrrError && e.code === 'CHECKPOINT_CORRUPT' && e.message.includes(never.toString('hex')));
    });

    test('a bit flipped in a raw chunk', () => {
      const { store, h, file, body } = stored(incompressible(4096));
      assert.equal(body[0], 0);
      body[2000]! ^= 0x01;
      writeFileSync(file, body);
      assert.throws(() => store.get(h), corruptError(file, /corrupt/));
    });

    test('every single bit flip in the payload of a compressed chunk', () => {
      const { store, h, file, body } = stored(compressible(8192, 3));
      assert.notEqual(body[0], 0);
      for (let at = 1; at < body.length; at++) {
        const bad = Buffer.from(body);
        bad[at]! ^= 1 << (at % 8);
        writeFileSync(file, bad);
        assert.throws(() => store.get(h), corruptError(file, /corrupt/), `flip at byte ${at} of ${body.length}`);
      }
    });

    test('a compressed chunk cut short', () => {
      const { store, h, file, body } = stored(compressible(8192, 4));
      for (const n of [1, 2, Math.floor(body.length / 2), body.length - 1]) {
        writeFileSync(file, body.subarray(0, n));
        assert.throws(() => store.get(h), corruptError(file, /corrupt/), `cut to ${n} of ${body.length} bytes`);
      }
    });

    test('an empty file, and an unknown encoding byte', () => {
      const { store, h, file, body } = stored(compressible(4096, 5));
      writeFileSync(file, Buffer.alloc(0));
      assert.throws(() => store.get(h), corruptError(file, /corrupt/));
      for (const enc of [3, 0x80, 0xff]) {
        const bad = Buffer.from(body);
        bad[0] = enc;
        writeFileSync(file, bad);
        assert.throws(() => store.get(h), corruptError(file, /corrupt/), `encoding ${enc}`);
      }
    });

    test('another chunk under this name', () => {
      const { store, h, file } = stored(compressible(4096, 6));
      writeFileSync(file, Buffer.concat([Buffer.of(0), compressible(4096, 9)]));
      assert.throws(() => store.get(h), corruptError(file, /do not match/));
    });
  });

  test('collect removes the chunks not listed, and keeps those listed', () => {
    const store = new ChunkStore(join(freshDir(), 'chunks'));
    const keep = [compressible(4096, 1), incompressible(4096, 2)];
    const drop = [compressible(4096, 3), incompressible(4096, 4), compressible(100, 5)];
    for (const d of [...keep, ...drop]) store.put(d);
    assert.equal(filesUnder(store.dir).length, 5);
    assert.equal(store.collect(new Set(keep.map((d) => hex(d)))), drop.length);
    assert.deepEqual(filesUnder(store.dir), keep.map((d) => hex(d)).map((h) => join(h.slice(0, 2), h)).sort());
    for (const d of keep) assert.deepEqual(store.get(sha(d)), d);
    for (const d of drop) assert.throws(() => store.get(sha(d)), /missing/);
    assert.equal(store.collect(new Set(keep.map((d) => hex(d)))), 0, 'nothing more to collect');
    assert.equal(store.collect(new Set()), keep.length);
    assert.deepEqual(filesUnder(store.dir), []);
  });

  test('collect of a store that was never written is a no-op', () => {
    assert.equal(new ChunkStore(join(freshDir(), 'nothing')).collect(new Set()), 0);
  });

  test('a chunk collected and then put again is stored again', () => {
    const store = new ChunkStore(join(freshDir(), 'chunks'));
    const data = compressible(4096, 11);
    store.put(data);
    assert.equal(store.collect(new Set()), 1);
    store.put(data);
    assert.deepEqual(store.get(sha(data)), data, 'put after collect must write the chunk again');
  });
});

// ---------------------------------------------------------------------------------------------
// CheckpointStore.

const UUID = '11111111-2222-4333-8444-555555555555';

function manifestAt(frame: number, over: Partial<Manifest> = {}): Manifest {
  return { formatVersion: PCP_FORMAT_VERSION, traceUuid: UUID, frame, createdNs: BigInt(frame) * 1000n, needs: [{ section: 'trace', kind: 'core/trace-position', version: 1, plugin: 'pcp' }], memoryBytes: 0n, storedBytes: 0n, ...over };
}

function stateAt(frame: number): State {
  const sections = Object.fromEntries(SECTIONS.map((s) => [s, []])) as unknown as State['sections'];
  sections.trace = [{ kind: 'core/trace-position', version: 1, payload: encodePayload(TracePositionPayload, (p) => (p.frame = BigInt(frame))) }];
  return { executable: 'files/0-prog', sections };
}

/** Writes a checkpoint at `frame` whose memory is `chunks` (put into the store first). */
function writeWith(store: CheckpointStore, frame: number, chunks: Buffer[]) {
  const used = new Set(chunks.map((c) => store.chunks.put(c).toString('hex')));
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
    assert.deepEqual(store.manifest(cp), manifestAt(40));
    const state = store.state(cp);
    assert.equal(state.executable, 'files/0-prog');
    assert.equal(decodePayload(TracePositionPayload, state.sections.trace[0]!.payload).frame, 40n);
    assert.deepEqual(readFileSync(join(cp.dir, 'chunks'), 'utf8').split('\n').sort(), [hex(a), hex(b)].sort());
    assert.deepEqual(readdirSync(store.dir).sort(), ['40', 'chunks']);
    assert.equal(store.size(cp), ['manifest', 'state', 'chunks'].reduce((n, f) => n + statSync(join(cp.dir, f)).size, 0));
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

  test('remove collects the chunks no remaining checkpoint lists', () => {
    const store = new CheckpointStore(freshDir());
    const [x, y, z, w] = [compressible(4096, 1), incompressible(4096, 2), compressible(4096, 3), incompressible(4096, 4)] as [Buffer, Buffer, Buffer, Buffer];
    writeWith(store, 10, [x, y]);
    writeWith(store, 20, [y, z]);
    writeWith(store, 30, [z, w]);
    const chunkFiles = (...ds: Buffer[]) => ds.map((d) => hex(d)).map((h) => join(h.slice(0, 2), h)).sort();
    assert.deepEqual(filesUnder(store.chunks.dir), chunkFiles(x, y, z, w));
    store.remove([10]);
    assert.deepEqual(filesUnder(store.chunks.dir), chunkFiles(y, z, w), 'x was only used at 10');
    store.remove([30]);
    assert.deepEqual(filesUnder(store.chunks.dir), chunkFiles(y, z), 'w was only used at 30');
    const left = store.list()[0]!;
    for (const d of [y, z]) assert.deepEqual(store.chunks.get(sha(d)), d);
    assert.equal(left.frame, 20);
    store.remove();
    assert.deepEqual(filesUnder(store.chunks.dir), []);
  });

  test('remove also collects chunks nothing ever listed (left by an interrupted write)', () => {
    const store = new CheckpointStore(freshDir());
    const used = compressible(4096, 1);
    writeWith(store, 10, [used]);
    const orphan = incompressible(4096, 2);
    store.chunks.put(orphan);
    assert.deepEqual(store.remove([999]), []);
    assert.deepEqual(filesUnder(store.chunks.dir), [join(hex(used).slice(0, 2), hex(used))]);
  });

  test('remove removes leftover temporary directories', () => {
    const store = new CheckpointStore(freshDir());
    writeWith(store, 10, [compressible(64)]);
    for (const name of ['.tmp-123-456', `.tmp-10-${process.pid}`]) {
      mkdirSync(join(store.dir, name));
      writeFileSync(join(store.dir, name, 'manifest'), 'half');
    }
    assert.deepEqual(store.remove([999]), []);
    assert.deepEqual(readdirSync(store.dir).sort(), ['10', 'chunks']);
    assert.deepEqual(store.remove(), [10]);
    assert.ok(!readdirSync(store.dir).some((n) => n.startsWith('.tmp-')));
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
