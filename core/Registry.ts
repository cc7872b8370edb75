// SPDX-License-Identifier: MIT
/**
 * Handlers keyed by a kind string ("core/stdio", "acme/socket"). A kind is registered once;
 * a lookup of a kind nobody registered fails with the kind and the registry's name.
 */
import { TsrrError } from '../native/TsrrError.js';

export class Registry<T> {
  private readonly handlers = new Map<string, T>();

  constructor(readonly name: string) {}

  register(kind: string, handler: T): void {
    if (this.handlers.has(kind)) {
      throw new TsrrError('PLUGIN_ERROR', `${this.name}: kind "${kind}" is already registered`, { kind, registry: this.name });
    }
    this.handlers.set(kind, handler);
  }

  has(kind: string): boolean {
    return this.handlers.has(kind);
  }

  get(kind: string): T {
    const h = this.handlers.get(kind);
    if (h === undefined) {
      throw new TsrrError('UNSUPPORTED', `${this.name}: no handler registered for kind "${kind}"`, { kind, registry: this.name });
    }
    return h;
  }

  kinds(): string[] {
    return [...this.handlers.keys()];
  }
}
