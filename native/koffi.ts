// SPDX-License-Identifier: MIT
/** koffi, loaded with require: an ESM import makes Node scan its CommonJS entry for exports
 * first, which doubles the time it takes to load (start-up counts in every recording). */
import { createRequire } from 'node:module';

const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
export default koffi;
