// SPDX-License-Identifier: MIT
/**
 * Bindings to native/probes.c, for `tsrr doctor`: each probe answers 0 when the kernel let it
 * do the thing, an errno (positive) for the step that failed, or one of PROBE's codes.
 */
import koffi from './koffi.js';
import { fileURLToPath } from 'node:url';

export const PROBES_LIBRARY = fileURLToPath(new URL('../../native/build/libtsrr-probes.so', import.meta.url));

export const PROBE = {
  /** The probe ran, but what it tried for did not happen. */
  NO_EFFECT: -1,
  /** The probe needs ptrace, which failed. */
  NO_PTRACE: -2,
} as const;

export const PERF_TYPE = { HARDWARE: 0, SOFTWARE: 1 } as const;
/** PERF_COUNT_SW_CONTEXT_SWITCHES, PERF_COUNT_HW_INSTRUCTIONS. */
export const PERF_COUNT = { CONTEXT_SWITCHES: 3, INSTRUCTIONS: 1 } as const;

export interface Probes {
  ptrace(): number;
  seccomp(): number;
  cpuidFaulting(): number;
  perf(type: number, config: number): number;
  userfaultfd(): number;
  pagemapScan(): number;
  pagemap(): number;
}

/** The probes, loaded when first asked for (throws where the library was not built). */
export function loadProbes(): Probes {
  const lib = koffi.load(PROBES_LIBRARY);
  const fn = (name: string) => lib.func(`int ${name}(void)`) as () => number;
  const perf = lib.func('int tsrr_probe_perf(int type, int config)') as (type: number, config: number) => number;
  return {
    ptrace: fn('tsrr_probe_ptrace'),
    seccomp: fn('tsrr_probe_seccomp'),
    cpuidFaulting: fn('tsrr_probe_cpuid_faulting'),
    perf,
    userfaultfd: fn('tsrr_probe_userfaultfd'),
    pagemapScan: fn('tsrr_probe_pagemap_scan'),
    pagemap: fn('tsrr_probe_pagemap'),
  };
}
