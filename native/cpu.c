// SPDX-License-Identifier: MIT
// Instructions the tracer must execute itself: cpuid (recorded per machine and emulated where
// CPUID faulting exists), rdtsc (the value a trapped rdtsc returns while recording) and xgetbv
// (which xsave components the machine enables).
#include <stdint.h>

void tsrr_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *out) {
  __asm__ volatile("cpuid"
                   : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3])
                   : "a"(leaf), "c"(subleaf));
}

uint64_t tsrr_rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

uint64_t tsrr_xgetbv(uint32_t index) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
  return ((uint64_t)hi << 32) | lo;
}
