// SPDX-License-Identifier: MIT
/**
 * Loads the user's code, rr.config.ts and plugins (TypeScript or JavaScript, ESM or CommonJS),
 * with jiti. `tsrr` and its subpaths (`tsrr/plugins/pcp`) in that code are this tsrr, the one
 * running: a plugin outside any project that depends on tsrr finds it, and one inside a project
 * with a copy of its own gets the same classes and registries as the running tsrr.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGE = new URL('../../package.json', import.meta.url);

/** The package's name → its directory (jiti resolves its main, and paths under it), and each
 * subpath export → its file. */
function selfAliases(): Record<string, string> {
  const { name, exports } = JSON.parse(readFileSync(PACKAGE, 'utf8')) as { name: string; exports: Record<string, { default: string }> };
  const aliases: Record<string, string> = { [name]: fileURLToPath(new URL('.', PACKAGE)) };
  for (const [sub, { default: file }] of Object.entries(exports)) if (sub !== '.') aliases[name + sub.slice(1)] = fileURLToPath(new URL(file, PACKAGE));
  return aliases;
}

let aliases: Record<string, string> | undefined;

/** The module `spec` (a path, or a package found from `from`, a file), or its default export
 * alone with `defaultOnly`. */
export async function importUserCode(spec: string, from: string, defaultOnly = false): Promise<unknown> {
  const { createJiti } = await import('jiti');
  const jiti = createJiti(from, { alias: (aliases ??= selfAliases()) });
  return defaultOnly ? jiti.import(spec, { default: true }) : jiti.import(spec);
}

/** Why loading user code failed, in one line: a syntax error with its file, line and column. */
export function loadFailure(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  // jiti's: "ParseError: Unexpected token\n /path/rr.config.ts:4:18"
  const parse = /^ParseError: (.*)\n\s*(\S+:\d+:\d+)/.exec(message);
  if (parse) return `syntax error at ${parse[2]}: ${parse[1]!.trim()}`;
  return message.split('\n')[0]!;
}
