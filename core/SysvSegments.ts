// SPDX-License-Identifier: MIT
/**
 * The System V shared memory segments of a session, by the recording's id: the size each
 * shmget of the trace asked for, and the segment that stands for it. Replay makes a segment of
 * its own on the first shmat of each (processes that attach one recorded segment share
 * replay's one, as the recording's did) and removes them when it ends; recording notes the
 * program's own, which stand for themselves. Checkpoints save and restore them (pcp).
 */
import { removeShm } from '../native/libc.js';
import type { Mapping } from './AddressSpace.js';

/** Whether mapping `m` is an attachment of a System V segment. */
export function isSysvAttachment(m: Mapping): boolean {
  return m.path.startsWith('/SYSV');
}

/** The id of the segment attachment `m` maps (the kernel numbers a segment's inode so). */
export function attachedSegment(m: Mapping): bigint {
  return BigInt(m.object.split(' ')[1] ?? -1);
}

export interface SysvSegment {
  readonly recorded: bigint;
  readonly size: bigint;
  /** The segment standing for it, once there is one. */
  readonly id?: bigint;
}

export class SysvSegments {
  private readonly sizes = new Map<bigint, bigint>();
  private readonly ids = new Map<bigint, bigint>();

  /** Segment `recorded` of `size` bytes was made (a shmget of the trace's), standing for
   * itself (`id`) while recording. */
  created(recorded: bigint, size: bigint, id?: bigint): void {
    this.sizes.set(recorded, size);
    if (id !== undefined) this.ids.set(recorded, id);
  }

  /** The segment standing for `recorded`, made with `make(size)` the first time; undefined if
   * no shmget made `recorded`. */
  idFor(recorded: bigint, make: (size: bigint) => bigint): bigint | undefined {
    const known = this.ids.get(recorded);
    if (known !== undefined) return known;
    const size = this.sizes.get(recorded);
    if (size === undefined) return undefined;
    const id = make(size);
    this.ids.set(recorded, id);
    return id;
  }

  /** Segment `recorded`, if a shmget made it. */
  segment(recorded: bigint): SysvSegment | undefined {
    const size = this.sizes.get(recorded);
    return size === undefined ? undefined : { recorded, size, id: this.ids.get(recorded) };
  }

  /** The recording's id of the segment `id` stands for. */
  recordedOf(id: bigint): bigint | undefined {
    for (const [recorded, own] of this.ids) if (own === id) return recorded;
    return undefined;
  }

  list(): SysvSegment[] {
    return [...this.sizes].map(([recorded, size]) => ({ recorded, size, id: this.ids.get(recorded) }));
  }

  /** Removes the segments replay made (the replay's tracees are gone). */
  dispose(): void {
    for (const id of this.ids.values()) removeShm(Number(id));
    this.ids.clear();
    this.sizes.clear();
  }
}
