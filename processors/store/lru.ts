/**
 * A bounded map that keeps recently used entries: two generations, a young map taking every
 * write and every hit from the old one; `trim` makes a full young map the old one and drops the
 * old one. Close to LRU, without reordering a map on every hit. It forgets only in `trim`: the
 * store trims between batches, never while a fold is reading, so a fold's retries always make
 * progress however small the capacity.
 */
export class Lru<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(readonly capacity: number) {}

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
      this.set(key, aged);
    }
    return aged;
  }

  set(key: K, value: V): void {
    this.old.delete(key);
    this.young.set(key, value);
  }

  /** Forgets the least recently used entries once the young generation holds half the capacity. */
  trim(): void {
    if (this.young.size < this.capacity / 2) return;
    this.old = this.young;
    this.young = new Map();
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }
}
