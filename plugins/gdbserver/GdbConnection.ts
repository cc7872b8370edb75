// SPDX-License-Identifier: MIT
/**
 * The packet layer of the gdb remote serial protocol on one connection: `$payload#checksum`
 * frames, '+'/'-' acknowledgements until gdb turns them off (QStartNoAckMode), and the 0x03
 * byte gdb sends to interrupt. Bad frames are answered with '-' and skipped.
 */
import type { TcpConnection } from '../../native/socket.js';

const POLL_MS = 50;
export const INTERRUPT = '\x03';

const checksum = (s: Buffer) => s.reduce((a, b) => (a + b) & 0xff, 0);

export class GdbConnection {
  private input = Buffer.alloc(0);
  private acks = true;

  constructor(private readonly socket: TcpConnection) {}

  /** The next packet's payload (binary-safe, as latin1), INTERRUPT for a 0x03, or undefined
   * once gdb has gone. `stop()` is asked between polls: true ends the wait (undefined). */
  read(stop: () => boolean): string | undefined {
    for (;;) {
      const packet = this.takePacket();
      if (packet !== undefined) return packet;
      const data = this.socket.read(POLL_MS);
      if (data === undefined) {
        if (stop()) return undefined;
        continue;
      }
      if (data.length === 0) return undefined;
      this.input = Buffer.concat([this.input, data]);
    }
  }

  /** Whether gdb asked to interrupt (0x03) while it waits for a stop, without waiting. */
  interrupted(): boolean {
    if (this.socket.pending()) {
      const data = this.socket.read(0);
      if (data?.length) this.input = Buffer.concat([this.input, data]);
    }
    const at = this.input.indexOf(3);
    if (at < 0) return false;
    this.input = Buffer.concat([this.input.subarray(0, at), this.input.subarray(at + 1)]);
    return true;
  }

  /** Sends a packet; false if gdb has gone. */
  write(payload: string | Buffer): boolean {
    const body = escape(typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload);
    const frame = Buffer.concat([Buffer.from('$'), body, Buffer.from(`#${checksum(body).toString(16).padStart(2, '0')}`)]);
    return this.socket.write(frame);
  }

  noAcks(): void {
    this.acks = false;
  }

  close(): void {
    this.socket.close();
  }

  private takePacket(): string | undefined {
    for (;;) {
      // Acks from gdb, and noise, before a frame start.
      let i = 0;
      while (i < this.input.length && this.input[i] !== 0x24 && this.input[i] !== 3) i++;
      if (i < this.input.length && this.input[i] === 3) {
        this.input = this.input.subarray(i + 1);
        return INTERRUPT;
      }
      this.input = this.input.subarray(i);
      const end = this.input.indexOf(0x23 /* # */);
      if (end < 0 || this.input.length < end + 3) return undefined;
      const body = this.input.subarray(1, end);
      const sum = parseInt(this.input.subarray(end + 1, end + 3).toString('latin1'), 16);
      this.input = this.input.subarray(end + 3);
      if (sum !== checksum(body)) {
        if (this.acks) this.socket.write(Buffer.from('-'));
        continue;
      }
      if (this.acks) this.socket.write(Buffer.from('+'));
      return unescape(body).toString('latin1');
    }
  }
}

/** '#', '$', '}' and '*' go as '}' and the byte xor 0x20. */
function escape(b: Buffer): Buffer {
  if (!b.some((c) => c === 0x23 || c === 0x24 || c === 0x7d || c === 0x2a)) return b;
  const out: number[] = [];
  for (const c of b) {
    if (c === 0x23 || c === 0x24 || c === 0x7d || c === 0x2a) out.push(0x7d, c ^ 0x20);
    else out.push(c);
  }
  return Buffer.from(out);
}

function unescape(b: Buffer): Buffer {
  if (!b.includes(0x7d)) return b;
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) out.push(b[i] === 0x7d && i + 1 < b.length ? b[++i]! ^ 0x20 : b[i]!);
  return Buffer.from(out);
}
