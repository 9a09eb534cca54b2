import { uidByte } from './format/binary';

/**
 * Two 32-bit hashes of a RocksDB key's bytes, fed piece by piece so a key need not be built to be
 * hashed: a graph's key prefix once, then a uid from its hex text or a txId from its UTF-8.
 * Reused, never shared across awaits: `start`, feed, `finish`, then read `h1` and `h2`.
 */
export class KeyHash {
  h1 = 0;
  h2 = 0;

  start(): this {
    this.h1 = 0x811c9dc5;
    this.h2 = 0x2f0b3a49;
    return this;
  }

  /** Continues from a state saved earlier (a key prefix's). */
  resume(h1: number, h2: number): this {
    this.h1 = h1;
    this.h2 = h2;
    return this;
  }

  byte(b: number): void {
    this.h1 = Math.imul(this.h1 ^ b, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ b, 0x5bd1e995) ^ (this.h2 >>> 15);
  }

  bytes(buf: Uint8Array, from: number, to: number): this {
    for (let i = from; i < to; i += 1) this.byte(buf[i] as number);
    return this;
  }

  /** The 16 bytes of a uid, from its 32 hex characters. */
  uid(uid: string): this {
    for (let i = 0; i < 16; i += 1) this.byte(uidByte(uid, i));
    return this;
  }

  /** The UTF-8 bytes of a string, as `Buffer.from(text)` would encode them. */
  text(text: string): this {
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        this.byte(c);
      } else if (c < 0x800) {
        this.byte(0xc0 | (c >> 6));
        this.byte(0x80 | (c & 0x3f));
      } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        const point = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00);
        i += 1;
        this.byte(0xf0 | (point >> 18));
        this.byte(0x80 | ((point >> 12) & 0x3f));
        this.byte(0x80 | ((point >> 6) & 0x3f));
        this.byte(0x80 | (point & 0x3f));
      } else {
        const point = c >= 0xd800 && c < 0xe000 ? 0xfffd : c;
        this.byte(0xe0 | (point >> 12));
        this.byte(0x80 | ((point >> 6) & 0x3f));
        this.byte(0x80 | (point & 0x3f));
      }
    }
    return this;
  }

  finish(): this {
    this.h1 = mix(this.h1);
    this.h2 = mix(this.h2 ^ 0x9e3779b9);
    return this;
  }
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const bitsPerKey = 10;
const probes = 7;

/** One fixed-size blocked Bloom filter: a key's bits all lie in one 512-bit block. */
class Segment {
  readonly words: Uint32Array;
  private readonly blocks: number;
  count = 0;

  constructor(readonly capacity: number) {
    this.blocks = Math.max(1, Math.ceil((capacity * bitsPerKey) / 512));
    this.words = new Uint32Array(this.blocks * 16);
  }

  add(h1: number, h2: number): void {
    const base = (h1 % this.blocks) * 16;
    const step = (h2 >>> 9) | 1;
    for (let i = 0, bit = h2 & 511; i < probes; i += 1, bit = (bit + step) & 511) {
      this.words[base + (bit >>> 5)] = (this.words[base + (bit >>> 5)] as number) | (1 << (bit & 31));
    }
    this.count += 1;
  }

  has(h1: number, h2: number): boolean {
    const base = (h1 % this.blocks) * 16;
    const step = (h2 >>> 9) | 1;
    for (let i = 0, bit = h2 & 511; i < probes; i += 1, bit = (bit + step) & 511) {
      if (((this.words[base + (bit >>> 5)] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * Keys that may be in the store: never "no" for a key that was added, "maybe" for about 1% of
 * the others. Grows by adding a filter twice as large when the newest is full, so a lookup costs
 * a few cache misses however many keys there are; about 1.3 bytes a key.
 */
export class Bloom {
  private readonly segments: Segment[];

  constructor(initialCapacity = 1 << 20) {
    this.segments = [new Segment(initialCapacity)];
  }

  add(hash: KeyHash): void {
    let newest = this.segments[this.segments.length - 1] as Segment;
    if (newest.count >= newest.capacity) this.segments.push((newest = new Segment(newest.capacity * 2)));
    newest.add(hash.h1, hash.h2);
  }

  mayContain(hash: KeyHash): boolean {
    for (const segment of this.segments) if (segment.has(hash.h1, hash.h2)) return true;
    return false;
  }
}
