// SPDX-License-Identifier: MIT
/**
 * The checkpoints a debugging session can go back to, by their place in the replay: the ones
 * gdb's user made or loaded (numbered, listed by `info checkpoints`) and the ones the server
 * takes by itself as replay moves on (thinned out when there are too many).
 */
import type { ReplaySession, Task } from '../../core/index.js';

/** A replay state kept to come back to (a plugin makes them: pcp's in-memory checkpoints). */
export interface SavedState {
  /** Puts the state into `session`, a replay not started yet (as its beforeLaunch); returns
   * its first task. The state stays usable. */
  restore(session: ReplaySession): Task;
  drop(): void;
}

/** A place in the replay: the event replayed last, the task that stopped there and its
 * registers, and, when known, how it was reached: `steps` single steps of that task (each a
 * debugger step request) from the state right after event `from`. */
export interface Position {
  readonly frame: number;
  readonly rec: number;
  readonly regs: Buffer;
  readonly walk?: { readonly from: number; readonly steps: number };
}

export interface Checkpoint {
  readonly place: Position;
  readonly saved: SavedState;
  /** gdb's number for it, if the user made or loaded it. */
  readonly id?: number;
}

/** Automatic checkpoints kept at most. */
const MAX_AUTO = 32;

/** Whether `p` is the state right after its event. */
export const atEvent = (p: Position) => p.walk !== undefined && p.walk.from === p.frame && p.walk.steps === 0;

/** Whether replay from `c` reaches `p`, or, if `strict`, passes something before reaching it. */
export function reaches(c: Position, p: Position, strict: boolean): boolean {
  if (c.frame < p.frame) return true; // c is before the end of its event's next one
  if (c.frame > p.frame) return false;
  if (atEvent(c)) return !strict || !atEvent(p);
  if (!c.walk || !p.walk || c.walk.from !== p.walk.from || c.rec !== p.rec) return false;
  return strict ? c.walk.steps < p.walk.steps : c.walk.steps <= p.walk.steps;
}

/** Orders places replay reaches one after the other (for places `reaches` can compare). */
const later = (a: Position, b: Position) => a.frame - b.frame || (a.walk?.steps ?? 0) - (b.walk?.steps ?? 0);

export class Timeline {
  private readonly list: Checkpoint[] = [];
  private nextId = 1;

  /** Keeps `saved` as a checkpoint at `place`; `user` ones get a number and are never
   * thinned out. */
  add(place: Position, saved: SavedState, user: boolean): Checkpoint {
    const cp: Checkpoint = user ? { place, saved, id: this.nextId++ } : { place, saved };
    this.list.push(cp);
    if (!user && this.list.filter((c) => c.id === undefined).length > MAX_AUTO) this.thin(cp);
    return cp;
  }

  /** The user's checkpoints, by number. */
  numbered(): Checkpoint[] {
    return this.list.filter((c) => c.id !== undefined).sort((a, b) => a.id! - b.id!);
  }

  byId(id: number): Checkpoint | undefined {
    return this.list.find((c) => c.id === id);
  }

  remove(cp: Checkpoint): void {
    this.list.splice(this.list.indexOf(cp), 1);
    cp.saved.drop();
  }

  /** The latest checkpoint replay reaches `p` from (passing something first, if `strict`). */
  latest(p: Position, strict: boolean): Checkpoint | undefined {
    return this.list.filter((c) => reaches(c.place, p, strict)).sort((a, b) => later(b.place, a.place))[0];
  }

  /** Checkpoints right after an event, before `p`, latest first. */
  eventsBefore(p: Position): Checkpoint[] {
    return this.list.filter((c) => atEvent(c.place) && reaches(c.place, p, true)).sort((a, b) => b.place.frame - a.place.frame);
  }

  /** Whether a checkpoint right after event `frame` exists. */
  hasEvent(frame: number): boolean {
    return this.list.some((c) => atEvent(c.place) && c.place.frame === frame);
  }

  dropAll(): void {
    for (const cp of this.list.splice(0)) cp.saved.drop();
  }

  /** Drops the automatic checkpoint closest to the one before it (not `keep`). */
  private thin(keep: Checkpoint): void {
    const ordered = [...this.list].sort((a, b) => later(a.place, b.place));
    let victim: Checkpoint | undefined;
    let gap = Infinity;
    ordered.forEach((c, i) => {
      if (c.id !== undefined || c === keep || i === 0) return;
      const g = c.place.frame - ordered[i - 1]!.place.frame;
      if (g < gap) [victim, gap] = [c, g];
    });
    if (victim) this.remove(victim);
  }
}
