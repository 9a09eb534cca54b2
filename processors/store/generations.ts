/**
 * A map that forgets what was not used lately, in two generations: the young map takes every
 * write and every hit from the old one; `rotate` makes the young map the old one and drops the
 * old one. Close to LRU, without reordering a map on every hit. It forgets only in `rotate`, which
 * its owner calls between batches, never while a fold is reading: a fold's retries always make
 * progress however small the capacity.
 */
export class Generations<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  /** Entries written or used since the last rotation. */
  get youngSize(): number {
    return this.young.size;
  }

  /** Entries held, an entry shadowed in both generations counted twice. */
  get size(): number {
    return this.young.size + this.old.size;
  }

  has(key: K): boolean {
    return this.young.has(key) || this.old.has(key);
  }

  /** The value, kept as recently used. */
  get(key: K): V | undefined {
    const value = this.young.get(key);
    if (value !== undefined) return value;
    const aged = this.old.get(key);
    if (aged !== undefined) {
      this.old.delete(key);
      this.young.set(key, aged);
    }
    return aged;
  }

  /** Sets the young entry; an old one of the same key is shadowed until the next rotation drops it. */
  set(key: K, value: V): void {
    this.young.set(key, value);
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  /** Forgets what was not used since the last rotation. */
  rotate(): void {
    this.old = this.young;
    this.young = new Map();
  }
}
