// SPDX-License-Identifier: MIT
/** The thread of a BlockWriter (core/BlockWriter.ts): writes the blocks it is sent, in order,
 * and counts them in the shared state; after a failed write it only counts. */
import { parentPort, workerData } from 'node:worker_threads';
import { writeBlock } from './BlockWriter.js';

const { fd, state } = workerData as { fd: number; state: Int32Array };

parentPort!.on('message', ({ body, count }: { body: Uint8Array; count: number }) => {
  if (Atomics.load(state, 1) === 0) Atomics.store(state, 1, writeBlock(fd, body, count));
  Atomics.add(state, 0, 1);
  Atomics.notify(state, 0);
});
