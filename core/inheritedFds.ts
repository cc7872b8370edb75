// SPDX-License-Identifier: MIT
/**
 * The fds beyond 0-2 that tsrr was started with (`tsrr record prog 3>file`), which the
 * recorded program inherits as it would without tsrr. Node marks the low fds it was given
 * close-on-exec at start-up, so they are told from Node's own by kind: Node opens epoll fds,
 * eventfds and both ends of pipes for itself; anything else open when cli.ts starts was given.
 * (Both ends of one pipe given among the low fds, as make 4.3's jobserver does, look like
 * Node's and are not passed on.)
 */
import { readdirSync, readlinkSync } from 'node:fs';

export function inheritedFds(): number[] {
  const targets = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd < 3) continue;
    try {
      targets.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the directory listing's own fd, closed by now
    }
  }
  const seen = (t: string) => [...targets.values()].filter((o) => o === t).length;
  return [...targets]
    .filter(([, t]) => !/^anon_inode:\[(eventpoll|eventfd)\]$/.test(t) && !(t.startsWith('pipe:') && seen(t) > 1))
    .map(([fd]) => fd)
    .sort((a, b) => a - b);
}
