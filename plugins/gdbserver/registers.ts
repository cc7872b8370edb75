// SPDX-License-Identifier: MIT
/**
 * The registers gdb sees: the target description tsrr sends (x86-64 core, SSE, the Linux
 * orig_rax, fs/gs base and, where the machine has it, AVX) and each register's bytes, taken
 * from the task's general registers and its xsave area. gdb numbers registers in the order
 * the description lists them.
 */
import type { Task } from '../../core/index.js';

/** Where a register's bytes come from: general registers (user_regs_struct offset), the
 * xsave area (offset), or x87 words gdb wants widened to 32 bits. */
type Source = { regs: number } | { xsave: number } | { xsave16: number } | { ftag: true };

interface Register {
  readonly name: string;
  readonly bits: number;
  readonly type: string;
  readonly group?: string;
  readonly from: Source;
}

const GENERAL: [string, number, string?][] = [
  ['rax', 80], ['rbx', 40], ['rcx', 88], ['rdx', 96], ['rsi', 104], ['rdi', 112], ['rbp', 32, 'data_ptr'], ['rsp', 152, 'data_ptr'],
  ['r8', 72], ['r9', 64], ['r10', 56], ['r11', 48], ['r12', 24], ['r13', 16], ['r14', 8], ['r15', 0],
];

function core(): Register[] {
  const out: Register[] = GENERAL.map(([name, off, type]) => ({ name, bits: 64, type: type ?? 'int64', from: { regs: off } }));
  out.push({ name: 'rip', bits: 64, type: 'code_ptr', from: { regs: 128 } });
  out.push({ name: 'eflags', bits: 32, type: 'int32', from: { regs: 144 } });
  for (const [name, off] of [['cs', 136], ['ss', 160], ['ds', 184], ['es', 192], ['fs', 200], ['gs', 208]] as const) out.push({ name, bits: 32, type: 'int32', from: { regs: off } });
  for (let i = 0; i < 8; i++) out.push({ name: `st${i}`, bits: 80, type: 'i387_ext', from: { xsave: 32 + 16 * i } });
  out.push({ name: 'fctrl', bits: 32, type: 'int', group: 'float', from: { xsave16: 0 } });
  out.push({ name: 'fstat', bits: 32, type: 'int', group: 'float', from: { xsave16: 2 } });
  out.push({ name: 'ftag', bits: 32, type: 'int', group: 'float', from: { ftag: true } });
  // In 64-bit mode the x87 instruction and operand pointers are 64-bit; gdb splits each.
  out.push({ name: 'fiseg', bits: 32, type: 'int', group: 'float', from: { xsave: 12 } });
  out.push({ name: 'fioff', bits: 32, type: 'int', group: 'float', from: { xsave: 8 } });
  out.push({ name: 'foseg', bits: 32, type: 'int', group: 'float', from: { xsave: 20 } });
  out.push({ name: 'fooff', bits: 32, type: 'int', group: 'float', from: { xsave: 16 } });
  out.push({ name: 'fop', bits: 32, type: 'int', group: 'float', from: { xsave16: 6 } });
  return out;
}

const sse = (): Register[] => [
  ...Array.from({ length: 16 }, (_, i): Register => ({ name: `xmm${i}`, bits: 128, type: 'vec128', from: { xsave: 160 + 16 * i } })),
  { name: 'mxcsr', bits: 32, type: 'int', group: 'vector', from: { xsave: 24 } },
];
const linux = (): Register[] => [{ name: 'orig_rax', bits: 64, type: 'int', from: { regs: 120 } }];
const segments = (): Register[] => [
  { name: 'fs_base', bits: 64, type: 'int', from: { regs: 168 } },
  { name: 'gs_base', bits: 64, type: 'int', from: { regs: 176 } },
];
/** The upper halves of ymm0-15: xsave state component 2. */
const avx = (): Register[] => Array.from({ length: 16 }, (_, i): Register => ({ name: `ymm${i}h`, bits: 128, type: 'uint128', from: { xsave: 576 + 16 * i } }));

const VEC128 = `<vector id="v8bf16" type="bfloat16" count="8"/><vector id="v8h" type="ieee_half" count="8"/>
<vector id="v4f" type="ieee_single" count="4"/><vector id="v2d" type="ieee_double" count="2"/>
<vector id="v16i8" type="int8" count="16"/><vector id="v8i16" type="int16" count="8"/>
<vector id="v4i32" type="int32" count="4"/><vector id="v2i64" type="int64" count="2"/>
<union id="vec128"><field name="v8_bfloat16" type="v8bf16"/><field name="v8_half" type="v8h"/><field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/>
<field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/>
<field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/></union>`;

/** The registers of the machine, in gdb's numbering, with the target description naming them. */
export class RegisterFile {
  readonly registers: Register[];
  readonly targetXml: string;

  /** `avxPresent`: the tasks' xsave areas hold AVX state (xsave size beyond component 2). */
  constructor(avxPresent: boolean) {
    const features: [string, Register[], string?][] = [
      ['org.gnu.gdb.i386.core', core()],
      ['org.gnu.gdb.i386.sse', sse(), VEC128],
      ['org.gnu.gdb.i386.linux', linux()],
      ['org.gnu.gdb.i386.segments', segments()],
    ];
    if (avxPresent) features.push(['org.gnu.gdb.i386.avx', avx()]);
    this.registers = features.flatMap(([, regs]) => regs);
    const body = features
      .map(([name, regs, types]) => `<feature name="${name}">${types ?? ''}${regs.map(describe).join('')}</feature>`)
      .join('\n');
    this.targetXml = `<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target><architecture>i386:x86-64</architecture><osabi>GNU/Linux</osabi>\n${body}</target>`;
  }

  /** Every register's bytes, in order (the `g` packet). */
  all(task: Task, xsave: Buffer): Buffer {
    const regs = task.getRegs().buf;
    return Buffer.concat(this.registers.map((r) => bytesOf(r, regs, xsave)));
  }

  /** Register `n`'s bytes, or undefined if there is no register `n` (the `p` packet). */
  one(task: Task, xsave: Buffer, n: number): Buffer | undefined {
    const r = this.registers[n];
    return r && bytesOf(r, task.getRegs().buf, xsave);
  }
}

function describe(r: Register): string {
  return `<reg name="${r.name}" bitsize="${r.bits}" type="${r.type}"${r.group ? ` group="${r.group}"` : ''}/>`;
}

function bytesOf(r: Register, regs: Buffer, xsave: Buffer): Buffer {
  const size = r.bits / 8;
  const out = Buffer.alloc(size);
  const f = r.from;
  if ('regs' in f) regs.copy(out, 0, f.regs, f.regs + size);
  else if ('xsave' in f) xsave.copy(out, 0, f.xsave, f.xsave + size);
  else if ('xsave16' in f) out.writeUInt32LE(xsave.length >= f.xsave16 + 2 ? xsave.readUInt16LE(f.xsave16) : 0);
  else out.writeUInt32LE(fullTag(xsave));
  return out;
}

/** The x87 tag word from FXSAVE's abridged one (a bit per register: empty or not): empty is
 * 3, and a non-empty register is valid (0), zero (1) or special (2) by its contents. */
function fullTag(xsave: Buffer): number {
  if (xsave.length < 160) return 0xffff;
  const abridged = xsave[4]!;
  const top = (xsave.readUInt16LE(2) >> 11) & 7;
  let tag = 0;
  for (let phys = 0; phys < 8; phys++) {
    let t = 3;
    if (abridged & (1 << phys)) {
      const st = 32 + 16 * ((phys - top + 8) & 7); // st(i) holds physical register top+i
      const exponent = xsave.readUInt16LE(st + 8) & 0x7fff;
      const mantissa = xsave.readBigUInt64LE(st);
      t = exponent === 0x7fff ? 2 : exponent === 0 ? (mantissa === 0n ? 1 : 2) : (mantissa >> 63n) === 1n ? 0 : 2;
    }
    tag |= t << (2 * phys);
  }
  return tag;
}
