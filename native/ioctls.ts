// SPDX-License-Identifier: MIT
/**
 * What ioctl(fd, request, arg) writes to the caller's memory. Regular requests say it in their
 * number: the _IOC_READ direction bit means the kernel fills `size` bytes at `arg`. Older
 * families (terminals, sockets, block devices, consoles, ...) put no direction in the number:
 * those are listed here. A request of such a family that is not listed cannot be recorded
 * faithfully, so it is refused (the program gets EINVAL, and tsrr says so), as rr does.
 */
import type { MemoryReader, Region } from './syscalls.js';

/** Bytes at `arg`, or what a request writes given its argument and result. */
type Out = number | ((arg: bigint, result: bigint, mem: MemoryReader) => Region[]);

const TERMIOS = 36;
const IFREQ = 40;
const INT = 4;
const LONG = 8;

/** Requests without a direction in their number that write, by request. Requests of the
 * irregular families that write nothing are listed with 0. */
const IRREGULAR = new Map<number, Out>([
  // Files (type 0): FIBMAP and FIGETBSZ fill an int.
  [0x0001, INT], [0x0002, INT],
  // Block devices (type 0x12).
  [0x125d, 0], [0x125e, INT], [0x125f, 0], [0x1260, LONG], [0x1261, 0], [0x1262, 0],
  [0x1263, LONG], [0x1264, 0], [0x1265, LONG], [0x1266, 0], [0x1267, 2], [0x1268, INT],
  [0x1277, 0], [0x1278, INT], [0x1279, INT], [0x127a, INT], [0x127b, INT], [0x127c, INT],
  [0x127d, 0], [0x127e, 2], [0x127f, 0],
  // SCSI generic (type 0x22).
  [0x2203, INT], [0x2272, INT], [0x2275, 0], [0x227f, INT], [0x2282, INT], [0x2285, sgIo],
  // Frame buffers (type 0x46): FBIOGET_VSCREENINFO, FBIOPUT_VSCREENINFO, FBIOGET_FSCREENINFO.
  [0x4600, 160], [0x4601, 0], [0x4602, 80],
  // Consoles (type 0x4b): KIOCSOUND, KDMKTONE, KDGETLED, KDSETLED, KDGKBTYPE, KDSETMODE,
  // KDGETMODE, KDGKBMODE, KDSKBMODE, KDGKBENT, KDGKBSENT, KDGKBDIACR, KDGETKEYCODE,
  // KDGKBMETA, KDSKBMETA, KDGKBLED, KDSKBLED.
  [0x4b2f, 0], [0x4b30, 0], [0x4b31, 1], [0x4b32, 0], [0x4b33, 1], [0x4b3a, 0], [0x4b3b, INT],
  [0x4b44, INT], [0x4b45, 0], [0x4b46, 4], [0x4b48, 256], [0x4b4a, 772], [0x4b4c, 8],
  [0x4b62, INT], [0x4b63, 0], [0x4b64, 1], [0x4b65, 0],
  // CD-ROMs (type 0x53): CDROMREADTOCHDR, CDROMREADTOCENTRY (in and out).
  [0x5305, 2], [0x5306, 12],
  // Terminals (type 0x54).
  [0x5401, TERMIOS], [0x5402, 0], [0x5403, 0], [0x5404, 0], [0x5405, 18], [0x5406, 0],
  [0x5407, 0], [0x5408, 0], [0x5409, 0], [0x540a, 0], [0x540b, 0], [0x540c, 0], [0x540d, 0],
  [0x540e, 0], [0x540f, INT], [0x5410, 0], [0x5411, INT], [0x5412, 0], [0x5413, 8],
  [0x5414, 0], [0x5415, INT], [0x5416, 0], [0x5417, 0], [0x5418, INT], [0x5419, INT],
  [0x541a, 0], [0x541b, INT], [0x541c, 1], [0x541d, 0], [0x541e, 72], [0x541f, 0],
  [0x5420, 0], [0x5421, 0], [0x5422, 0], [0x5423, 0], [0x5424, INT], [0x5425, 0],
  [0x5427, 0], [0x5428, 0], [0x5429, INT], [0x542e, 32], [0x542f, 32], [0x5432, 16],
  [0x5433, 0], [0x5434, 0], [0x5435, 0], [0x5437, 0], [0x5450, 0], [0x5451, 0], [0x5452, 0],
  [0x5441, 0], [0x5453, 0], [0x5454, INT], [0x5455, 0], [0x5456, TERMIOS], [0x5457, 0], [0x5459, INT],
  [0x545b, 0], [0x545c, 0], [0x545d, 80], [0x5460, LONG],
  // Virtual terminals (type 0x56).
  [0x5600, INT], [0x5601, 8], [0x5602, 0], [0x5603, 6], [0x5604, 0], [0x5605, 0],
  [0x5606, 0], [0x5607, 0], [0x5608, 0], [0x5609, 0], [0x560a, 0], [0x560b, 0], [0x560c, 0],
  [0x560d, 2], [0x560e, 16], [0x560f, 0],
  // Sockets (type 0x89).
  [0x8901, 0], [0x8902, 0], [0x8903, INT], [0x8904, INT], [0x8905, INT], [0x8906, 16],
  [0x8907, 16], [0x890b, 0], [0x890c, 0], [0x890d, 0], [0x8910, IFREQ], [0x8911, 0],
  [0x8912, ifconf], [0x8913, IFREQ], [0x8914, 0], [0x8915, IFREQ], [0x8916, 0],
  [0x8917, IFREQ], [0x8918, 0], [0x8919, IFREQ], [0x891a, 0], [0x891b, IFREQ], [0x891c, 0],
  [0x891d, IFREQ], [0x891e, 0], [0x891f, IFREQ], [0x8920, 0], [0x8921, IFREQ], [0x8922, 0],
  [0x8923, 0], [0x8924, 0], [0x8925, IFREQ], [0x8926, 0], [0x8927, IFREQ], [0x8929, IFREQ],
  [0x8930, 0], [0x8931, 0], [0x8932, 0], [0x8933, IFREQ], [0x8934, 0], [0x8935, IFREQ],
  [0x8936, 0], [0x8937, 0], [0x8938, IFREQ], [0x8940, bridge], [0x8941, 0], [0x8942, IFREQ],
  [0x8943, 0], [0x8947, IFREQ], [0x8948, IFREQ], [0x8949, 0], [0x894b, INT], [0x894c, 0],
  [0x8953, 0], [0x8954, 68], [0x8955, 0], [0x8960, 0], [0x8961, 68], [0x8962, 0],
  [0x8970, IFREQ], [0x8971, 0], [0x89a0, 0], [0x89a1, 0], [0x89a2, 0], [0x89a3, 0],
]);

/** Families whose requests carry no direction: an unlisted one of theirs is refused. */
const IRREGULAR_TYPES = new Set([0x00, 0x12, 0x22, 0x46, 0x4b, 0x53, 0x54, 0x56, 0x89, 0x8b]);

/** Requests whose number understates what they write: TUNSETIFF and TUNGETIFF fill an ifreq. */
const UNDERSTATED = new Map<number, number>([[0x400454ca, IFREQ], [0x800454d2, IFREQ]]);
/** FS_IOC_FIEMAP also fills the extents after its struct fiemap. */
const FS_IOC_FIEMAP = 0xc020660b;
const FIEMAP_EXTENT = 56;

const IOC_READ = 2;

const dirOf = (request: number) => request >>> 30;
const sizeOf = (request: number) => (request >>> 16) & 0x3fff;
const typeOf = (request: number) => (request >>> 8) & 0xff;

/** SG_IO: the sg_io_hdr (status, lengths), the data and the sense buffer it points to. */
function sgIo(arg: bigint, _result: bigint, mem: MemoryReader): Region[] {
  const dxferLen = mem.u32(arg + 12n);
  const sense = (mem.u32(arg + 8n) >>> 8) & 0xff; // mx_sb_len
  const regions: Region[] = [[arg, 88], [mem.u64(arg + 16n), dxferLen], [mem.u64(arg + 32n), sense]];
  return regions.filter(([a, n]) => a !== 0n && n > 0);
}

/** SIOCGIFCONF: the ifconf (its length updated) and the ifreqs it lists. */
function ifconf(arg: bigint, _result: bigint, mem: MemoryReader): Region[] {
  const buf = mem.u64(arg + 8n);
  return buf === 0n ? [[arg, 16]] : [[arg, 16], [buf, mem.u32(arg)]];
}

/** SIOCGIFBR: BRCTL_GET_BRIDGES fills an array of ints (args[1], args[2] of them). */
function bridge(arg: bigint, _result: bigint, mem: MemoryReader): Region[] {
  if (mem.u64(arg) !== 1n) return [];
  return [[mem.u64(arg + 8n), Number(mem.u64(arg + 16n)) * INT]];
}

/** Whether tsrr knows what `request` writes; an unknown request of an irregular family is
 * refused. */
export function ioctlKnown(request: number): boolean {
  return IRREGULAR.has(request) || dirOf(request) !== 0 || !IRREGULAR_TYPES.has(typeOf(request));
}

/** What a successful ioctl `request` with argument `arg` wrote. */
export function ioctlWrites(request: number, arg: bigint, result: bigint, mem: MemoryReader): Region[] {
  if (arg === 0n) return [];
  const out = IRREGULAR.get(request) ?? UNDERSTATED.get(request);
  if (typeof out === 'function') return out(arg, result, mem);
  if (out !== undefined) return out > 0 ? [[arg, out]] : [];
  if ((dirOf(request) & IOC_READ) === 0) return [];
  const regions: Region[] = [[arg, sizeOf(request)]];
  if (request === FS_IOC_FIEMAP) regions.push([arg + 32n, mem.u32(arg + 20n) * FIEMAP_EXTENT]);
  return regions;
}
