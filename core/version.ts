// SPDX-License-Identifier: MIT
import { readFileSync } from 'node:fs';

/** This package's version, from package.json. */
export const TSRR_VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
