// SPDX-License-Identifier: MIT
/**
 * The length of an x86-64 instruction, decoded from its prefixes, opcode, ModRM/SIB and
 * immediates (not what it does): enough to walk compiled code instruction by instruction and
 * find where each one starts (trapPatching.ts).
 */

/** Opcode property bits: has a ModRM byte; immediate of 1 byte; of 2; of the operand size (2 or 4). */
const M = 1;
const I8 = 2;
const I16 = 4;
const IZ = 8;
/** Not an instruction in 64-bit mode. */
const BAD = 16;

const ONE_BYTE = new Uint8Array(256);
const TWO_BYTE = new Uint8Array(256);

function set(table: Uint8Array, from: number, to: number, bits: number): void {
  for (let op = from; op <= to; op++) table[op] = bits;
}

// One-byte map.
for (let row = 0; row < 0x40; row += 8) {
  set(ONE_BYTE, row, row + 3, M); // ALU r/m forms
  ONE_BYTE[row + 4] = I8;
  ONE_BYTE[row + 5] = IZ;
}
for (const op of [0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x60, 0x61, 0x82, 0x9a, 0xce, 0xd4, 0xd5, 0xd6, 0xea]) ONE_BYTE[op] = BAD;
ONE_BYTE[0x63] = M;
ONE_BYTE[0x68] = IZ;
ONE_BYTE[0x69] = M | IZ;
ONE_BYTE[0x6a] = I8;
ONE_BYTE[0x6b] = M | I8;
set(ONE_BYTE, 0x70, 0x7f, I8);
ONE_BYTE[0x80] = M | I8;
ONE_BYTE[0x81] = M | IZ;
ONE_BYTE[0x83] = M | I8;
set(ONE_BYTE, 0x84, 0x8f, M);
ONE_BYTE[0xa8] = I8;
ONE_BYTE[0xa9] = IZ;
set(ONE_BYTE, 0xb0, 0xb7, I8);
set(ONE_BYTE, 0xb8, 0xbf, IZ);
ONE_BYTE[0xc0] = M | I8;
ONE_BYTE[0xc1] = M | I8;
ONE_BYTE[0xc2] = I16;
ONE_BYTE[0xc6] = M | I8;
ONE_BYTE[0xc7] = M | IZ;
ONE_BYTE[0xc8] = I16 | I8;
ONE_BYTE[0xca] = I16;
ONE_BYTE[0xcd] = I8;
set(ONE_BYTE, 0xd0, 0xd3, M);
set(ONE_BYTE, 0xd8, 0xdf, M);
set(ONE_BYTE, 0xe0, 0xe7, I8);
ONE_BYTE[0xe8] = IZ;
ONE_BYTE[0xe9] = IZ;
ONE_BYTE[0xeb] = I8;
ONE_BYTE[0xf6] = M;
ONE_BYTE[0xf7] = M;
ONE_BYTE[0xfe] = M;
ONE_BYTE[0xff] = M;

// Two-byte map (0F xx); also VEX/EVEX map 1.
set(TWO_BYTE, 0x00, 0xff, M);
for (const op of [0x04, 0x0a, 0x0c, 0x24, 0x25, 0x26, 0x27, 0x36, 0x39, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x7a, 0x7b, 0xa6, 0xa7]) TWO_BYTE[op] = BAD;
for (const op of [0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x0e, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x77, 0xa0, 0xa1, 0xa2, 0xa8, 0xa9, 0xaa]) TWO_BYTE[op] = 0;
set(TWO_BYTE, 0x80, 0x8f, IZ);
set(TWO_BYTE, 0xc8, 0xcf, 0);
for (const op of [0x0f, 0x70, 0x71, 0x72, 0x73, 0xa4, 0xac, 0xba, 0xc2, 0xc4, 0xc5, 0xc6]) TWO_BYTE[op] = M | I8;

/** Bytes of ModRM, SIB and displacement at `at` (a ModRM byte). */
function modrmLength(code: Uint8Array, at: number): number {
  const modrm = code[at]!;
  const mod = modrm >> 6;
  const rm = modrm & 7;
  if (mod === 3) return 1;
  let n = 1;
  if (rm === 4) {
    n++;
    if (mod === 0 && (code[at + 1]! & 7) === 5) n += 4;
  } else if (mod === 0 && rm === 5) {
    n += 4; // rip-relative
  }
  if (mod === 1) n += 1;
  if (mod === 2) n += 4;
  return n;
}

/** Length of the instruction at `at` in `code`, or 0 where it is not one (or runs past the end). */
export function instructionLength(code: Uint8Array, at: number): number {
  let i = at;
  let opsize16 = false;
  let addr32 = false;
  let rexW = false;
  let rep = 0;
  for (;;) {
    const b = code[i];
    if (b === undefined) return 0;
    if (b === 0x66) opsize16 = true;
    else if (b === 0x67) addr32 = true;
    else if (b === 0xf2 || b === 0xf3) rep = b;
    else if (b !== 0xf0 && b !== 0x2e && b !== 0x36 && b !== 0x3e && b !== 0x26 && b !== 0x64 && b !== 0x65) break;
    if (++i - at > 14) return 0;
  }
  if ((code[i]! & 0xf0) === 0x40) rexW = (code[i++]! & 8) !== 0;
  const op = code[i++];
  if (op === undefined) return 0;
  const z = opsize16 && !rexW ? 2 : 4;
  let bits: number;
  let rest = 0;
  if (op === 0x0f) {
    const op2 = code[i++];
    if (op2 === undefined) return 0;
    if (op2 === 0x38 || op2 === 0x3a) {
      i++; // the third opcode byte
      bits = op2 === 0x3a ? M | I8 : M;
    } else {
      bits = TWO_BYTE[op2]!;
      // extrq/insertq (SSE4a) take two immediates.
      if (op2 === 0x78 && (opsize16 || rep === 0xf2)) bits = M | I16;
    }
  } else if (op === 0xc4 || op === 0xc5 || op === 0x62 || (op === 0x8f && (code[i]! & 0x38) !== 0)) {
    return vectorLength(code, at, i - 1, op);
  } else {
    bits = ONE_BYTE[op]!;
    if (op >= 0xa0 && op <= 0xa3) rest = addr32 ? 4 : 8; // moffs
    if (op >= 0xb8 && op <= 0xbf && rexW) rest = 8 - z; // imm64
    const reg = (code[i]! >> 3) & 7;
    if ((op === 0xf6 || op === 0xf7) && reg < 2) bits |= op === 0xf6 ? I8 : IZ; // test r/m, imm
    // Encodings no compiler makes: telling them apart finds data among code.
    if (((op === 0xc6 || op === 0xc7) && reg !== 0 && code[i] !== 0xf8) || (op === 0xfe && reg > 1) || (op === 0xff && reg === 7)) return 0;
  }
  if (bits & BAD) return 0;
  if (bits & M) {
    if (code[i] === undefined) return 0;
    i += modrmLength(code, i);
  }
  i += rest + (bits & I8 ? 1 : 0) + (bits & I16 ? 2 : 0) + (bits & IZ ? z : 0);
  return i > code.length || i - at > 15 ? 0 : i - at;
}

/** An instruction with a VEX (C4, C5), EVEX (62) or XOP (8F) prefix starting at `p`. */
function vectorLength(code: Uint8Array, at: number, p: number, op: number): number {
  const payload = op === 0xc5 ? 1 : op === 0x62 ? 3 : 2;
  const map = op === 0xc5 ? 1 : code[p + 1]! & (op === 0x62 ? 7 : 0x1f);
  let i = p + 1 + payload;
  const opcode = code[i++];
  if (opcode === undefined) return 0;
  let imm = 0;
  if (op === 0x8f) imm = map === 8 ? 1 : map === 0xa ? 4 : 0;
  else if (map === 3) imm = 1;
  else if (map === 1) {
    if (opcode === 0x77) return i - at; // vzeroupper / vzeroall: no ModRM
    imm = TWO_BYTE[opcode]! & I8 ? 1 : 0;
  }
  if (code[i] === undefined) return 0;
  i += modrmLength(code, i) + imm;
  return i > code.length || i - at > 15 ? 0 : i - at;
}
