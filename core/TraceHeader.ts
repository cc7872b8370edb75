// SPDX-License-Identifier: MIT
/** The trace header: what was recorded, where, and on which machine (schema Header). */
import * as capnp from 'capnp-es';
import { Header } from '../schema/trace.js';
import type { CpuidResult } from './Event.js';
import { nameOf, namesOf, readMessage, setName, setNames } from './eventCodec.js';
import { TsrrError } from '../native/TsrrError.js';
import { patchable, type PatchedInstruction } from './trapPatching.js';

export interface MachineInfo {
  kernel: string;
  cpuModel: string;
  boundCpu: number;
  cpuidFaulting: boolean;
  /** Instructions patched to trap (trapPatching.ts): rdtsc and rdtscp where the CPU does not
   * trap them (or record --patch-rdtsc), cpuid where it does not fault. */
  patched: PatchedInstruction[];
  xcr0: bigint;
  xsaveSize: number;
  cpuid: CpuidResult[];
}

/** A resource limit (getrlimit(2)); RLIM_INFINITY is all ones. */
export interface ResourceLimit {
  resource: number;
  soft: bigint;
  hard: bigint;
}

export interface TraceHeader {
  formatVersion: number;
  tsrrVersion: string;
  uuid: string;
  program: string;
  executable: string;
  argv: string[];
  envp: string[];
  cwd: string;
  startTimeNs: bigint;
  machine: MachineInfo;
  /** The first process's limits, which replay gives it too (empty in older traces). */
  limits: ResourceLimit[];
}

export function encodeHeader(h: TraceHeader): Uint8Array {
  const msg = new capnp.Message();
  const c = msg.initRoot(Header);
  c.formatVersion = h.formatVersion;
  c.tsrrVersion = h.tsrrVersion;
  c.uuid = h.uuid;
  setName((n) => c._initProgram(n), h.program);
  setName((n) => c._initExecutable(n), h.executable);
  setNames((n) => c._initArgv(n), h.argv);
  setNames((n) => c._initEnvp(n), h.envp);
  setName((n) => c._initCwd(n), h.cwd);
  c.startTimeNs = h.startTimeNs;
  const m = c._initMachine();
  m.kernel = h.machine.kernel;
  m.cpuModel = h.machine.cpuModel;
  m.boundCpu = h.machine.boundCpu;
  m.cpuidFaulting = h.machine.cpuidFaulting;
  const patched = m._initPatched(h.machine.patched.length);
  h.machine.patched.forEach((p, i) => patched.set(i, p));
  m.xcr0 = h.machine.xcr0;
  m.xsaveSize = h.machine.xsaveSize;
  const list = m._initCpuid(h.machine.cpuid.length);
  h.machine.cpuid.forEach((r, i) => Object.assign(list.get(i), r));
  const limits = c._initLimits(h.limits.length);
  h.limits.forEach((l, i) => Object.assign(limits.get(i), l));
  return new Uint8Array(msg.toArrayBuffer());
}

/** The format version alone, read first so that a newer trace is refused before decoding it. */
export const decodeFormatVersion = (bytes: Uint8Array): number => readMessage(bytes).getRoot(Header).formatVersion;

function patchedInstruction(name: string): PatchedInstruction {
  const known = patchable(name);
  if (known) return known;
  throw new TsrrError('TRACE_TOO_NEW', `the trace was recorded with ${name} instructions patched, which this tsrr cannot do; use a newer tsrr`, { instruction: name });
}

export function decodeHeader(bytes: Uint8Array): TraceHeader {
  const c = readMessage(bytes).getRoot(Header);
  const m = c.machine;
  const cpuid: CpuidResult[] = [];
  for (let i = 0; i < m.cpuid.length; i++) {
    const r = m.cpuid.get(i);
    cpuid.push({ leaf: r.leaf, subleaf: r.subleaf, eax: r.eax, ebx: r.ebx, ecx: r.ecx, edx: r.edx });
  }
  return {
    formatVersion: c.formatVersion,
    tsrrVersion: c.tsrrVersion,
    uuid: c.uuid,
    program: nameOf(c.program),
    executable: nameOf(c.executable),
    argv: namesOf(c.argv),
    envp: namesOf(c.envp),
    cwd: nameOf(c.cwd),
    startTimeNs: c.startTimeNs,
    machine: {
      kernel: m.kernel,
      cpuModel: m.cpuModel,
      boundCpu: m.boundCpu,
      cpuidFaulting: m.cpuidFaulting,
      patched: [...m.patched].map(patchedInstruction),
      xcr0: m.xcr0,
      xsaveSize: m.xsaveSize,
      cpuid,
    },
    limits: [...c.limits].map((l) => ({ resource: l.resource, soft: l.soft, hard: l.hard })),
  };
}
