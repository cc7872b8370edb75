// SPDX-License-Identifier: MIT
/**
 * TRACE/copies: the content hash (core/contentHash.ts) of every copy in files/, one framed
 * record each, appended as the copy is made and so before any event names it. Replay checks a
 * copy against it when it first uses it: a changed byte there is an error naming the file, not
 * a replay of a different program.
 */
import { existsSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { contentHash } from './contentHash.js';
import { PREFIX_BYTES, checksumOk, framed, readPrefix } from './traceFile.js';
import { TsrrError } from '../native/TsrrError.js';

export const COPIES_FILE = 'copies';
const COPY_MAGIC = 0x43535354; // "TSSC" little-endian
const HASH_BYTES = 32;

/** Hashes the copy at `dir`/`rel` and appends its record to the copies file open at `fd`. */
export function recordCopy(fd: number, dir: string, rel: string): void {
  const record = framed(COPY_MAGIC, 0, Buffer.concat([contentHash(join(dir, rel)), Buffer.from(rel)]));
  writeSync(fd, record);
}

/** Checks the trace's copies against their recorded hashes, each once. */
export class CopyHashes {
  private hashes: Map<string, Buffer> | undefined;
  private readonly checked = new Set<string>();

  constructor(private readonly dir: string) {}

  /** The absolute path of copy `rel`, once its contents match the recorded hash. */
  check(rel: string): string {
    const path = join(this.dir, rel);
    if (this.checked.has(rel)) return path;
    const want = this.recorded().get(rel);
    if (!want) throw new TsrrError('TRACE_CORRUPT', `${path} has no hash in ${join(this.dir, COPIES_FILE)}, so it cannot be trusted`, { file: path });
    let got: Buffer;
    try {
      got = contentHash(path);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'is missing' : `cannot be read (${err.code ?? err.message})`;
      throw new TsrrError('TRACE_CORRUPT', `${path}, a file the trace holds, ${why}`, { file: path });
    }
    if (!got.equals(want)) throw new TsrrError('TRACE_CORRUPT', `${path} was changed after recording (it does not match its hash in ${COPIES_FILE})`, { file: path });
    this.checked.add(rel);
    return path;
  }

  private recorded(): Map<string, Buffer> {
    if (this.hashes) return this.hashes;
    const file = join(this.dir, COPIES_FILE);
    if (!existsSync(file)) throw new TsrrError('TRACE_CORRUPT', `${file} is missing: the trace's copies of files cannot be checked`, { file });
    const bytes = readFileSync(file);
    const hashes = new Map<string, Buffer>();
    // A record cut short at the end is one the recording did not finish: its copy is unused.
    for (let at = 0, n = 1; at + PREFIX_BYTES <= bytes.length; n++) {
      const p = readPrefix(bytes, at);
      const message = bytes.subarray(at + PREFIX_BYTES, at + PREFIX_BYTES + p.length);
      if (p.magic !== COPY_MAGIC || (message.length === p.length && (!checksumOk(p, message) || p.length <= HASH_BYTES))) {
        throw new TsrrError('TRACE_CORRUPT', `${file} is corrupt: record ${n} (at byte ${at}) is damaged`, { file });
      }
      if (message.length < p.length) break;
      hashes.set(message.subarray(HASH_BYTES).toString(), Buffer.from(message.subarray(0, HASH_BYTES)));
      at += PREFIX_BYTES + p.length;
    }
    this.hashes = hashes;
    return hashes;
  }
}
