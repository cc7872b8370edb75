// SPDX-License-Identifier: MIT
/** Manifest and State of schema/pcp.capnp as plain objects, and their framed files. */
import * as capnp from 'capnp-es';
import { existsSync, readFileSync } from 'node:fs';
import { TsrrError, framed, framedMessage, readMessage, type ResourceLimit } from '../../core/index.js';
import { Manifest as CManifest, State as CState, type ChunkRef as CChunkRef, type Envelope as CEnvelope } from '../../schema/pcp.js';
import type { ChunkRef } from './ChunkStore.js';
import { PROCESS_SECTIONS, SESSION_SECTIONS, type ProcessSection, type SectionName, type SessionSection } from './PcpRegistry.js';

/** 2: every process and thread (format 1 held the first process's one task); 3: their
 * resource limits; 4: the manifest holds a hash of the chunks file. */
export const PCP_FORMAT_VERSION = 4;
const MANIFEST_MAGIC = 0x4d504354; // "TCPM"
const STATE_MAGIC = 0x53504354; // "TCPS"

/** Fills a payload's list of chunk refs, made `refs.length` long. */
export function writeChunkRefs(list: capnp.List<CChunkRef>, refs: readonly ChunkRef[]): void {
  refs.forEach((c, i) => {
    const r = list.get(i);
    r.offset = c.offset;
    r.length = c.length;
    r._initHash(c.hash.length).copyBuffer(c.hash);
  });
}

/** A payload's list of chunk refs, as plain objects. */
export function readChunkRefs(list: capnp.List<CChunkRef>): ChunkRef[] {
  return [...list].map((c) => ({ offset: c.offset, length: c.length, hash: Buffer.from(c.hash.toUint8Array()) }));
}

export interface Envelope {
  kind: string;
  version: number;
  payload: Uint8Array;
}

export interface KindUse {
  section: SectionName;
  kind: string;
  version: number;
  plugin: string;
  /** Without its plugin the checkpoint restores all but this kind's state. */
  optional?: boolean;
}

export interface Manifest {
  formatVersion: number;
  traceUuid: string;
  frame: number;
  createdNs: bigint;
  needs: KindUse[];
  memoryBytes: bigint;
  storedBytes: bigint;
  /** The state is part way to the event after `frame` (a debugger's stop), not right after it. */
  partWay: boolean;
  /** sha256 of the chunks file, set as it is written (format 4 on). */
  chunkList?: Buffer;
}

export interface ThreadState {
  /** Its id in the trace; 0 in format 1, where it is the id of the trace's first event. */
  tid: number;
  /** Held at the entry of a syscall a later event completes (its registers are those before
   * the syscall instruction). */
  held: boolean;
}

export interface ProcessState {
  /** Its id in the trace; 0 in format 1 (the first event's). */
  tgid: number;
  /** The program it runs, relative to the trace directory. */
  executable: string;
  /** Its tasks, in the order of the tasks section's envelopes. */
  threads: ThreadState[];
  /** Its limits that replay reproduces (none before format 3: the recording's first). */
  limits: ResourceLimit[];
  sections: Record<ProcessSection, Envelope[]>;
}

export interface State {
  processes: ProcessState[];
  sections: Record<SessionSection, Envelope[]>;
}

export function encodeManifest(m: Manifest): Buffer {
  const msg = new capnp.Message();
  const c = msg.initRoot(CManifest);
  c.formatVersion = m.formatVersion;
  c.traceUuid = m.traceUuid;
  c.frame = BigInt(m.frame);
  c.createdNs = m.createdNs;
  c.memoryBytes = m.memoryBytes;
  c.storedBytes = m.storedBytes;
  c.partWay = m.partWay;
  if (m.chunkList) c._initChunkList(m.chunkList.length).copyBuffer(m.chunkList);
  const needs = c._initNeeds(m.needs.length);
  m.needs.forEach((n, i) => Object.assign(needs.get(i), n));
  return framed(MANIFEST_MAGIC, 0, new Uint8Array(msg.toArrayBuffer()));
}

type EnvelopeLists = { [K in SectionName as `_init${Capitalize<K>}`]: (n: number) => capnp.List<CEnvelope> };

function putEnvelopes(into: EnvelopeLists, section: SectionName, envs: readonly Envelope[]): void {
  const list = into[`_init${section[0]!.toUpperCase()}${section.slice(1)}` as `_init${Capitalize<SectionName>}`].call(into, envs.length);
  envs.forEach((e, i) => {
    const ce = list.get(i);
    ce.kind = e.kind;
    ce.version = e.version;
    if (e.payload.length > 0) ce._initPayload(e.payload.length).copyBuffer(e.payload);
  });
}

function getEnvelopes(list: capnp.List<CEnvelope>): Envelope[] {
  const out: Envelope[] = [];
  for (let i = 0; i < list.length; i++) {
    const e = list.get(i);
    out.push({ kind: e.kind, version: e.version, payload: e._hasPayload() ? Buffer.from(e.payload.toUint8Array()) : Buffer.alloc(0) });
  }
  return out;
}

export function encodeState(s: State): Buffer {
  const msg = new capnp.Message();
  const c = msg.initRoot(CState);
  for (const section of SESSION_SECTIONS) putEnvelopes(c as unknown as EnvelopeLists, section, s.sections[section]);
  const processes = c._initProcesses(s.processes.length);
  s.processes.forEach((p, i) => {
    const cp = processes.get(i);
    cp.tgid = p.tgid;
    cp.executable = p.executable;
    for (const section of PROCESS_SECTIONS) putEnvelopes(cp as unknown as EnvelopeLists, section, p.sections[section]);
    const threads = cp._initThreads(p.threads.length);
    p.threads.forEach((t, j) => Object.assign(threads.get(j), t));
    const limits = cp._initLimits(p.limits.length);
    p.limits.forEach((l, j) => Object.assign(limits.get(j), l));
  });
  return framed(STATE_MAGIC, 0, new Uint8Array(msg.toArrayBuffer()));
}

/** The message of a framed file, checked; errors name the file and say what is wrong. */
function readFramed(file: string, magic: number): Uint8Array {
  if (!existsSync(file)) throw new TsrrError('CHECKPOINT_CORRUPT', `${file} is missing`, { file });
  return framedMessage(readFileSync(file), magic, (why) => new TsrrError('CHECKPOINT_CORRUPT', `${file} is corrupt: ${why}`, { file }));
}

export function readManifest(file: string): Manifest {
  const message = readFramed(file, MANIFEST_MAGIC);
  try {
    const c = readMessage(message).getRoot(CManifest);
    if (c.formatVersion > PCP_FORMAT_VERSION) {
      throw new TsrrError('CHECKPOINT_TOO_NEW', `${file} has checkpoint format version ${c.formatVersion}; this tsrr reads versions up to ${PCP_FORMAT_VERSION} (upgrade tsrr, or use --ignore-pcp)`, { file });
    }
    const needs: KindUse[] = [];
    for (let i = 0; i < c.needs.length; i++) {
      const n = c.needs.get(i);
      needs.push({ section: n.section as SectionName, kind: n.kind, version: n.version, plugin: n.plugin, ...(n.optional && { optional: true }) });
    }
    return { formatVersion: c.formatVersion, traceUuid: c.traceUuid, frame: Number(c.frame), createdNs: c.createdNs, needs, memoryBytes: c.memoryBytes, storedBytes: c.storedBytes, partWay: c.partWay, ...(c._hasChunkList() ? { chunkList: Buffer.from(c.chunkList.toUint8Array()) } : {}) };
  } catch (e) {
    if (e instanceof TsrrError) throw e;
    throw new TsrrError('CHECKPOINT_CORRUPT', `${file} is corrupt: ${(e as Error).message}`, { file });
  }
}

export function readState(file: string): State {
  const message = readFramed(file, STATE_MAGIC);
  try {
    const c = readMessage(message).getRoot(CState);
    const sectionsOf = <S extends SectionName>(from: object, names: readonly S[]) =>
      Object.fromEntries(names.map((name) => [name, getEnvelopes((from as Record<S, capnp.List<CEnvelope>>)[name])])) as Record<S, Envelope[]>;
    const processes: ProcessState[] = [];
    for (let i = 0; i < c.processes.length; i++) {
      const p = c.processes.get(i);
      const threads: ThreadState[] = [];
      for (let j = 0; j < p.threads.length; j++) threads.push({ tid: p.threads.get(j).tid, held: p.threads.get(j).held });
      const limits = [...p.limits].map((l) => ({ resource: l.resource, soft: l.soft, hard: l.hard }));
      processes.push({ tgid: p.tgid, executable: p.executable, threads, limits, sections: sectionsOf(p, PROCESS_SECTIONS) });
    }
    if (c.processes.length === 0 && c.executable !== '') {
      // Format 1: the one task of the recording's first process.
      const sections = sectionsOf(c, PROCESS_SECTIONS);
      processes.push({ tgid: 0, executable: c.executable, threads: sections.tasks.map(() => ({ tid: 0, held: false })), limits: [], sections });
    }
    for (const p of processes) {
      if (p.threads.length !== p.sections.tasks.length) throw new Error(`process ${p.tgid} has ${p.threads.length} threads but ${p.sections.tasks.length} saved tasks`);
    }
    return { processes, sections: sectionsOf(c, SESSION_SECTIONS) };
  } catch (e) {
    throw new TsrrError('CHECKPOINT_CORRUPT', `${file} is corrupt: ${(e as Error).message}`, { file });
  }
}

/** A payload: one capnp message of `type`, filled by `fill`. */
export function encodePayload<T extends capnp.Struct>(type: capnp.StructCtor<T>, fill: (root: T) => void): Uint8Array {
  const msg = new capnp.Message();
  fill(msg.initRoot(type));
  return new Uint8Array(msg.toArrayBuffer());
}

export function decodePayload<T extends capnp.Struct>(type: capnp.StructCtor<T>, payload: Uint8Array): T {
  return readMessage(payload).getRoot(type);
}
