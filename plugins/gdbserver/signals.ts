// SPDX-License-Identifier: MIT
/** Linux signal numbers as the gdb remote protocol numbers them (gdb's own enum). */
const FIXED: Record<number, number> = {
  1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 10, 8: 8, 9: 9, 10: 30, 11: 11, 12: 31, 13: 13, 14: 14, 15: 15,
  17: 20, 18: 19, 19: 17, 20: 18, 21: 21, 22: 22, 23: 16, 24: 24, 25: 25, 26: 26, 27: 27, 28: 28, 29: 23,
  30: 32, 31: 12, 32: 77, 64: 78,
};
const UNKNOWN = 143;

export function gdbSignal(linux: number): number {
  if (linux === 0) return 0;
  if (linux >= 33 && linux <= 63) return linux + 12; // GDB_SIGNAL_REALTIME_33 is 45
  return FIXED[linux] ?? UNKNOWN;
}
