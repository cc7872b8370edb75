// SPDX-License-Identifier: MIT
/**
 * Memory contents of a trace's checkpoints, content-addressed: a chunk is named by the sha256
 * of its bytes, so a chunk that did not change since an earlier checkpoint is stored once.
 * The chunks a checkpoint adds go into one pack file (creating a file per chunk costs more than
 * writing it), compressed (zstd, or zlib where libzstd is missing) when that saves space, with
 * an index of where each chunk is. Packs and indexes are written under temporary names and
 * renamed; the index keeps a checksum of each stored chunk and reading checks the hash too, so
 * damage is found. A pack whose index is damaged fails only the checkpoints that use its chunks.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { TsrrError, framed, framedMessage, readPrefix } from '../../core/index.js';
import { zstdAvailable, zstdDecompress } from '../../native/zstd.js';
import { BATCH, CompressionPool, sha256 } from './CompressionPool.js';

export interface ChunkRef {
  readonly offset: bigint;
  readonly length: number;
  readonly hash: Buffer;
}

const RAW = 0;
const DEFLATED = 1;
const ZSTD = 2;
const INDEX_MAGIC = 0x58435054; // "TPCX"
const ENTRY = 32 + 8 + 4 + 4; // hash, offset in the pack, stored length, crc32 of what is stored

/** The chunk's bytes as stored: a header byte, then the data, compressed (`packed`) when that
 * saves a tenth or more. */
function stored(data: Buffer, packed: Buffer | undefined): Buffer {
  if (!packed || packed.length >= data.length * 0.9) return Buffer.concat([Buffer.of(RAW), data]);
  return Buffer.concat([Buffer.of(zstdAvailable ? ZSTD : DEFLATED), packed]);
}

function unpack(body: Buffer): Buffer {
  const data = body.subarray(1);
  if (body[0] === RAW) return data;
  if (body[0] === DEFLATED) return inflateRawSync(data);
  if (body[0] === ZSTD) return zstdDecompress(data);
  throw new Error(`unknown chunk encoding ${body[0]}`);
}

interface Location {
  pack: string;
  offset: number;
  length: number;
  crc: number;
}

export class ChunkStore {
  /** Bytes written to disk since this store was opened. */
  storedBytes = 0;
  private index?: Map<string, Location>;
  /** The packs whose index could not be read, with the error. */
  private readonly unreadable = new Map<string, TsrrError>();
  private writing?: { name: string; fd: number; size: number; entries: Buffer[] };

  constructor(readonly dir: string) {}

  /** Where every stored chunk is, from the packs' indexes. A pack whose index cannot be read
   * is left out (with why, in `unreadable`): only checkpoints that use its chunks fail. */
  private locations(): Map<string, Location> {
    if (this.index) return this.index;
    this.index = new Map();
    this.unreadable.clear();
    for (const name of this.packs()) {
      const file = join(this.dir, `${name}.idx`);
      const corrupt = (why: string) => new TsrrError('CHECKPOINT_CORRUPT', `checkpoint pack index ${file} is corrupt: ${why}`, { file });
      let body: Buffer;
      try {
        const buf = readFileSync(file);
        body = framedMessage(buf, INDEX_MAGIC, corrupt);
        if (body.length !== readPrefix(buf, 0).count * ENTRY) throw corrupt(`${body.length} bytes are not ${readPrefix(buf, 0).count} entries`);
      } catch (e) {
        this.unreadable.set(name, e instanceof TsrrError ? e : corrupt((e as Error).message));
        continue;
      }
      for (let at = 0; at < body.length; at += ENTRY) {
        const hex = body.subarray(at, at + 32).toString('hex');
        this.index.set(hex, { pack: name, offset: Number(body.readBigUInt64LE(at + 32)), length: body.readUInt32LE(at + 40), crc: body.readUInt32LE(at + 44) });
      }
    }
    return this.index;
  }

  /** Forgets what the indexes said, for when other processes may have changed the packs. */
  forget(): void {
    this.index = undefined;
  }

  /** Names of the complete packs. */
  packs(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.idx') && !f.startsWith('.'))
      .map((f) => f.slice(0, -4));
  }

  /** Starts a pack for the chunks of a new checkpoint. */
  begin(name: string): void {
    mkdirSync(this.dir, { recursive: true });
    this.locations();
    this.writing = { name, fd: openSync(this.tmpPack(name), 'w'), size: 0, entries: [] };
  }

  /** Stores `data` unless a chunk with the same bytes exists; returns its hash. */
  put(data: Buffer): Buffer {
    return this.putAll([data])[0]!;
  }

  /** put() of many chunks at once (each at most 64 KiB), hashed and compressed on two threads. */
  putAll(chunks: Buffer[]): Buffer[] {
    const w = this.writing;
    if (!w) throw new TsrrError('INTERNAL', 'ChunkStore.put outside begin/commit');
    const pool = (this.pool ??= new CompressionPool());
    const hashes: Buffer[] = [];
    for (let at = 0; at < chunks.length; at += 2 * BATCH) {
      const group = chunks.slice(at, at + 2 * BATCH);
      const groupHashes = pool.hash(group);
      hashes.push(...groupHashes);
      const fresh = new Map<string, Buffer>();
      groupHashes.forEach((h, i) => {
        const hex = h.toString('hex');
        if (!this.locations().has(hex)) fresh.set(hex, group[i]!);
      });
      const items = [...fresh];
      const packed = zstdAvailable ? pool.compress(items.map(([, d]) => d)) : items.map(([, d]) => deflateRawSync(d, { level: 1 }));
      const bodies = items.map(([, data], i) => stored(data, packed[i]));
      writeSync(w.fd, Buffer.concat(bodies));
      items.forEach(([hex], i) => this.record(w, hex, bodies[i]!));
    }
    return hashes;
  }

  private pool?: CompressionPool;

  /** Records where `body`, just written at the end of the pack, is. */
  private record(w: NonNullable<ChunkStore['writing']>, hex: string, body: Buffer): void {
    const crc = crc32(body);
    const entry = Buffer.alloc(ENTRY);
    entry.write(hex, 0, 'hex');
    entry.writeBigUInt64LE(BigInt(w.size), 32);
    entry.writeUInt32LE(body.length, 40);
    entry.writeUInt32LE(crc, 44);
    w.entries.push(entry);
    this.locations().set(hex, { pack: w.name, offset: w.size, length: body.length, crc });
    w.size += body.length;
    this.storedBytes += body.length;
  }

  /** Makes the pack begun last durable and visible. */
  commit(): void {
    const w = this.writing!;
    this.writing = undefined;
    this.pool?.close();
    this.pool = undefined;
    fsyncSync(w.fd);
    closeSync(w.fd);
    const base = join(this.dir, w.name);
    renameSync(this.tmpPack(w.name), `${base}.pack`);
    const idxTmp = join(this.dir, `.${w.name}.idx.tmp-${process.pid}`);
    const idx = openSync(idxTmp, 'w');
    writeSync(idx, framed(INDEX_MAGIC, w.entries.length, Buffer.concat(w.entries)));
    fsyncSync(idx);
    closeSync(idx);
    renameSync(idxTmp, `${base}.idx`);
  }

  /** Drops the pack begun last. */
  abort(): void {
    const w = this.writing!;
    this.writing = undefined;
    this.pool?.close();
    this.pool = undefined;
    closeSync(w.fd);
    rmSync(this.tmpPack(w.name), { force: true });
    this.forget(); // it listed the dropped chunks
  }

  private tmpPack(name: string): string {
    return join(this.dir, `.${name}.pack.tmp-${process.pid}`);
  }

  get(hash: Buffer): Buffer {
    const { body, corrupt } = this.storedBody(hash.toString('hex'));
    let data: Buffer;
    try {
      data = unpack(body);
    } catch (e) {
      throw corrupt((e as Error).message);
    }
    if (!sha256(data).equals(hash)) throw corrupt('the chunk does not match its hash');
    return data;
  }

  /** Checks that the chunks `hexes` are there as stored (their checksums), not reading them
   * whole: what a restore will find, found before it starts. */
  verify(hexes: Iterable<string>): void {
    for (const hex of hexes) this.storedBody(hex);
  }

  /** A chunk's bytes as stored, checked against the index's checksum (which finds damage
   * before it reaches the decompressor; the hash finds any other). */
  private storedBody(hex: string): { body: Buffer; corrupt: (why: string) => TsrrError } {
    const where = this.locations().get(hex);
    if (!where) throw this.nowhere(hex);
    const file = join(this.dir, `${where.pack}.pack`);
    const body = Buffer.alloc(where.length);
    if (readSync(this.packFd(file), body, 0, body.length, where.offset) !== body.length) {
      throw new TsrrError('CHECKPOINT_CORRUPT', `checkpoint pack ${file} is truncated`, { file });
    }
    const corrupt = (why: string) => new TsrrError('CHECKPOINT_CORRUPT', `checkpoint pack ${file} is corrupt at byte ${where.offset} (${why})`, { file });
    if (crc32(body) !== where.crc) throw corrupt('checksum mismatch');
    return { body, corrupt };
  }

  /** The error for a chunk no readable index lists, naming what may have held it: packs whose
   * index is damaged or gone. */
  private nowhere(hex: string): TsrrError {
    const suspects = [...this.unreadable.values()].map((e) => e.message);
    const indexed = new Set(this.packs());
    for (const f of existsSync(this.dir) ? readdirSync(this.dir) : []) {
      if (f.endsWith('.pack') && !f.startsWith('.') && !indexed.has(f.slice(0, -5))) suspects.push(`${join(this.dir, f)} has no index`);
    }
    const file = [...this.unreadable.values()][0]?.context.file;
    return new TsrrError('CHECKPOINT_CORRUPT', `checkpoint chunk ${hex} is in no pack of ${this.dir}${suspects.length > 0 ? ` (${suspects.join('; ')})` : ''}`, { chunk: hex, ...(file ? { file } : {}) });
  }

  private readonly fds = new Map<string, number>();

  private packFd(file: string): number {
    let fd = this.fds.get(file);
    if (fd === undefined) {
      try {
        fd = openSync(file, 'r');
      } catch {
        throw new TsrrError('CHECKPOINT_CORRUPT', `checkpoint pack ${file} is missing`, { file });
      }
      this.fds.set(file, fd);
    }
    return fd;
  }

  /** Closes the pack files reading opened. */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  /** Removes the packs none of whose chunks is in `live`, packs whose index is damaged or
   * gone, and leftovers of interrupted writes; returns how many packs went. A pack with any
   * live chunk stays whole. Only for the one writer (CheckpointStore.writing). */
  collect(live: Set<string>): number {
    if (!existsSync(this.dir)) return 0;
    this.forget();
    const used = new Set<string>();
    for (const [hex, where] of this.locations()) if (live.has(hex)) used.add(where.pack);
    let removed = 0;
    for (const name of this.packs()) {
      if (used.has(name)) continue;
      rmSync(join(this.dir, `${name}.idx`), { force: true });
      rmSync(join(this.dir, `${name}.pack`), { force: true });
      removed++;
    }
    const indexed = new Set(this.packs());
    for (const f of readdirSync(this.dir)) {
      if (f.endsWith('.pack') && !indexed.has(f.slice(0, -5))) rmSync(join(this.dir, f), { force: true });
    }
    this.removeLeftovers();
    this.forget();
    this.close();
    return removed;
  }

  /** Removes what interrupted writes left (files named .NAME.tmp-PID). Only for the one writer. */
  removeLeftovers(): void {
    if (!existsSync(this.dir)) return;
    for (const f of readdirSync(this.dir)) if (f.startsWith('.')) rmSync(join(this.dir, f), { force: true });
  }
}
