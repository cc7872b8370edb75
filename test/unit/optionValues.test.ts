// SPDX-License-Identifier: MIT
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { numberOption, wordOption } from '../../core/optionValues.js';

const yargs = createRequire(import.meta.url)('yargs/yargs') as (args?: readonly string[]) => Argv;

/** argv parsed as tsrr's engine does (strict, failures thrown), with options like replay's and
 * record's: -g from 1, -s a port, --cpu among 0-3 and 6, -e repeatable, -o a word. */
function parse(args: string[]): Record<string, unknown> {
  return yargs()
    .option(...numberOption('goto', { alias: 'g', what: 'an event number', min: 1, describe: '' }))
    .option(...numberOption('port', { alias: 's', what: 'a TCP port', min: 0, max: 65535, describe: '' }))
    .option(...numberOption('cpu', { what: 'a CPU', min: 0, among: () => [0, 1, 2, 3, 6], describe: '' }))
    .option(...numberOption('event', { alias: 'e', what: 'an event number', min: 1, array: true, describe: '' }))
    .option(...wordOption('output', { alias: 'o', what: 'a directory', describe: '' }))
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseSync(args);
}

/** Values no numeric option takes: a word, a negative, a fraction, an exponent, hex, one
 * beyond any range. */
const BAD_NUMBERS = ['abc', '-3', '1.5', '1e3', '0x10', '99999999999999999999'];

const refused = (args: string[], message: string | RegExp) => assert.throws(() => parse(args), (e: Error) => (typeof message === 'string' ? e.message === message : message.test(e.message)), args.join(' '));

test('good values are read as numbers, or words', () => {
  const a = parse(['-g', '7', '--port', '0', '--cpu', '6', '-e', '3', '-e', '010', '-o', 'dir x']);
  assert.deepEqual([a.goto, a.port, a.cpu, a.event, a.output], [7, 0, 6, [3, 10], 'dir x']);
  assert.equal(parse(['-s', '65535']).port, 65535);
  assert.equal(parse(['--goto=9007199254740991']).goto, Number.MAX_SAFE_INTEGER);
  const none = parse([]);
  assert.deepEqual([none.goto, none.port, none.cpu, none.event, none.output], [undefined, undefined, undefined, undefined, undefined]);
});

test('a value that is not a whole number in range is refused, naming the option and the value', () => {
  for (const v of BAD_NUMBERS.filter((v) => v !== '99999999999999999999')) {
    refused(['-g', v], `-g/--goto ${v}: not an event number (a whole number, 1 or more)`);
    refused(['-s', v], `-s/--port ${v}: not a TCP port (a whole number, 0 to 65535)`);
    refused(['--cpu', v], `--cpu ${v}: not a CPU (0-3,6)`);
    refused(['-e', '2', '-e', v], `-e/--event ${v}: not an event number (a whole number, 1 or more)`);
  }
  refused(['-g', '0'], '-g/--goto 0: not an event number (a whole number, 1 or more)');
  refused(['-g', '99999999999999999999'], '-g/--goto 99999999999999999999: too large for an event number');
  refused(['--goto=9007199254740992'], '-g/--goto 9007199254740992: too large for an event number');
  refused(['-s', '65536'], '-s/--port 65536: not a TCP port (a whole number, 0 to 65535)');
  refused(['-s', '99999999999999999999'], '-s/--port 99999999999999999999: not a TCP port (a whole number, 0 to 65535)');
  refused(['--cpu', '4'], '--cpu 4: not a CPU (0-3,6)');
  refused(['-g', ' 5'], '-g/--goto " 5": not an event number (a whole number, 1 or more)');
  refused(['-g', '+5'], '-g/--goto +5: not an event number (a whole number, 1 or more)');
});

test('an option without a value, or an empty one, is refused', () => {
  for (const [option, name, what] of [['-g', '-g/--goto', 'an event number'], ['-s', '-s/--port', 'a TCP port'], ['--cpu', '--cpu', 'a CPU'], ['-e', '-e/--event', 'an event number'], ['-o', '-o/--output', 'a directory']]) {
    const message = `${name} needs a value (${what})`;
    refused([option!], message);
    refused([option!, ''], message);
    refused([option!, '--port', '1'], message);
  }
  refused(['--goto='], '-g/--goto needs a value (an event number)');
  refused(['-e', '1', '-e', ''], '-e/--event needs a value (an event number)');
});

test('an option given twice is refused unless it is repeatable', () => {
  refused(['-g', '3', '--goto', '4'], '-g/--goto is given more than once (3, 4)');
  refused(['-o', 'a', '-o', 'b c'], '-o/--output is given more than once (a, "b c")');
  assert.deepEqual(parse(['-e', '1', '--event', '2']).event, [1, 2]);
});
