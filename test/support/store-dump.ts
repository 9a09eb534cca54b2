import { Rocks } from '../../processors/store/rocks';
import type { GraphStore } from '../../processors/store/graph-store';

/** Every key-value pair of a (closed) store directory, as hex, in key order. */
export async function dumpStore(dir: string): Promise<[string, string][]> {
  const rocks = await Rocks.open(dir, { cacheBytes: 1 << 20, writeBufferBytes: 1 << 20 });
  const pairs: [string, string][] = [];
  for await (const entries of rocks.scan(Buffer.from([0x00]), Buffer.from([0xff]))) for (const [key, value] of entries) pairs.push([key.toString('hex'), value.toString('hex')]);
  await rocks.close();
  return pairs;
}

/** A graph's live atoms at a slice, without creation slices: what "the same slice" compares. */
export async function liveState(store: GraphStore, graph: string, slice?: number): Promise<unknown[]> {
  const atoms: unknown[] = [];
  for await (const atom of store.atoms(graph, slice)) {
    const { created, ...rest } = atom;
    atoms.push(rest);
  }
  return atoms;
}
