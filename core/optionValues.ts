// SPDX-License-Identifier: MIT
/**
 * Options whose value tsrr checks as yargs reads it, for every command and plugin alike: a
 * whole number in a range (or among a set), or a word that must not be empty. A missing value,
 * a word, a sign, a fraction, an exponent, a number out of range or an option given twice is
 * a usage error, one line that names the option and the value as given. yargs would read
 * `-g abc` as NaN and `-g` alone as nothing, so values are taken as strings and read here.
 */
import type { Options } from 'yargs';
import { TsrrError } from '../native/TsrrError.js';

interface NumberSpec {
  alias?: string;
  describe: string;
  /** What the value is, with its article: "an event number". */
  what: string;
  min: number;
  max?: number;
  /** The only values allowed, when not a whole range (read when the option is parsed). */
  among?: () => readonly number[];
  /** The value when the option is not given, for --help (the command applies it). */
  defaultDescription?: string;
  /** Repeatable: the value is a list. */
  array?: boolean;
  global?: boolean;
}

/** The option's names as a user may write them: "-g/--goto". */
const label = (name: string, alias: string | undefined) => [alias, name].filter((n): n is string => n !== undefined).map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join('/');

/** A value as given, quoted when it has blanks or nothing printable. */
const shown = (v: string) => (/^[\x21-\x7e]+$/.test(v) ? v : JSON.stringify(v));

/** "0-3,6": a set of numbers as ranges. */
function ranges(ns: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j]! + 1) j++;
    out.push(i === j ? `${ns[i]}` : `${ns[i]}-${ns[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

function badArgument(message: string, option: string, value?: unknown): TsrrError {
  return new TsrrError('BAD_ARGUMENT', message, { option, value });
}

/** The values of an option yargs read (several when it was repeated), none of them empty. */
function givenValues(flags: string, what: string, v: unknown, array: boolean | undefined): string[] {
  const values = (Array.isArray(v) ? v : [v]).map(String);
  if (values.length === 0 || values.includes('')) throw badArgument(`${flags} needs a value (${what})`, flags);
  if (values.length > 1 && !array) throw badArgument(`${flags} is given more than once (${values.map(shown).join(', ')})`, flags, values);
  return values;
}

/** `[name, options]` for yargs's option(): a whole number checked as described above. */
export function numberOption(name: string, spec: NumberSpec): [string, Options] {
  const flags = label(name, spec.alias);
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  const read = (v: string): number => {
    const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
    const allowed = spec.among?.();
    if (allowed ? allowed.includes(n) : n >= spec.min && n <= max) return n;
    if (!allowed && spec.max === undefined && n > max) throw badArgument(`${flags} ${v}: too large for ${spec.what}`, flags, v);
    const expected = allowed ? ranges(allowed) : spec.max === undefined ? `a whole number, ${spec.min} or more` : `a whole number, ${spec.min} to ${max}`;
    throw badArgument(`${flags} ${shown(v)}: not ${spec.what} (${expected})`, flags, v);
  };
  const { alias, describe, defaultDescription, array, global } = spec;
  return [
    name,
    {
      alias,
      describe,
      defaultDescription,
      array,
      global,
      type: 'string',
      coerce: (v: unknown) => {
        const values = givenValues(flags, spec.what, v, array).map(read);
        return array ? values : values[0];
      },
    },
  ];
}

/** `[name, options]` for yargs's option(): a word that must be given, not empty. */
export function wordOption(name: string, spec: { alias?: string; describe: string; what: string; array?: boolean; global?: boolean }): [string, Options] {
  const flags = label(name, spec.alias);
  const { alias, describe, array, global } = spec;
  return [
    name,
    {
      alias,
      describe,
      array,
      global,
      type: 'string',
      coerce: (v: unknown) => {
        const values = givenValues(flags, spec.what, v, array);
        return array ? values : values[0];
      },
    },
  ];
}
