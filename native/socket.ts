// SPDX-License-Identifier: MIT
/**
 * Blocking TCP sockets through libc, for servers that run on the tracer thread (whose work is
 * synchronous ptrace calls, so Node's asynchronous sockets would never get a turn). Every wait
 * is a poll with a time limit, so the caller can look at its stop requests in between.
 */
import koffi from './koffi.js';
import { TsrrError } from './TsrrError.js';
import { closeFd, libc, strerror } from './libc.js';

const socketRaw = libc.func('int socket(int domain, int type, int protocol)');
const setsockopt = libc.func('int setsockopt(int fd, int level, int name, void *value, uint32_t len)');
const bindRaw = libc.func('int bind(int fd, void *addr, uint32_t len)');
const listenRaw = libc.func('int listen(int fd, int backlog)');
const acceptRaw = libc.func('int accept4(int fd, void *addr, void *len, int flags)');
const getsockname = libc.func('int getsockname(int fd, void *addr, _Inout_ uint32_t *len)');
const recvRaw = libc.func('long recv(int fd, void *buf, unsigned long len, int flags)');
const sendRaw = libc.func('long send(int fd, void *buf, unsigned long len, int flags)');
const pollRaw = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const POLLIN = 1;
const MSG_NOSIGNAL = 0x4000;
const EINTR = 4;

function fail(call: string): never {
  const errno = koffi.errno();
  throw new TsrrError('SOCKET_FAILED', `${call}: ${strerror(errno)}`, { call, errno });
}

/** Whether `fd` has data (or an end) to read within `timeoutMs`. */
function readable(fd: number, timeoutMs: number): boolean {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLIN, 4);
  const r = pollRaw(pfd, 1, timeoutMs) as number;
  if (r < 0 && koffi.errno() !== EINTR) fail('poll');
  return r > 0;
}

function sockaddr(host: string, port: number): Buffer {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new TsrrError('BAD_ARGUMENT', `not an IPv4 address: ${host}`, { host });
  }
  const a = Buffer.alloc(16);
  a.writeUInt16LE(AF_INET, 0);
  a.writeUInt16BE(port, 2);
  parts.forEach((p, i) => a.writeUInt8(p, 4 + i));
  return a;
}

export class TcpListener {
  private constructor(
    private fd: number,
    /** The port it listens on (the kernel's choice when 0 was asked for). */
    readonly port: number,
  ) {}

  /** Listens on `host`:`port` (port 0: any free port). */
  static listen(host: string, port: number): TcpListener {
    const fd = socketRaw(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) as number;
    if (fd < 0) fail('socket');
    try {
      const one = Buffer.alloc(4);
      one.writeInt32LE(1);
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
      if ((bindRaw(fd, sockaddr(host, port), 16) as number) < 0) fail(`bind ${host}:${port}`);
      if ((listenRaw(fd, 1) as number) < 0) fail('listen');
      const addr = Buffer.alloc(16);
      if ((getsockname(fd, addr, [16]) as number) < 0) fail('getsockname');
      return new TcpListener(fd, addr.readUInt16BE(2));
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  /** The next connection, or undefined if none came within `timeoutMs`. */
  accept(timeoutMs: number): TcpConnection | undefined {
    if (!readable(this.fd, timeoutMs)) return undefined;
    const fd = acceptRaw(this.fd, null, null, SOCK_CLOEXEC) as number;
    if (fd < 0) fail('accept');
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4);
    return new TcpConnection(fd);
  }

  close(): void {
    if (this.fd >= 0) closeFd(this.fd);
    this.fd = -1;
  }
}

export class TcpConnection {
  private readonly buf = Buffer.alloc(65536);

  constructor(private fd: number) {}

  /** Bytes that arrived within `timeoutMs`: undefined if none did, an empty Buffer once the
   * peer has closed the connection. */
  read(timeoutMs: number): Buffer | undefined {
    if (!readable(this.fd, timeoutMs)) return undefined;
    const n = Number(recvRaw(this.fd, this.buf, this.buf.length, 0));
    if (n < 0) {
      if (koffi.errno() === EINTR) return undefined;
      return Buffer.alloc(0); // reset by the peer: as good as closed
    }
    return Buffer.from(this.buf.subarray(0, n));
  }

  /** Whether bytes are waiting to be read (or the peer closed), without waiting. */
  pending(): boolean {
    return readable(this.fd, 0);
  }

  /** Sends all of `data`; false if the peer is gone. */
  write(data: Buffer): boolean {
    for (let off = 0; off < data.length; ) {
      const n = Number(sendRaw(this.fd, data.subarray(off), data.length - off, MSG_NOSIGNAL));
      if (n < 0) {
        if (koffi.errno() === EINTR) continue;
        return false;
      }
      off += n;
    }
    return true;
  }

  close(): void {
    if (this.fd >= 0) closeFd(this.fd);
    this.fd = -1;
  }
}
