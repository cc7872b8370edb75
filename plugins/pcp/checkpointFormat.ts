// SPDX-License-Identifier: MIT
/** Manifest and State of schema/pcp.capnp as plain objects, and their framed files. */
import * as capnp from 'capnp-es';
import { existsSync, readFileSync } from 'node:fs';
import { TsrrError, framed, framedMessage, readMessage } from '../../core/index.js';
import { Manifest as CManifest, State as CState, type Envelope as CEnvelope } from '../../schema/pcp.js';
import { SECTIONS, type SectionName } from './PcpRegistry.js';

export const PCP_FORMAT_VERSION = 1;
const MANIFEST_MAGIC = 0x4d504354; // "TCPM"
const STATE_MAGIC = 0x53504354; // "TCPS"

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
}

export interface Manifest {
  formatVersion: number;
  traceUuid: string;
  frame: number;
  createdNs: bigint;
  needs: KindUse[];
  memoryBytes: bigint;
  storedBytes: bigint;
}

export interface State {
  executable: string;
  sections: Record<SectionName, Envelope[]>;
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
  const needs = c._initNeeds(m.needs.length);
  m.needs.forEach((n, i) => Object.assign(needs.get(i), n));
  return framed(MANIFEST_MAGIC, 0, new Uint8Array(msg.toArrayBuffer()));
}

export function encodeState(s: State): Buffer {
  const msg = new capnp.Message();
  const c = msg.initRoot(CState);
  c.executable = s.executable;
  for (const section of SECTIONS) {
    const list = (c[`_init${section[0]!.toUpperCase()}${section.slice(1)}` as '_initMappings'] as (n: number) => capnp.List<CEnvelope>).call(c, s.sections[section].length);
    s.sections[section].forEach((e, i) => {
      const ce = list.get(i);
      ce.kind = e.kind;
      ce.version = e.version;
      if (e.payload.length > 0) ce._initPayload(e.payload.length).copyBuffer(e.payload);
    });
  }
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
      needs.push({ section: n.section as SectionName, kind: n.kind, version: n.version, plugin: n.plugin });
    }
    return { formatVersion: c.formatVersion, traceUuid: c.traceUuid, frame: Number(c.frame), createdNs: c.createdNs, needs, memoryBytes: c.memoryBytes, storedBytes: c.storedBytes };
  } catch (e) {
    if (e instanceof TsrrError) throw e;
    throw new TsrrError('CHECKPOINT_CORRUPT', `${file} is corrupt: ${(e as Error).message}`, { file });
  }
}

export function readState(file: string): State {
  const message = readFramed(file, STATE_MAGIC);
  try {
    const c = readMessage(message).getRoot(CState);
    const sections = {} as Record<SectionName, Envelope[]>;
    for (const section of SECTIONS) {
      const list = c[section] as capnp.List<CEnvelope>;
      sections[section] = [];
      for (let i = 0; i < list.length; i++) {
        const e = list.get(i);
        sections[section].push({ kind: e.kind, version: e.version, payload: e._hasPayload() ? Buffer.from(e.payload.toUint8Array()) : Buffer.alloc(0) });
      }
    }
    return { executable: c.executable, sections };
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
