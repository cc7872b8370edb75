// SPDX-License-Identifier: MIT
/** What counts as a plugin, for the config's entries and a plugin module's default export. */
import type { Plugin } from './Tsrr.js';

/** A class, as opposed to a plain function: declared with `class`, or a constructor function
 * whose prototype has apply (a class compiled to ES5). */
export const isClass = (v: unknown): v is new (...args: unknown[]) => unknown =>
  typeof v === 'function' && (/^class\b/.test(Function.prototype.toString.call(v)) || typeof (v.prototype as { apply?: unknown } | undefined)?.apply === 'function');

/** An object with apply(tsrr), or a plain function taking tsrr. */
export const isPlugin = (v: unknown): v is Plugin =>
  (typeof v === 'function' && !isClass(v)) || (typeof v === 'object' && v !== null && typeof (v as { apply?: unknown }).apply === 'function');

/** How to name what `v` is in an error. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (v === '') return 'an empty string';
  if (Array.isArray(v)) return 'an array';
  if (isClass(v)) return `the class ${v.name || '(anonymous)'}`;
  if (typeof v === 'object' && (v as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Module') return 'a module without a default export';
  return typeof v === 'object' ? 'an object without apply(tsrr)' : `a ${typeof v}`;
}
