// SPDX-License-Identifier: MIT
/**
 * What bpf(cmd, attr, size) writes to the caller's memory, by command. Map lookups write a
 * value whose size belongs to the map: /proc/PID/fdinfo of the map's fd tells it. A command
 * not described here is refused (the program gets EINVAL), as rr does.
 */
import { readFileSync } from 'node:fs';
import type { Region, SyscallCall } from './syscalls.js';

type Describe = (c: SyscallCall, attr: bigint, size: number) => Region[];

/** The attr union itself, which the command updates in place (lengths, counts, ids). */
const ATTR: Describe = (_c, attr, size) => [[attr, size]];

/** A buffer whose address is the u64 at `ptr` and whose length is the u32 at `len` of attr. */
const buffer = (ptr: number, len: number): Describe => (c, attr) => [[c.mem.u64(attr + BigInt(ptr)), c.mem.u32(attr + BigInt(len))]];

const both = (...parts: Describe[]): Describe => (c, attr, size) => parts.flatMap((p) => p(c, attr, size));

/** Map types whose values are per CPU: a lookup fills one (8-byte aligned) value per CPU. */
const PERCPU_MAPS = new Set([5, 6, 10, 20]);

function possibleCpus(): number {
  const spec = readFileSync('/sys/devices/system/cpu/possible', 'latin1').trim();
  return spec.split(',').reduce((n, part) => {
    const [a, b] = part.split('-').map(Number);
    return n + (b === undefined ? 1 : b - a! + 1);
  }, 0);
}

/** key_size or value_size (per CPU where the map has one per CPU) of the map at attr's map_fd. */
function mapBytes(c: SyscallCall, attr: bigint, field: 'key_size' | 'value_size'): number {
  const info = c.fdInfo(c.mem.u32(attr));
  const get = (name: string) => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  const bytes = get(field);
  return field === 'value_size' && PERCPU_MAPS.has(get('map_type')) ? ((bytes + 7) & ~7) * possibleCpus() : bytes;
}

/** BPF_PROG_QUERY: prog_cnt ids (and flags, link ids) in the arrays attr points to. */
const query: Describe = (c, attr, size) => {
  const count = c.mem.u32(attr + 24n) * 4;
  const arrays = [16, 32, 40, 48].filter((off) => off + 8 <= size).map((off): Region => [c.mem.u64(attr + BigInt(off)), count]);
  return [[attr, size], ...arrays];
};

const COMMANDS = new Map<number, Describe>([
  [0, () => []], // BPF_MAP_CREATE
  [1, (c, attr) => [[c.mem.u64(attr + 16n), mapBytes(c, attr, 'value_size')]]], // BPF_MAP_LOOKUP_ELEM
  [2, () => []], // BPF_MAP_UPDATE_ELEM
  [3, () => []], // BPF_MAP_DELETE_ELEM
  [4, (c, attr) => [[c.mem.u64(attr + 16n), mapBytes(c, attr, 'key_size')]]], // BPF_MAP_GET_NEXT_KEY
  [5, both(ATTR, buffer(32, 28))], // BPF_PROG_LOAD: the verifier's log
  [6, () => []], // BPF_OBJ_PIN
  [7, () => []], // BPF_OBJ_GET
  [8, () => []], // BPF_PROG_ATTACH
  [9, () => []], // BPF_PROG_DETACH
  [10, both(ATTR, buffer(24, 12), buffer(56, 44))], // BPF_PROG_TEST_RUN: data_out, ctx_out
  [11, ATTR], [12, ATTR], // BPF_PROG_GET_NEXT_ID, BPF_MAP_GET_NEXT_ID
  [13, () => []], [14, () => []], // BPF_PROG_GET_FD_BY_ID, BPF_MAP_GET_FD_BY_ID
  [15, both(ATTR, buffer(8, 4))], // BPF_OBJ_GET_INFO_BY_FD
  [16, query], // BPF_PROG_QUERY
  [17, () => []], // BPF_RAW_TRACEPOINT_OPEN
  [18, both(ATTR, buffer(8, 20))], // BPF_BTF_LOAD: its log
  [19, () => []], // BPF_BTF_GET_FD_BY_ID
  [20, both(ATTR, buffer(16, 12))], // BPF_TASK_FD_QUERY
  [21, (c, attr) => [[c.mem.u64(attr + 16n), mapBytes(c, attr, 'value_size')]]], // BPF_MAP_LOOKUP_AND_DELETE_ELEM
  [22, () => []], // BPF_MAP_FREEZE
  [23, ATTR], // BPF_BTF_GET_NEXT_ID
  [28, () => []], [29, () => []], // BPF_LINK_CREATE, BPF_LINK_UPDATE
  [30, () => []], [31, ATTR], // BPF_LINK_GET_FD_BY_ID, BPF_LINK_GET_NEXT_ID
  [32, () => []], [33, () => []], [34, () => []], [35, () => []], [36, () => []], // ENABLE_STATS .. TOKEN_CREATE
]);

export function bpfKnown(cmd: number): boolean {
  return COMMANDS.has(cmd);
}

/** What bpf `cmd` wrote (the call succeeded, or failed with ENOSPC having filled what fit). */
export function bpfWrites(c: SyscallCall): Region[] {
  const describe = COMMANDS.get(Number(BigInt.asIntN(32, c.args[0] ?? 0n)));
  const attr = c.args[1] ?? 0n;
  if (!describe || attr === 0n) return [];
  return describe(c, attr, Number(c.args[2] ?? 0n)).filter(([addr, len]) => addr !== 0n && len > 0);
}
