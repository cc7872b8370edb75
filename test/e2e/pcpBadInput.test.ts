// SPDX-License-Identifier: MIT
/**
 * Damaged persistent checkpoints must be handled cleanly: `replay -g` with the pcp plugin passes
 * over one it cannot use for an earlier one (or the beginning), saying why on one line `tsrr:
 * ...` that names the damaged file (or checkpoint) and what is wrong, and prints what was
 * recorded; with --strict-pcp it exits non-zero with that line instead. Never a stack trace or
 * "internal error", and no process left behind; the same replay with --ignore-pcp still works,
 * and so does one after `rm-checkpoints`. Damage to one pack's index fails only the checkpoints
 * that use chunks of that pack. Covers truncated and
 * bit-flipped manifests and states, missing and damaged chunks (raw, deflate-raw, zstd), newer
 * format and serializer versions, kinds nobody provides, a checkpoint of another trace, a
 * mapped file's copy missing, leftovers of interrupted writes, and bad create-checkpoints
 * arguments.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { PREFIX_BYTES, framed, readPrefix } from '../../core/traceFile.js';
import { CheckpointStore } from '../../plugins/pcp/CheckpointStore.js';
import { encodeManifest, encodeState, readManifest, readState } from '../../plugins/pcp/checkpointFormat.js';
import { decodeMapping, encodeMapping } from '../../plugins/pcp/serializers/mappings.js';
import { assertNoneLeft, assertRefused as refused, compile, countEvents, describeRun, freshDir, tsrr, type Run } from './helpers.js';

/** A refused replay must be done well within this; a hang is a failure. */
const FAST_MS = 20_000;
/** What `replay` prints before it restores a checkpoint: allowed before the one error line
 * (some damage, in memory chunks, is found only while restoring). */
const NOTICE = /^tsrr: starting from the checkpoint at event \d+$/;

const pcp = (args: string[], timeout = FAST_MS): Run => tsrr(['--plugin', 'pcp', ...args], { timeout, input: '' });

/** Any refusal here may come after the restore notice. */
const assertRefused = (what: string, r: Run, mentions: (string | RegExp)[]): string => refused(what, r, mentions, NOTICE);

function flipBit(file: string, at: number, bit = 0x10): void {
  const bytes = readFileSync(file);
  assert.ok(at >= 0 && at < bytes.length, `byte ${at} of ${file} (${bytes.length} bytes)`);
  bytes[at]! ^= bit;
  writeFileSync(file, bytes);
}

/** Where a chunk is stored: a file of its own (checkpoints/chunks/HH/HASH), or a range of a
 * pack (checkpoints/packs/NAME.pack, located through NAME.idx). */
interface ChunkLocation {
  file: string;
  offset: number;
  length: number;
  /** For a chunk in a pack: the pack's index, and the chunk's entry in it. */
  index?: { file: string; entry: number };
}

/** An index entry (schema/pcp.capnp): sha256, offset in the pack (u64), stored length (u32),
 * crc32 of the stored bytes (u32). */
const INDEX_ENTRY = 32 + 8 + 4 + 4;

function chunkLocations(trace: string): Map<string, ChunkLocation> {
  const out = new Map<string, ChunkLocation>();
  const packs = join(trace, 'checkpoints', 'packs');
  if (existsSync(packs)) {
    for (const f of readdirSync(packs).filter((n) => n.endsWith('.idx') && !n.startsWith('.'))) {
      const idx = readFileSync(join(packs, f));
      const body = idx.subarray(PREFIX_BYTES, PREFIX_BYTES + readPrefix(idx, 0).length);
      for (let at = 0, entry = 0; at < body.length; at += INDEX_ENTRY, entry++) {
        out.set(body.subarray(at, at + 32).toString('hex'), {
          file: join(packs, f.slice(0, -4) + '.pack'),
          offset: Number(body.readBigUInt64LE(at + 32)),
          length: body.readUInt32LE(at + 40),
          index: { file: join(packs, f), entry },
        });
      }
    }
  }
  const chunks = join(trace, 'checkpoints', 'chunks');
  if (existsSync(chunks)) {
    for (const sub of readdirSync(chunks)) {
      for (const name of readdirSync(join(chunks, sub))) {
        if (/^[0-9a-f]{64}$/.test(name)) out.set(name, { file: join(chunks, sub, name), offset: 0, length: statSync(join(chunks, sub, name)).size });
      }
    }
  }
  return out;
}

/** Stores `body` (header byte and data) as the chunk `hex`, in place of what is there. */
function rewriteChunk(trace: string, hex: string, body: Buffer): ChunkLocation {
  const loc = chunkLocations(trace).get(hex);
  assert.ok(loc, `chunk ${hex} not found`);
  if (!loc.index) {
    writeFileSync(loc.file, body);
    return { file: loc.file, offset: 0, length: body.length };
  }
  // Append to the pack and point the index entry at it.
  const offset = statSync(loc.file).size;
  appendFileSync(loc.file, body);
  const idx = readFileSync(loc.index.file);
  const p = readPrefix(idx, 0);
  const entries = Buffer.from(idx.subarray(PREFIX_BYTES, PREFIX_BYTES + p.length));
  entries.writeBigUInt64LE(BigInt(offset), loc.index.entry * INDEX_ENTRY + 32);
  entries.writeUInt32LE(body.length, loc.index.entry * INDEX_ENTRY + 40);
  entries.writeUInt32LE(crc32(body), loc.index.entry * INDEX_ENTRY + 44);
  writeFileSync(loc.index.file, framed(p.magic, p.count, entries));
  return { ...loc, offset, length: body.length };
}

describe('damaged persistent checkpoints', () => {
  let good: string;
  let other: string;
  let frames: number;
  let otherFrames: number;
  let output: Buffer;
  let otherOutput: Buffer;
  let latest: number;

  before(() => {
    const program = compile('time');
    good = join(freshDir(), 'trace');
    const r = tsrr(['record', '-o', good, program], { timeout: 30_000 });
    assert.equal(r.status, 0, describeRun('record', r));
    output = r.stdout;
    assert.match(output.toString(), /^realtime .*\ngettimeofday .*\n$/s);
    frames = countEvents(good);
    assert.ok(frames > 25, `only ${frames} events recorded`);
    other = join(freshDir(), 'trace');
    const r2 = tsrr(['record', '-o', other, program], { timeout: 30_000 });
    assert.equal(r2.status, 0, describeRun('record (second trace)', r2));
    otherOutput = r2.stdout;
    otherFrames = countEvents(other);
    const c = pcp(['create-checkpoints', '-i', '10', good], 120_000);
    assert.equal(c.status, 0, describeRun('create-checkpoints', c));
    const list = new CheckpointStore(good).list();
    assert.ok(list.length >= 2, `only ${list.length} checkpoints created\n${c.stderr}`);
    latest = list.at(-1)!.frame;
    assert.ok(latest <= frames && latest <= otherFrames);
    // The undamaged trace replays from its latest checkpoint, with the recorded output.
    const ok = pcp(['replay', '-a', '-g', String(frames), good]);
    assert.equal(ok.status, 0, describeRun('replay -g LAST of the undamaged trace', ok));
    assert.match(ok.stderr, new RegExp(`^tsrr: starting from the checkpoint at event ${latest}$`, 'm'));
    assert.deepEqual(ok.stdout, output);
  });

  /** A fresh copy of the trace with its checkpoints. */
  function copyTrace(src = good): string {
    const dir = join(freshDir(), 'trace');
    cpSync(src, dir, { recursive: true });
    framesOf.set(dir, src === other ? otherFrames : frames);
    return dir;
  }
  const framesOf = new Map<string, number>();

  const cpDir = (dir: string, frame = latest) => join(dir, 'checkpoints', String(frame));
  /** The last event of the trace `dir` is a copy of. */
  const last = (dir: string) => String(framesOf.get(dir) ?? frames);

  /** Asserts a replay to the end works and prints what was recorded; `fromCheckpoint` says
   * whether it must have started from a checkpoint. */
  function assertReplays(what: string, dir: string, extra: string[], fromCheckpoint: boolean | undefined, expected = output): void {
    const r = pcp(['replay', '-a', '-g', last(dir), ...extra, dir]);
    assert.equal(r.status, 0, describeRun(what, r));
    assert.deepEqual(r.stdout, expected, `${what}: not the recorded output`);
    assert.doesNotMatch(r.stderr, /internal error|^\s+at /im, describeRun(what, r));
    if (fromCheckpoint !== undefined) assert.equal(NOTICE.test(r.stderr.split('\n')[0]!), fromCheckpoint, describeRun(what, r));
    assertNoneLeft([dir]);
  }

  /** Options of assertDamageHandled. */
  interface Damage {
    /** What the trace prints (default: the recording's output). */
    expected?: Buffer;
    /** When the damage is found: while checking the checkpoint, before any process exists
     * (default), or only while restoring it, which is then refused even without --strict-pcp. */
    found?: 'checking' | 'restoring';
    /** The event of the damaged checkpoint (default: the latest). */
    frame?: number;
  }

  /** With --strict-pcp the replay is refused naming `mentions`; without, it starts from an
   * earlier checkpoint or the beginning, saying why on one line that names them, and prints
   * what was recorded (damage found while restoring: it is refused, and works with
   * --ignore-pcp); after rm-checkpoints it works with pcp too. Returns the refusal. */
  function assertDamageHandled(dir: string, mentions: (string | RegExp)[], { expected = output, found = 'checking', frame = latest }: Damage = {}): string {
    const strict = pcp(['replay', '-a', '-g', last(dir), '--strict-pcp', dir]);
    const line = assertRefused(`replay -a -g ${last(dir)} --strict-pcp`, strict, mentions);
    assert.equal(strict.stdout.length, 0, `the refused replay printed on stdout:\n${strict.stdout}`);
    assertNoneLeft([dir]);
    if (found === 'checking') {
      assertFallsBack(dir, frame, mentions, expected);
    } else {
      const r = pcp(['replay', '-a', '-g', last(dir), dir]);
      assertRefused(`replay -a -g ${last(dir)} (damage found while restoring)`, r, mentions);
      assertNoneLeft([dir]);
      assertReplays('replay --ignore-pcp', dir, ['--ignore-pcp'], false, expected);
    }
    const rm = pcp(['rm-checkpoints', dir]);
    assert.equal(rm.status, 0, describeRun('rm-checkpoints', rm));
    assert.deepEqual(new CheckpointStore(dir).list(), []);
    const ls = pcp(['checkpoints', '--json', dir]);
    assert.equal(ls.status, 0, describeRun('checkpoints --json after rm-checkpoints', ls));
    assert.deepEqual(JSON.parse(ls.stdout.toString()), []);
    assertReplays('replay after rm-checkpoints', dir, [], false, expected);
    return line;
  }

  /** A replay with pcp to the end passes over the checkpoint at `frame` and prints what was
   * recorded; its first line says why, naming `mentions`, and where it started instead (the
   * event of that checkpoint, or undefined for the beginning). */
  function assertFallsBack(dir: string, frame: number, mentions: (string | RegExp)[], expected = output): number | undefined {
    const r = pcp(['replay', '-a', '-g', last(dir), dir]);
    const info = describeRun('replay passing over a damaged checkpoint', r);
    assert.equal(r.status, 0, info);
    assert.deepEqual(r.stdout, expected, `not the recorded output\n${info}`);
    assert.doesNotMatch(r.stderr, /internal error|^\s+at /im, info);
    const m = /^tsrr: the checkpoint at event (\d+) cannot be used \((.+)\)(; nor can \d+ earlier ones?)?; starting from (the checkpoint at event (\d+)|the beginning of the trace)$/.exec(r.stderr.split('\n')[0]!);
    assert.ok(m, `no line saying why the checkpoint cannot be used\n${info}`);
    assert.equal(Number(m[1]), frame, info);
    for (const x of mentions) {
      if (typeof x === 'string') assert.ok(m[2]!.includes(x), `the reason does not name ${JSON.stringify(x)}\n${info}`);
      else assert.match(m[2]!, x, info);
    }
    assert.equal(r.stderr.match(/starting from/g)?.length, 1, info);
    const from = m[5] === undefined ? undefined : Number(m[5]);
    if (from !== undefined) assert.ok(from < frame, info);
    assertNoneLeft([dir]);
    return from;
  }

  test('truncated manifest', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'manifest');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    assertDamageHandled(dir, [file, /truncated/]);
  });

  test('manifest cut inside its prefix', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'manifest');
    truncateSync(file, 5);
    assertDamageHandled(dir, [file, /corrupt/]);
  });

  test('empty manifest', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'manifest');
    writeFileSync(file, '');
    assertDamageHandled(dir, [file, /corrupt/]);
  });

  test('one bit flipped in the manifest', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'manifest');
    flipBit(file, PREFIX_BYTES + Math.floor((statSync(file).size - PREFIX_BYTES) / 2));
    assertDamageHandled(dir, [file, /corrupt/, /checksum/]);
  });

  test('one bit flipped in the manifest magic number', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'manifest');
    flipBit(file, 1);
    assertDamageHandled(dir, [file, /corrupt/]);
  });

  test('truncated state', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'state');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    assertDamageHandled(dir, [file, /truncated/]);
  });

  test('one bit flipped in the state', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'state');
    flipBit(file, PREFIX_BYTES + Math.floor((statSync(file).size - PREFIX_BYTES) / 2));
    assertDamageHandled(dir, [file, /corrupt/, /checksum/]);
  });

  test('state missing', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'state');
    rmSync(file);
    assertDamageHandled(dir, [file, /missing/]);
  });

  /** The chunks the latest checkpoint uses, largest first, with where each is stored. */
  function usedChunks(dir: string): [string, ChunkLocation][] {
    const used = readFileSync(join(cpDir(dir), 'chunks'), 'utf8').split('\n').filter(Boolean);
    assert.ok(used.length > 0, 'the latest checkpoint uses no chunks');
    const where = chunkLocations(dir);
    return used.map((h): [string, ChunkLocation] => {
      const loc = where.get(h);
      assert.ok(loc, `chunk ${h}, listed by the checkpoint, is stored nowhere`);
      return [h, loc];
    }).sort((a, b) => b[1].length - a[1].length);
  }

  test('the file holding a chunk deleted', () => {
    const dir = copyTrace();
    const [, loc] = usedChunks(dir)[0]!;
    rmSync(loc.file);
    assertDamageHandled(dir, [loc.file, /missing/]);
  });

  test('the index of a pack holding a chunk deleted', (t) => {
    const dir = copyTrace();
    const [, loc] = usedChunks(dir)[0]!;
    if (!loc.index) return t.skip('chunks are not stored in packs');
    rmSync(loc.index.file);
    // Which chunk of that pack is asked for first is the restore's business: any will do.
    const gone = [...chunkLocations(copyTrace()).entries()].filter(([, l]) => l.index?.file.endsWith(`/${loc.index!.file.split('/').pop()}`)).map(([h]) => h);
    const line = assertDamageHandled(dir, [join(dir, 'checkpoints', 'packs')]);
    assert.ok(gone.some((h) => line.includes(h)), `the message names none of the chunks of the pack whose index is gone\n${line}`);
  });

  test('one bit flipped in the index of a pack holding a chunk', (t) => {
    const dir = copyTrace();
    const [, loc] = usedChunks(dir)[0]!;
    if (!loc.index) return t.skip('chunks are not stored in packs');
    flipBit(loc.index.file, PREFIX_BYTES + loc.index.entry * INDEX_ENTRY + 40);
    assertDamageHandled(dir, [loc.index.file, /corrupt/]);
  });

  /** The packs whose chunks only the latest checkpoint uses, with the checkpoints' events. */
  function packsOfLatestOnly(dir: string): { packs: string[]; frames: number[] } {
    const store = new CheckpointStore(dir);
    const where = chunkLocations(dir);
    const packsOf = (frame: number) => new Set(store.usedChunks({ frame, dir: cpDir(dir, frame) }).map((h) => where.get(h)!.index!.file));
    const frames = store.list().map((c) => c.frame);
    const earlier = new Set(frames.filter((f) => f !== latest).flatMap((f) => [...packsOf(f)]));
    return { packs: [...packsOf(latest)].filter((p) => !earlier.has(p)), frames };
  }

  for (const [damage, harm] of [
    ['one bit flipped in', (idx: string) => flipBit(idx, PREFIX_BYTES + 5)],
    ['cut short', (idx: string) => truncateSync(idx, Math.floor(statSync(idx).size / 2))],
    ['deleted', (idx: string) => rmSync(idx)],
  ] as const) {
    test(`a pack index ${damage} fails only the checkpoints that use chunks of its pack`, (t) => {
      const dir = copyTrace();
      if (!usedChunks(dir)[0]![1].index) return t.skip('chunks are not stored in packs');
      const { packs, frames } = packsOfLatestOnly(dir);
      assert.ok(packs.length > 0, 'the latest checkpoint stored no chunk of its own');
      const previous = frames.at(-2)!;
      harm(packs[0]!);
      // The checkpoints before the latest restore as they did; the latest is passed over.
      const r = pcp(['replay', '-a', '--strict-pcp', '-g', String(previous + 1), dir]);
      assert.equal(r.status, 0, describeRun('replay from the checkpoint before the damaged one', r));
      assert.match(r.stderr, new RegExp(`^tsrr: starting from the checkpoint at event ${previous}$`, 'm'));
      assert.equal(assertFallsBack(dir, latest, [packs[0]!.replace(/\.idx$/, '')]), previous);
      assertRefused('replay --strict-pcp from the checkpoint using the damaged pack', pcp(['replay', '-a', '--strict-pcp', '-g', last(dir), dir]), [packs[0]!.replace(/\.idx$/, '')]);
      assertNoneLeft([dir]);
    });
  }

  test('a pack cut short', (t) => {
    const dir = copyTrace();
    const [, loc] = usedChunks(dir)[0]!;
    if (!loc.index) return t.skip('chunks are not stored in packs');
    truncateSync(loc.file, loc.offset + Math.floor(loc.length / 2));
    assertDamageHandled(dir, [loc.file, /truncated|corrupt/]);
  });

  test('one bit flipped in a chunk as it was stored (compressed)', () => {
    const dir = copyTrace();
    const [, loc] = usedChunks(dir)[0]!;
    assert.notEqual(readFileSync(loc.file)[loc.offset], 0, 'the largest chunk is stored compressed');
    flipBit(loc.file, loc.offset + Math.floor(loc.length / 2), 0x01);
    assertDamageHandled(dir, [loc.file, /corrupt/]);
  });

  test('a chunk with an unknown encoding byte', () => {
    const dir = copyTrace();
    const [, loc] = usedChunks(dir)[0]!;
    flipBit(loc.file, loc.offset, 0x40);
    assertDamageHandled(dir, [loc.file, /corrupt/]);
  });

  for (const [name, encoding, encode] of [
    ['raw', 0, (d: Buffer) => d],
    ['deflate-raw', 1, (d: Buffer) => deflateRawSync(d)],
  ] as const) {
    test(`a chunk stored ${name} restores, and one bit flipped in it is refused`, () => {
      const dir = copyTrace();
      const [hex] = usedChunks(dir)[0]!;
      const data = new CheckpointStore(dir).chunks.get(Buffer.from(hex, 'hex'));
      const loc = rewriteChunk(dir, hex, Buffer.concat([Buffer.of(encoding), encode(data)]));
      assertReplays(`replay from a checkpoint with a ${name} chunk`, dir, [], true);
      flipBit(loc.file, loc.offset + 1 + Math.floor((loc.length - 1) / 2), 0x04);
      assertDamageHandled(dir, [loc.file, /corrupt/]);
    });
  }

  test('a chunk replaced by another chunk', () => {
    const dir = copyTrace();
    const [[hex], [otherHex]] = usedChunks(dir) as [[string, ChunkLocation], [string, ChunkLocation]];
    const otherData = new CheckpointStore(dir).chunks.get(Buffer.from(otherHex, 'hex'));
    const loc = rewriteChunk(dir, hex, Buffer.concat([Buffer.of(0), otherData]));
    // Stored with its own checksum, the wrong chunk is found only when its hash is checked.
    assertDamageHandled(dir, [loc.file, /corrupt/], { found: 'restoring' });
  });

  test('a manifest of a newer format version', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'manifest');
    writeFileSync(file, encodeManifest({ ...readManifest(file), formatVersion: 99 }));
    assertDamageHandled(dir, [file, '99', /upgrade/i, /--ignore-pcp/]);
  });

  test('a checkpoint that needs a kind no loaded plugin provides', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'manifest');
    const m = readManifest(file);
    writeFileSync(file, encodeManifest({ ...m, needs: [...m.needs, { section: 'extensions', kind: 'acme/socket', version: 1, plugin: 'acme-tsrr-plugin' }] }));
    assertDamageHandled(dir, ['acme/socket', 'acme-tsrr-plugin', String(latest)]);
  });

  test('a checkpoint that needs a newer version of a built-in serializer', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'manifest');
    const m = readManifest(file);
    const needs = m.needs.map((n) => (n.kind === 'core/task' ? { ...n, version: n.version + 1 } : n));
    assert.ok(needs.some((n) => n.kind === 'core/task'), 'the checkpoint needs core/task');
    writeFileSync(file, encodeManifest({ ...m, needs }));
    assertDamageHandled(dir, ['core/task', /version 2/, /--ignore-pcp|upgrade/]);
  });

  test('a checkpoint of another trace', () => {
    const dir = copyTrace(other);
    const foreign = cpDir(dir);
    mkdirSync(join(dir, 'checkpoints'));
    cpSync(cpDir(good), foreign, { recursive: true });
    // Its memory too, wherever it is kept, so that only its identity is wrong.
    for (const sub of ['packs', 'chunks']) if (existsSync(join(good, 'checkpoints', sub))) cpSync(join(good, 'checkpoints', sub), join(dir, 'checkpoints', sub), { recursive: true });
    assertDamageHandled(dir, [foreign, /another trace/, /--ignore-pcp|rm-checkpoints/], { expected: otherOutput });
  });

  test('a checkpoint directory renamed to another event', () => {
    const dir = copyTrace();
    const renamed = cpDir(dir, latest - 1);
    renameSync(cpDir(dir), renamed);
    assertDamageHandled(dir, [renamed, String(latest)], { frame: latest - 1 });
  });

  /** The file copies the latest checkpoint maps (core/file mappings), besides its program. */
  function mappedCopies(dir: string): { executable: string; files: string[] } {
    const [state] = readState(join(cpDir(dir), 'state')).processes;
    const files = new Set<string>();
    for (const e of state!.sections.mappings) {
      if (e.kind !== 'core/file') continue;
      const f = decodeMapping(e.payload).file;
      if (f && f !== state!.executable) files.add(f);
    }
    return { executable: state!.executable, files: [...files] };
  }

  test('the copy of a file the checkpoint maps is missing from the trace', () => {
    const dir = copyTrace();
    const { files } = mappedCopies(dir);
    const lib = files.find((f) => /libc/.test(f)) ?? files[0];
    assert.ok(lib, 'the checkpoint maps no file copy of the trace but the program');
    assert.match(lib, /^files\//);
    const file = join(dir, lib);
    rmSync(file);
    const r = pcp(['replay', '-a', '-g', last(dir), dir]);
    assertRefused('replay -g LAST with a mapped file copy missing', r, [file]);
    assert.equal(r.stdout.length, 0);
    assertNoneLeft([dir]);
    // The trace itself needs that file: without pcp, the replay is refused too, naming it.
    assertRefused('replay --ignore-pcp with a mapped file copy missing', pcp(['replay', '-a', '-g', last(dir), '--ignore-pcp', dir]), [file]);
    assertNoneLeft([dir]);
  });

  test("the copy of the checkpoint's program is missing from the trace", () => {
    const dir = copyTrace();
    const { executable } = mappedCopies(dir);
    const file = join(dir, executable);
    rmSync(file);
    const r = pcp(['replay', '-a', '-g', last(dir), dir]);
    assertRefused("replay -g LAST with the program's copy missing", r, [file]);
    assert.equal(r.stdout.length, 0);
    assertNoneLeft([dir]);
  });

  test('a state whose file mapping names a copy the trace does not have', () => {
    const dir = copyTrace();
    const file = join(cpDir(dir), 'state');
    const state = readState(file);
    const [proc] = state.processes;
    const { executable } = proc!;
    let changed = 0;
    const mappings = proc!.sections.mappings.map((e) => {
      if (e.kind !== 'core/file') return e;
      const p = decodeMapping(e.payload);
      if (!p.file || p.file === executable || changed > 0) return e;
      changed++;
      return { ...e, payload: encodeMapping({ ...p, file: 'files/99-missing.so' }) };
    });
    assert.equal(changed, 1, 'the checkpoint maps no file copy of the trace but the program');
    writeFileSync(file, encodeState({ ...state, processes: [{ ...proc!, sections: { ...proc!.sections, mappings } }] }));
    assertDamageHandled(dir, [join(dir, 'files/99-missing.so')], { found: 'restoring' });
  });

  test('a checkpoint directory without its manifest (half written) is ignored', () => {
    const dir = copyTrace();
    rmSync(join(cpDir(dir), 'manifest'));
    const list = new CheckpointStore(good).list().map((c) => c.frame);
    const ls = pcp(['checkpoints', '--json', dir]);
    assert.equal(ls.status, 0, describeRun('checkpoints --json', ls));
    assert.deepEqual(
      (JSON.parse(ls.stdout.toString()) as { event: number }[]).map((c) => c.event),
      list.filter((f) => f !== latest),
    );
    const r = pcp(['replay', '-a', '-g', last(dir), dir]);
    assert.equal(r.status, 0, describeRun('replay', r));
    assert.deepEqual(r.stdout, output);
    assert.match(r.stderr, new RegExp(`^tsrr: starting from the checkpoint at event ${list.at(-2)}$`, 'm'));
    assertNoneLeft([dir]);
  });

  test('leftovers of an interrupted checkpoint write are ignored, and removed by rm-checkpoints', () => {
    const dir = copyTrace();
    const tmp = join(dir, 'checkpoints', '.tmp-123-456');
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'chunks'), 'not a hash\n');
    writeFileSync(join(tmp, 'state'), readFileSync(join(cpDir(dir), 'state')).subarray(0, 100));
    writeFileSync(join(tmp, 'manifest'), 'half a manifest');
    const packs = join(dir, 'checkpoints', 'packs');
    const tmpPack = join(packs, '.123.pack.tmp-456');
    if (existsSync(packs)) writeFileSync(tmpPack, Buffer.alloc(100, 7));
    const before = pcp(['checkpoints', '--json', good]);
    assert.equal(before.status, 0, describeRun('checkpoints --json (undamaged)', before));
    const ls = pcp(['checkpoints', '--json', dir]);
    assert.equal(ls.status, 0, describeRun('checkpoints --json', ls));
    assert.deepEqual(
      (JSON.parse(ls.stdout.toString()) as { event: number }[]).map((c) => c.event),
      (JSON.parse(before.stdout.toString()) as { event: number }[]).map((c) => c.event),
    );
    const text = pcp(['checkpoints', dir]);
    assert.equal(text.status, 0, describeRun('checkpoints', text));
    assert.doesNotMatch(text.stdout.toString(), /tmp|123/);
    const r = pcp(['replay', '-a', '-g', last(dir), dir]);
    assert.equal(r.status, 0, describeRun('replay', r));
    assert.deepEqual(r.stdout, output);
    assert.match(r.stderr, new RegExp(`^tsrr: starting from the checkpoint at event ${latest}$`, 'm'));
    assertNoneLeft([dir]);
    // Removing one checkpoint clears the leftovers too; so does removing all.
    const rmOne = pcp(['rm-checkpoints', '-g', String(latest), dir]);
    assert.equal(rmOne.status, 0, describeRun('rm-checkpoints -g', rmOne));
    assert.ok(!existsSync(tmp), 'rm-checkpoints -g left the temporary directory');
    assert.ok(!existsSync(tmpPack), 'rm-checkpoints -g left the temporary pack');
    assert.ok(!existsSync(cpDir(dir)));
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'manifest'), 'half a manifest');
    const rm = pcp(['rm-checkpoints', dir]);
    assert.equal(rm.status, 0, describeRun('rm-checkpoints', rm));
    assert.ok(!existsSync(tmp), 'rm-checkpoints left the temporary directory');
    assert.deepEqual(
      readdirSync(join(dir, 'checkpoints')).filter((n) => n !== 'packs' && n !== 'chunks' && n !== 'lock'),
      [],
    );
    assert.deepEqual([...chunkLocations(dir).keys()], [], 'rm-checkpoints left chunks behind');
    assertReplays('replay after rm-checkpoints', dir, [], false);
  });

  test('create-checkpoints -i 0', () => {
    const dir = copyTrace();
    rmSync(join(dir, 'checkpoints'), { recursive: true });
    assertRefused('create-checkpoints -i 0', pcp(['create-checkpoints', '-i', '0', dir]), ['--interval', '0']);
    assert.ok(!existsSync(join(dir, 'checkpoints')), 'a refused create-checkpoints left checkpoints behind');
    assertNoneLeft([dir]);
  });

  test('record --checkpoint-interval 0', () => {
    const dir = join(freshDir(), 'trace');
    assertRefused('record --checkpoint-interval 0', pcp(['record', '--checkpoint-interval', '0', '-o', dir, compile('time')]), ['--checkpoint-interval', '0']);
    assert.ok(!existsSync(dir), 'a refused record left a trace behind');
  });

  test('create-checkpoints -s 10 -e 5', () => {
    const dir = copyTrace();
    rmSync(join(dir, 'checkpoints'), { recursive: true });
    assertRefused('create-checkpoints -s 10 -e 5', pcp(['create-checkpoints', '-s', '10', '-e', '5', dir]), ['--start', '10', '5']);
    assert.ok(!existsSync(join(dir, 'checkpoints')), 'a refused create-checkpoints left checkpoints behind');
    assertNoneLeft([dir]);
  });

  test('create-checkpoints, checkpoints and rm-checkpoints of a trace that does not exist', () => {
    const dir = join(freshDir(), 'no-such-trace');
    for (const cmd of [['create-checkpoints', '-i', '10'], ['checkpoints'], ['checkpoints', '--json'], ['rm-checkpoints']]) {
      const r = pcp([...cmd, dir]);
      assertRefused(`${cmd.join(' ')} of a missing trace`, r, [dir]);
      assert.equal(r.stdout.length, 0, `${cmd.join(' ')} printed on stdout:\n${r.stdout}`);
    }
    assert.ok(!existsSync(dir), 'a refused command created the trace directory');
  });
});
