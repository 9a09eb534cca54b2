import { createHash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * A password or token from the topology. Its text goes only to the client that sends it
 * ({@link reveal}); whatever else might print it (a template string, JSON, `util.inspect`, a log
 * line that renders the topology or an error's context) gets `[hidden]`.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  /** The text itself, for the one client that sends it. */
  reveal(): string {
    return this.#value;
  }

  /**
   * True when `candidate` is this secret. Both are hashed first and the digests compared with
   * `timingSafeEqual`, so the time taken tells neither where they differ nor how long the secret is.
   */
  matches(candidate: string): boolean {
    return timingSafeEqual(digest(this.#value), digest(candidate));
  }

  toString(): string {
    return '[hidden]';
  }

  toJSON(): string {
    return '[hidden]';
  }

  [inspect.custom](): string {
    return 'Secret([hidden])';
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
