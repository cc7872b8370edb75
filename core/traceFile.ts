// SPDX-License-Identifier: MIT
/**
 * Framing of the files in a trace directory: every message sits behind a 16-byte prefix
 * (magic, length, crc32, a per-file count), so truncation and bit flips are found before any
 * byte is trusted, and the events file can be walked block by block without decoding.
 */
import { crc32 } from 'node:zlib';

/** 3: blocks may be zstd-compressed (BLOCK_ZSTD_MAGIC). 4: calls that only read state (prctl
 * getters) and calls whose result tsrr hides carry their output and are emulated on replay.
 * 5: TRACE/copies holds a hash of every copy in files/. 6: names (paths, argv, envp) may hold
 * any bytes, not only UTF-8 (written as 5 wrote its Text, so 5 reads as 6). */
export const TRACE_FORMAT_VERSION = 6;
/** The oldest format replay reproduces exactly (older ones still dump and list). 5: the
 * trace's copies of files have recorded hashes (core/CopyHashes.ts). */
export const REPLAYABLE_FORMAT_VERSION = 5;
export const PREFIX_BYTES = 16;
export const HEADER_MAGIC = 0x48525354; // "TSRH" little-endian
export const BLOCK_MAGIC = 0x42455354; // "TSEB" little-endian
export const BLOCK_ZSTD_MAGIC = 0x5a455354; // "TSEZ": a block compressed with zstd

export function framed(magic: number, count: number, message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.writeUInt32LE(magic, 0);
  prefix.writeUInt32LE(message.length, 4);
  prefix.writeUInt32LE(crc32(message), 8);
  prefix.writeUInt32LE(count, 12);
  return Buffer.concat([prefix, message]);
}

export interface Prefix {
  magic: number;
  length: number;
  crc: number;
  count: number;
}

export function readPrefix(buf: Buffer, at: number): Prefix {
  return {
    magic: buf.readUInt32LE(at),
    length: buf.readUInt32LE(at + 4),
    crc: buf.readUInt32LE(at + 8),
    count: buf.readUInt32LE(at + 12),
  };
}

export const checksumOk = (p: Prefix, message: Uint8Array): boolean => crc32(message) === p.crc;

/** The message of a file that holds one framed message (`buf`, read already), checked;
 * `corrupt(why)` makes the error that says what is wrong. */
export function framedMessage(buf: Buffer, magic: number, corrupt: (why: string) => Error): Buffer {
  if (buf.length < PREFIX_BYTES) throw corrupt(`only ${buf.length} bytes`);
  const p = readPrefix(buf, 0);
  if (p.magic !== magic) throw corrupt('bad magic number');
  if (buf.length < PREFIX_BYTES + p.length) throw corrupt(`truncated (${buf.length - PREFIX_BYTES} of ${p.length} bytes)`);
  if (buf.length > PREFIX_BYTES + p.length) throw corrupt(`${buf.length - PREFIX_BYTES - p.length} bytes follow the message`);
  const message = buf.subarray(PREFIX_BYTES);
  if (!checksumOk(p, message)) throw corrupt('checksum mismatch');
  return message;
}
