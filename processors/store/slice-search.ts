import type { SliceInfo } from './format/records';
import type { GraphReads } from './queries';

/** What a slice search reads: a store's slice log (the facade, or its queries). */
export type SliceLogReader = Pick<GraphReads, 'head' | 'sliceLog'>;

/**
 * The last slice of `graph` (up to `head`) whose entry satisfies `before`, a predicate that holds
 * for a prefix of the slice log and fails after it (slice times never decrease, and a partition's
 * offsets only grow, so "stamped at or before t" and "made by a record before offset o" are such
 * predicates); 0 when slice 1 fails it. A binary search: about log2(head) slice log reads.
 */
export async function lastSliceWhere(store: SliceLogReader, graph: string, head: number, before: (info: SliceInfo) => boolean): Promise<number> {
  let low = 0;
  let high = head;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    const info = await entryOf(store, graph, middle);
    if (info !== undefined && before(info)) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** One slice's entry of the slice log. */
export async function entryOf(store: SliceLogReader, graph: string, slice: number): Promise<SliceInfo | undefined> {
  for await (const info of store.sliceLog(graph, slice, slice)) return info;
  return undefined;
}
