import type { TerminalError } from '../../processors/errors';
import { fold, type FoldOptions, type FoldResult } from '../../processors/engine/fold';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import { NotLoaded } from '../../processors/engine/state';
import type { GraphStore } from '../../processors/store/graph-store';

/**
 * Folds one transaction into a store's staged state as the processor does (its partition task
 * drives the same loop): fold against the store's state, on NotLoaded load what the engine
 * names and fold again; stage an applied diff unless `admit` refuses it, remember a no-op txId.
 */
export async function foldInto(store: GraphStore, tx: GraphTransaction, options: FoldOptions, admit?: (diff: GraphDiff) => TerminalError | undefined): Promise<FoldResult> {
  for (;;) {
    try {
      const result = fold(store.state(tx.graph), tx, options);
      if (result.outcome === 'applied') {
        const refusal = admit?.(result.diff);
        if (refusal !== undefined) return { outcome: 'refused', error: refusal };
        store.stage(result.diff);
      } else if (result.outcome === 'unchanged') {
        store.stageUnchanged(tx.graph, tx.txId);
      }
      return result;
    } catch (error) {
      if (!(error instanceof NotLoaded)) throw error;
      await store.load(tx.graph, error.needs);
    }
  }
}
