// SPDX-License-Identifier: MIT
/**
 * zstd through koffi from the system's libzstd (Debian's libzstd1): its fast level -1 compresses memory
 * several times faster than zlib, and gives up quickly on incompressible data. `available` is
 * false where the library is missing; callers then use zlib.
 */
import koffi from './koffi.js';

let lib: ReturnType<typeof koffi.load> | undefined;
try {
  lib = koffi.load('libzstd.so.1');
} catch {
  lib = undefined;
}

const bound = lib?.func('size_t ZSTD_compressBound(size_t srcSize)');
const compressRaw = lib?.func('size_t ZSTD_compress(void *dst, size_t dstCapacity, const void *src, size_t srcSize, int level)');
const decompressRaw = lib?.func('size_t ZSTD_decompress(void *dst, size_t dstCapacity, const void *src, size_t compressedSize)');
const isError = lib?.func('unsigned int ZSTD_isError(size_t code)');
const contentSize = lib?.func('unsigned long long ZSTD_getFrameContentSize(const void *src, size_t srcSize)');

const versionString = lib?.func('const char *ZSTD_versionString(void)');

export const zstdAvailable = lib !== undefined;

/** The library's version ("1.5.4"), where it is there. */
export const zstdVersion = (): string | undefined => versionString?.() as string | undefined;

export function zstdCompress(data: Uint8Array, level = -1): Buffer {
  const out = Buffer.alloc(Number(bound!(data.length)));
  const n = compressRaw!(out, out.length, data, data.length, level);
  if (isError!(n)) throw new Error('zstd compression failed');
  return out.subarray(0, Number(n));
}

/** Decompresses a frame; throws on damaged input. */
export function zstdDecompress(data: Uint8Array): Buffer {
  const size = BigInt(contentSize!(data, data.length));
  if (size >= 0xfffffffffffffffen || size > 1n << 32n) throw new Error('not a zstd frame with a known size');
  const out = Buffer.alloc(Number(size));
  const n = decompressRaw!(out, out.length, data, data.length);
  if (isError!(n) || Number(n) !== out.length) throw new Error('zstd data is damaged');
  return out;
}
