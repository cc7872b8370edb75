// SPDX-License-Identifier: MIT
/** Encodes and decodes blocks of Events as EventBlock messages of schema/trace.capnp. */
import * as capnp from 'capnp-es';
import { EventBlock, Event_Which as CEventWhich, type Event as CEvent, type MemWrite as CMemWrite, type Snapshot as CSnapshot, type Syscall as CSyscall } from '../schema/trace.js';
import { decodeBytes, encodeBytes } from '../native/byteString.js';
import { Event, type EventData, type FileChange, type MappedFile, type MemWrite, type Snapshot } from './Event.js';

/** Byte offsets of Syscall's fields in its data section (schema/trace.capnp: number @0,
 * arg0..arg5 @1-6, ip @7, sp @8, regsCrc @9, result @10; fixed once the schema is published). */
const SYSCALL = { number: 0, args: 8, ip: 56, sp: 64, regsCrc: 72, result: 80 } as const;

/** A message whose single segment is allocated once: capnp-es otherwise grows it quadratically. */
export function presizedMessage(bytes: number): capnp.Message {
  const m = new capnp.Message();
  const seg = m.getSegment(0);
  seg.allocate(bytes);
  seg.byteLength = 8;
  return m;
}

/** Reads a framed, unpacked message without capnp-es's traversal limit (blocks can be large). */
export function readMessage(bytes: Uint8Array): capnp.Message {
  const msg = new capnp.Message(bytes, false);
  (msg as unknown as { _capnp: { traversalLimit: number } })._capnp.traversalLimit = Number.POSITIVE_INFINITY;
  return msg;
}

const setData = (init: (n: number) => capnp.Data, b: Buffer) => {
  if (b.length > 0) init(b.length).copyBuffer(b);
};
const getData = (has: boolean, d: () => capnp.Data): Buffer => (has ? Buffer.from(d().toUint8Array()) : Buffer.alloc(0));

/** A list of MemWrites into a message (nothing for none). */
function setMemWrites(init: (n: number) => capnp.List<CMemWrite>, writes: readonly MemWrite[]): void {
  if (writes.length === 0) return;
  const ws = init(writes.length);
  writes.forEach((w, i) => {
    const cw = ws.get(i);
    cw.addr = w.addr;
    setData((n) => cw._initData(n), w.data);
  });
}

function memWritesOf(has: boolean, list: () => capnp.List<CMemWrite>): MemWrite[] {
  const writes: MemWrite[] = [];
  if (!has) return writes;
  const ws = list();
  for (let i = 0; i < ws.length; i++) {
    const w = ws.get(i);
    writes.push({ addr: w.addr, data: getData(w._hasData(), () => w.data) });
  }
  return writes;
}

/** Writes a name (a path, an argv or envp word: byteString.ts) into a Data pointer as Text is
 * written, its bytes and a NUL, which is what traces held while these fields were Text. */
function setNameAt(p: capnp.Data, name: string): void {
  const bytes = encodeBytes(name);
  // capnp-es allocates a byte list only through a field's init or Text.set: the latter, with
  // as many (NUL) bytes, then the name's own.
  new capnp.Text(p.segment, p.byteOffset).set(0, '\0'.repeat(bytes.length));
  p.copyBuffer(bytes);
}

export function setName(init: (n: number) => capnp.Data, name: string): void {
  const bytes = encodeBytes(name);
  init(bytes.length + 1).copyBuffer(bytes);
}

export function setNames(init: (n: number) => capnp.List<capnp.Data>, names: readonly string[]): void {
  const l = init(names.length);
  names.forEach((name, i) => setNameAt(l.get(i), name));
}

/** A name written by setName or as Text. */
export function nameOf(d: capnp.Data): string {
  const b = d.toUint8Array();
  return decodeBytes(b.length > 0 && b[b.length - 1] === 0 ? b.subarray(0, -1) : b);
}

export const namesOf = (l: capnp.List<capnp.Data>): string[] => [...l].map(nameOf);

export function encodeBlock(firstFrame: number, events: readonly Event[]): Uint8Array {
  const estimate = events.reduce((n, e) => n + 160 + e.dataBytes + (e.data.kind === 'syscall' ? e.data.writes.length * 32 : 0), 64);
  const msg = presizedMessage(estimate + (estimate >> 3));
  const block = msg.initRoot(EventBlock);
  block.firstFrame = BigInt(firstFrame);
  const list = block._initEvents(events.length);
  events.forEach((e, i) => encodeEvent(list.get(i), e));
  return new Uint8Array(msg.toArrayBuffer());
}

function encodeEvent(c: CEvent, e: Event): void {
  c.tid = e.tid;
  const d = e.data;
  switch (d.kind) {
    case 'syscall': {
      const s = c._initSyscall();
      // One lookup of the data section instead of one per field: syscalls are most events.
      const ds = capnp.utils.getContent(s);
      const seg = ds.segment;
      seg.setInt64(ds.byteOffset + SYSCALL.number, BigInt(d.number));
      d.args.forEach((a, i) => seg.setUint64(ds.byteOffset + SYSCALL.args + 8 * i, a));
      seg.setUint64(ds.byteOffset + SYSCALL.ip, d.ip);
      seg.setUint64(ds.byteOffset + SYSCALL.sp, d.sp);
      seg.setUint32(ds.byteOffset + SYSCALL.regsCrc, d.regsCrc);
      seg.setInt64(ds.byteOffset + SYSCALL.result, d.result);
      setMemWrites((n) => s._initWrites(n), d.writes);
      if (d.mappedFile) {
        const m = s._initMappedFile();
        setName((n) => m._initPath(n), d.mappedFile.path);
        m.copy = d.mappedFile.copy;
        m.identity = d.mappedFile.identity;
        m.watched = d.mappedFile.watched;
      }
      if (d.skipped) s.skipped = true;
      if (d.remoteWrites) {
        const rw = s._initRemoteWrites();
        rw.tid = d.remoteWrites.tid;
        setMemWrites((n) => rw._initWrites(n), d.remoteWrites.writes);
      }
      if (d.fileChange) {
        const f = s._initFileChange();
        f.identity = d.fileChange.identity;
        f.size = d.fileChange.size;
        f.offset = d.fileChange.offset;
        setData((n) => f._initData(n), d.fileChange.data);
      }
      return;
    }
    case 'exec': {
      const x = c._initExec();
      setName((n) => x._initPath(n), d.path);
      x.copy = d.copy;
      setNames((n) => x._initArgv(n), d.argv);
      setNames((n) => x._initEnvp(n), d.envp);
      setData((n) => x._initRegs(n), d.regs);
      setData((n) => x._initStack(n), d.stack);
      x.becomes = d.becomes ?? 0;
      return;
    }
    case 'signal': {
      const s = c._initSignal();
      s.signo = d.signo;
      s.code = d.code;
      setData((n) => s._initRegs(n), d.regs);
      setData((n) => s._initSiginfo(n), d.siginfo);
      if (d.snapshot) encodeSnapshot(s._initSnapshot(), d.snapshot);
      if (d.toTracer) s.toTracer = true;
      return;
    }
    case 'syscallEntry':
      c.syscallEntry = BigInt(d.number);
      return;
    case 'fork': {
      const f = c._initFork();
      Object.assign(f, { child: d.child, flags: d.flags, parentTid: d.parentTid, childTid: d.childTid, parentTidValue: d.parentTidValue ?? 0, childTidValue: d.childTidValue ?? 0 });
      return;
    }
    case 'preempt':
      encodeSnapshot(c._initPreempt(), d.snapshot);
      return;
    case 'buffered':
      setData((n) => c._initBuffered(n), d.records);
      return;
    case 'rdtsc': {
      const r = c._initRdtsc();
      r.value = d.value;
      r.ip = d.ip;
      r.aux = d.aux;
      return;
    }
    case 'cpuid': {
      const r = c._initCpuid();
      Object.assign(r, { leaf: d.leaf, subleaf: d.subleaf, eax: d.eax, ebx: d.ebx, ecx: d.ecx, edx: d.edx });
      return;
    }
    case 'exit':
      c._initExit().status = d.status;
      return;
    case 'interrupted':
      c.interrupted = true;
      return;
  }
}

function encodeSnapshot(c: CSnapshot, s: Snapshot): void {
  setData((n) => c._initRegs(n), s.regs);
  setData((n) => c._initXstate(n), s.xstate);
  setData((n) => c._initPages(n), s.pages);
  const list = c._initContents(s.contents.length);
  s.contents.forEach((p, i) => {
    const cp = list.get(i);
    cp.hash = p.hash;
    setData((n) => cp._initData(n), p.data);
  });
}

function decodeSnapshot(c: CSnapshot): Snapshot {
  const contents = [];
  const list = c.contents;
  for (let i = 0; i < list.length; i++) {
    const p = list.get(i);
    contents.push({ hash: p.hash, data: getData(p._hasData(), () => p.data) });
  }
  return {
    regs: getData(c._hasRegs(), () => c.regs),
    xstate: getData(c._hasXstate(), () => c.xstate),
    pages: getData(c._hasPages(), () => c.pages),
    contents,
  };
}

export function decodeBlock(bytes: Uint8Array): { firstFrame: number; events: Event[] } {
  const block = readMessage(bytes).getRoot(EventBlock);
  const firstFrame = Number(block.firstFrame);
  const events: Event[] = [];
  const list = block.events;
  for (let i = 0; i < list.length; i++) {
    const c = list.get(i);
    events.push(new Event(firstFrame + i, c.tid, decodeEvent(c)));
  }
  return { firstFrame, events };
}

function mappedFileOf(m: CSyscall['mappedFile']): MappedFile {
  return { path: nameOf(m.path), copy: m.copy, identity: m.identity, watched: m.watched };
}

function fileChangeOf(f: CSyscall['fileChange']): FileChange {
  return { identity: f.identity, size: f.size, offset: f.offset, data: getData(f._hasData(), () => f.data) };
}

function decodeSyscall(s: CSyscall): EventData {
  const writes = memWritesOf(s._hasWrites(), () => s.writes);
  const ds = capnp.utils.getContent(s);
  const seg = ds.segment;
  const at = ds.byteOffset;
  return {
    kind: 'syscall',
    number: Number(seg.getInt64(at + SYSCALL.number)),
    args: [0, 1, 2, 3, 4, 5].map((i) => seg.getUint64(at + SYSCALL.args + 8 * i)),
    ip: seg.getUint64(at + SYSCALL.ip),
    sp: seg.getUint64(at + SYSCALL.sp),
    regsCrc: seg.getUint32(at + SYSCALL.regsCrc),
    result: seg.getInt64(at + SYSCALL.result),
    writes,
    ...(s._hasMappedFile() ? { mappedFile: mappedFileOf(s.mappedFile) } : {}),
    ...(s._hasFileChange() ? { fileChange: fileChangeOf(s.fileChange) } : {}),
    ...(s.skipped ? { skipped: true } : {}),
    ...(s._hasRemoteWrites() ? { remoteWrites: { tid: s.remoteWrites.tid, writes: memWritesOf(s.remoteWrites._hasWrites(), () => s.remoteWrites.writes) } } : {}),
  };
}

function decodeEvent(c: CEvent): EventData {
  switch (c.which()) {
    case CEventWhich.SYSCALL:
      return decodeSyscall(c.syscall);
    case CEventWhich.EXEC: {
      const x = c.exec;
      return {
        kind: 'exec',
        path: nameOf(x.path),
        copy: x.copy,
        argv: namesOf(x.argv),
        envp: namesOf(x.envp),
        regs: getData(x._hasRegs(), () => x.regs),
        stack: getData(x._hasStack(), () => x.stack),
        ...(x.becomes !== 0 && { becomes: x.becomes }),
      };
    }
    case CEventWhich.SIGNAL: {
      const s = c.signal;
      return {
        kind: 'signal',
        signo: s.signo,
        code: s.code,
        regs: getData(s._hasRegs(), () => s.regs),
        siginfo: getData(s._hasSiginfo(), () => s.siginfo),
        ...(s._hasSnapshot() ? { snapshot: decodeSnapshot(s.snapshot) } : {}),
        ...(s.toTracer ? { toTracer: true } : {}),
      };
    }
    case CEventWhich.RDTSC: {
      const r = c.rdtsc;
      return { kind: 'rdtsc', value: r.value, ip: r.ip, aux: r.aux };
    }
    case CEventWhich.CPUID: {
      const r = c.cpuid;
      return { kind: 'cpuid', leaf: r.leaf, subleaf: r.subleaf, eax: r.eax, ebx: r.ebx, ecx: r.ecx, edx: r.edx };
    }
    case CEventWhich.EXIT:
      return { kind: 'exit', status: c.exit.status };
    case CEventWhich.INTERRUPTED:
      return { kind: 'interrupted' };
    case CEventWhich.SYSCALL_ENTRY:
      return { kind: 'syscallEntry', number: Number(c.syscallEntry) };
    case CEventWhich.FORK: {
      const f = c.fork;
      const ids = { ...(f.parentTidValue !== 0 && { parentTidValue: f.parentTidValue }), ...(f.childTidValue !== 0 && { childTidValue: f.childTidValue }) };
      return { kind: 'fork', child: f.child, flags: f.flags, parentTid: f.parentTid, childTid: f.childTid, ...ids };
    }
    case CEventWhich.PREEMPT:
      return { kind: 'preempt', snapshot: decodeSnapshot(c.preempt) };
    case CEventWhich.BUFFERED:
      return { kind: 'buffered', records: getData(c._hasBuffered(), () => c.buffered) };
    default:
      throw new Error(`unknown event kind ${c.which()}`);
  }
}
