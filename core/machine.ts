// SPDX-License-Identifier: MIT
/** Facts about the machine a trace is recorded on, and the check that replay runs on a similar one. */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { cpuid, debugRegistersWork, rdtscTraps, threadCpus, xgetbv } from '../native/libc.js';
import type { CpuidResult } from './Event.js';
import type { MachineInfo } from './TraceHeader.js';
import type { PatchedInstruction } from './trapPatching.js';

/** Leaves whose subleaves differ (ecx selects them), with how many subleaves to save. */
const SUBLEAVES: Record<number, number> = { 4: 8, 7: 2, 0xb: 4, 0xd: 20, 0xf: 2, 0x10: 4, 0x12: 4, 0x14: 2, 0x17: 4, 0x18: 8, 0x1d: 2, 0x1e: 1, 0x1f: 6, 0x8000001d: 8 };

export function cpuidRecords(): CpuidResult[] {
  const out: CpuidResult[] = [];
  const add = (leaf: number) => {
    const n = SUBLEAVES[leaf] ?? 1;
    for (let sub = 0; sub < n; sub++) {
      const [eax, ebx, ecx, edx] = cpuid(leaf, sub);
      out.push({ leaf, subleaf: sub, eax, ebx, ecx, edx });
    }
  };
  const maxBasic = cpuid(0, 0)[0];
  for (let l = 0; l <= Math.min(maxBasic, 0x40); l++) add(l);
  const maxExt = cpuid(0x80000000, 0)[0] >>> 0;
  for (let l = 0x80000000; l <= Math.min(maxExt, 0x80000040); l++) add(l >>> 0);
  return out;
}

let trapsRdtsc: boolean | undefined;

/** Whether this machine traps rdtsc when asked (PR_SET_TSC); some virtual machines do not. */
export const rdtscTrapping = (): boolean => (trapsRdtsc ??= rdtscTraps());

let watchpointsWork: boolean | undefined;

/** Whether hardware watchpoints (the debug registers) work here; some virtual machines ignore them. */
export const hardwareWatchpoints = (): boolean => (watchpointsWork ??= debugRegistersWork());

/** Whether this CPU can make cpuid fault (arch_prctl ARCH_SET_CPUID). */
export const cpuidFaultingAvailable = (): boolean => /^flags\s*:.*\bcpuid_fault\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));

export function machineInfo(boundCpu: number, cpuidFaulting: boolean, patched: PatchedInstruction[]): MachineInfo {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const hasXsave = (cpuid(1, 0)[2] & (1 << 27)) !== 0; // OSXSAVE
  return {
    kernel: release(),
    cpuModel: model,
    boundCpu,
    cpuidFaulting,
    patched,
    xcr0: hasXsave ? xgetbv(0) : 0n,
    xsaveSize: hasXsave ? cpuid(0xd, 0)[1] : 512,
    cpuid: cpuidRecords(),
  };
}

/** The CPUs tsrr may run on (as taskset or a cpuset left them), read before the tracer thread
 * pins itself to one. */
const START_CPUS = threadCpus();
export const allowedCpus = (): readonly number[] => START_CPUS;

/** The CPU tracees are pinned to: the last allowed one, away from CPU 0 where interrupts tend to land. */
export const defaultCpu = (): number => START_CPUS.at(-1)!;

/** The CPU a replay runs on: the recording's, when tsrr may run there. */
export const replayCpu = (recorded: MachineInfo): number => (START_CPUS.includes(recorded.boundCpu) ? recorded.boundCpu : defaultCpu());

/** What differs between the recording machine and this one that can change a replay. */
export function machineDifferences(recorded: MachineInfo): string[] {
  const here = machineInfo(recorded.boundCpu, recorded.cpuidFaulting, recorded.patched);
  const diffs: string[] = [];
  if (here.cpuModel !== recorded.cpuModel) diffs.push(`CPU model (${recorded.cpuModel} recorded, ${here.cpuModel} here)`);
  if (here.xcr0 !== recorded.xcr0) diffs.push(`enabled xsave features (xcr0 0x${recorded.xcr0.toString(16)} recorded, 0x${here.xcr0.toString(16)} here)`);
  const key = (r: CpuidResult) => `${r.leaf}.${r.subleaf}`;
  const now = new Map(here.cpuid.map((r) => [key(r), r]));
  // Feature leaves only: leaf 1 ebx and leaf 0xb carry the APIC id of whichever CPU ran this.
  for (const r of recorded.cpuid.filter((c) => c.leaf === 0 || c.leaf === 7 || c.leaf === 0xd)) {
    const h = now.get(key(r));
    if (!h || h.eax !== r.eax || h.ebx !== r.ebx || h.ecx !== r.ecx || h.edx !== r.edx) diffs.push(`cpuid leaf 0x${r.leaf.toString(16)}.${r.subleaf}`);
  }
  return diffs;
}
