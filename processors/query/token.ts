import type { Secret } from '../runtime/secret';

/**
 * Checks `Authorization: Bearer <token>` against the configured token without a timing leak
 * ({@link Secret.matches} hashes both sides first, so the comparison takes the same time whatever
 * the length or the first differing byte of what was sent).
 */
export class BearerToken {
  constructor(private readonly token: Secret) {}

  /** True when the header carries the token. */
  accepts(authorization: string | undefined): boolean {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    return this.token.matches(match?.[1] ?? '') && match !== null;
  }
}
