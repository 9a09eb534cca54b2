import type { Uid } from '../engine/model';
import { Bloom, KeyHash } from './bloom';

/** The hash state after a key prefix (a graph's atom or tx keys), to hash keys that share it. */
export interface KeySeed {
  readonly h1: number;
  readonly h2: number;
}

/**
 * Which atom and txId keys the store may hold, so that learning that a uid or a txId is new
 * (most of what a fold asks) costs no RocksDB read: a read of an absent key costs about ten
 * microseconds in the thread pool. It holds every key written or staged, so "no" is always right;
 * it answers "maybe" for about 1% of the others, which are then read.
 *
 * A new store's filter is complete at once; a reopened store's is filled from a scan of its keys,
 * and until then answers "maybe" to everything. Keys staged but never written (a discarded batch)
 * stay in it: they only cost a read.
 */
export class KeyFilter {
  private readonly bloom = new Bloom();
  private readonly hash = new KeyHash();
  private complete: boolean;

  constructor(complete: boolean) {
    this.complete = complete;
  }

  get isComplete(): boolean {
    return this.complete;
  }

  /** Trusts the filter from now on: every key on disk has been added. */
  completed(): void {
    this.complete = true;
  }

  seed(prefix: Buffer): KeySeed {
    const { h1, h2 } = this.hash.start().bytes(prefix, 0, prefix.length);
    return { h1, h2 };
  }

  /** A key as it is on disk. */
  addKey(key: Buffer): void {
    this.bloom.add(this.hash.start().bytes(key, 0, key.length).finish());
  }

  addUid(seed: KeySeed, uid: Uid): void {
    this.bloom.add(this.hash.resume(seed.h1, seed.h2).uid(uid).finish());
  }

  addText(seed: KeySeed, text: string): void {
    this.bloom.add(this.hash.resume(seed.h1, seed.h2).text(text).finish());
  }

  mayHoldUid(seed: KeySeed, uid: Uid): boolean {
    return !this.complete || this.bloom.mayContain(this.hash.resume(seed.h1, seed.h2).uid(uid).finish());
  }

  mayHoldText(seed: KeySeed, text: string): boolean {
    return !this.complete || this.bloom.mayContain(this.hash.resume(seed.h1, seed.h2).text(text).finish());
  }
}
