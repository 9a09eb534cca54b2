import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks `Authorization: Bearer <token>` against the configured token without a timing leak:
 * both sides are hashed to 32 bytes first, so the comparison takes the same time whatever the
 * length or the first differing byte of what was sent.
 */
export class BearerToken {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = sha256(token);
  }

  /** True when the header carries the token. */
  accepts(authorization: string | undefined): boolean {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    const given = sha256(match?.[1] ?? '');
    return timingSafeEqual(given, this.digest) && match !== null;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
