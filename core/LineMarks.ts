// SPDX-License-Identifier: MIT
/** rr's -M: each line of replayed output starts with a mark saying which process wrote it at
 * which event, `[tsrr PID EVENT] `. Lines continue across writes, so where each output
 * (tsrr's fd 1 or 2) stands is kept. */
export class LineMarks {
  /** The outputs whose last write ended in the middle of a line. */
  private readonly midLine = new Set<number>();

  /** `data`, written to output `target` by process `pid` at `frame`, with its lines marked. */
  mark(target: number, data: Buffer, pid: number, frame: number): Buffer {
    if (data.length === 0) return data;
    const mark = Buffer.from(`[tsrr ${pid} ${frame}] `);
    const parts: Buffer[] = [];
    let at = 0;
    if (this.midLine.has(target)) {
      const nl = data.indexOf(10);
      at = nl < 0 ? data.length : nl + 1;
      parts.push(data.subarray(0, at));
    }
    while (at < data.length) {
      const nl = data.indexOf(10, at);
      const end = nl < 0 ? data.length : nl + 1;
      parts.push(mark, data.subarray(at, end));
      at = end;
    }
    if (data[data.length - 1] === 10) this.midLine.delete(target);
    else this.midLine.add(target);
    return Buffer.concat(parts);
  }
}
