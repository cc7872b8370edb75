// SPDX-License-Identifier: MIT
/** The helper thread of CompressionPool. */
import { workerData } from 'node:worker_threads';
import { pinThread } from '../../native/libc.js';
import { serve, type poolMemory } from './CompressionPool.js';

pinThread(-1); // not on the tracer's CPU, which it would inherit
serve(workerData as ReturnType<typeof poolMemory>);
