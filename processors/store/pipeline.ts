import { RetriableError, storeFailure, type GraphfoldError } from '../errors';
import type { Uid } from '../engine/model';
import { BucketAppender } from './buckets';
import { Writer } from './format/binary';
import * as keys from './format/keys';
import * as records from './format/records';
import type { Checkpoint, Layout } from './format/records';
import { GraphView } from './graph-view';
import type { KeyFilter } from './key-filter';
import type { RejectionLog } from './rejections';
import type { Rocks } from './rocks';
import { encodeEvents, Layer, type StagedGraph } from './staging';

/** What a written layer changed in one graph: the read cache forgets it. */
export interface WrittenKeys {
  readonly graph: string;
  readonly atoms: Iterable<Uid>;
  readonly adjacency: Iterable<Uid>;
}

/** What a commit wrote, for metering. */
export interface CommitStats {
  readonly operations: number;
  readonly seconds: number;
}

/**
 * The write pipeline: layers of staged state, oldest first (the layers being written, then the
 * one being staged), their commits and discards, and the graphs' views over them.
 *
 * 1. Staging goes into the newest layer (`stagedFor`), over the views' caches.
 * 2. `commit(checkpoint)` encodes what the layer staged (each touched key once) into its
 *    WriteBatch with the checkpoint, opens a new layer for the next batch, and writes the batch
 *    after the write before it (with the rejections the layer staged, which the record of
 *    rejected txIds numbers then): at most one write in flight.
 * 3. Once written, a layer is absorbed into the views' caches at the next safe point (`settle`).
 * 4. `discard()` forgets the newest layer.
 * If a write fails, the pipeline refuses all further work (with the failure, classified by
 * `storeFailure`): the task closes the store and opens it again, or stops on a fatal one.
 */
export class WritePipeline {
  private readonly views = new Map<string, GraphView>();
  private layers: Layer[];
  private writing: Promise<void> = Promise.resolve();
  private failure: GraphfoldError | undefined;
  private readonly w = new Writer();
  private readonly body = new Writer();
  private readonly slices: BucketAppender;
  private readonly types: BucketAppender;

  constructor(
    private readonly rocks: Rocks,
    layout: Layout,
    private readonly filter: KeyFilter,
    private readonly cachedAtoms: number,
    private written: Checkpoint,
    private readonly rejections: RejectionLog,
    /** Called with what each layer changed once it is on disk, and how long the write took. */
    private readonly onWritten: (changed: readonly WrittenKeys[], stats: CommitStats) => void,
  ) {
    this.slices = new BucketAppender(layout.sliceBucket);
    this.types = new BucketAppender(layout.typeBucket);
    this.layers = [new Layer(rocks.batch())];
  }

  /** The offsets the written state reflects. */
  get checkpoint(): Checkpoint {
    return this.written;
  }

  /** The layer being staged. */
  get staging(): Layer {
    return this.layers[this.layers.length - 1] as Layer;
  }

  get slicesPerBucket(): { readonly slice: number; readonly type: number } {
    return { slice: this.slices.slicesPerBucket, type: this.types.slicesPerBucket };
  }

  /**
   * A graph's view. A new view takes what unwritten layers staged for its graph without one (a
   * bulk replay stages without views), so it reads staged state over written state as any view.
   */
  view(graph: string): GraphView {
    let view = this.views.get(graph);
    if (view !== undefined) return view;
    view = new GraphView(graph, this.filter);
    this.views.set(graph, view);
    for (const layer of this.layers) {
      const staged = layer.graphs.get(graph);
      if (staged === undefined) continue;
      view.pushLayer(staged);
      view.pin(staged);
    }
    return view;
  }

  /** Drops a graph's view (its caches went stale). Refused while a layer holds something of it. */
  forget(graph: string): void {
    const view = this.views.get(graph);
    if (view === undefined) return;
    if (view.hasStaged) throw new RangeError(`graph '${graph}': its view cannot be dropped while a layer holds what it staged`);
    this.views.delete(graph);
  }

  /** What the staging layer staged for a view's graph (registered with the view on first use). */
  stagedFor(view: GraphView): StagedGraph {
    const { staged, fresh } = this.staging.of(view.graph, false);
    if (fresh) view.pushLayer(staged);
    return staged;
  }

  /**
   * Throws if a write failed; else moves written layers into the views. Called at the start of
   * every write-path call, when no load is in flight: a load still running could otherwise put
   * what it read before the write into the cache after the layer left it. (A load may still have
   * seen a layer it then has applied again; applying relation deltas is idempotent.)
   */
  settle(): void {
    if (this.failure !== undefined) throw this.failure;
    while (this.layers.length > 1 && (this.layers[0] as Layer).written) {
      const layer = this.layers.shift() as Layer;
      for (const [graph, staged] of layer.graphs) this.views.get(graph)?.absorb(staged);
    }
  }

  /** Commit steps 2 and 3 (see the class comment). Resolves once the layer is on disk. */
  commit(checkpoint: Checkpoint): Promise<void> {
    this.settle();
    const layer = this.staging;
    const { batch } = layer;
    const { w } = this;
    const changed: WrittenKeys[] = [];
    for (const [graph, staged] of layer.graphs) {
      const graphKeys = staged.keys;
      for (const atom of staged.atoms.values()) {
        records.encodeAtom(w.reset(), atom);
        batch.put(graphKeys.atomScratch(atom.uid), w.buffer, w.length);
      }
      for (const [uid, events] of staged.adjacency) {
        encodeEvents(w.reset(), events);
        batch.append(graphKeys.adjacencyScratch(uid), w.buffer, w.length);
      }
      if (staged.head !== undefined) {
        records.encodeHead(w.reset(), { slice: staged.head, time: staged.headTime });
        batch.put(graphKeys.head(), w.buffer, w.length);
      }
      for (const [txId, slice] of staged.txs) {
        records.encodeTx(w.reset(), slice);
        batch.put(graphKeys.tx(txId), w.buffer, w.length);
      }
      this.appendLists(graphKeys, staged);
      changed.push({ graph, atoms: staged.atoms.keys(), adjacency: staged.adjacency.keys() });
    }
    records.encodeCheckpoint(w.reset(), checkpoint);
    batch.put(keys.checkpointKey, w.buffer, w.length);
    this.layers.push(new Layer(this.rocks.batch()));
    this.trim();
    this.writing = this.writing.then(async () => {
      const started = performance.now();
      try {
        if (layer.rejections.size > 0) await this.rejections.write(batch, layer.rejections);
        await batch.write();
      } catch (error) {
        // Named by what it is (a full disk, a read-only one), with the directory and the OS error.
        const failure = storeFailure(this.rocks.location, 'write a batch', error);
        this.failure = failure.retriable ? new RetriableError(`${failure.message}; the store refuses further work until it is reopened`, failure.context, { cause: failure }) : failure;
        throw this.failure;
      }
      layer.written = true;
      this.written = checkpoint;
      this.onWritten(changed, { operations: batch.size, seconds: (performance.now() - started) / 1000 });
    });
    return this.writing;
  }

  /** Commit step 4: forgets everything staged since the last commit. Idempotent. */
  discard(): void {
    for (const [graph, staged] of this.staging.graphs) this.views.get(graph)?.unstage(staged);
    this.layers[this.layers.length - 1] = new Layer(this.rocks.batch());
    this.pinLayers();
  }

  /** Waits for the write in flight; never rejects. */
  async drain(): Promise<void> {
    await this.writing.catch(() => undefined);
  }

  /** The slice log and type index items a layer appends for one graph. */
  private appendLists(graphKeys: keys.GraphKeys, staged: StagedGraph): void {
    const { batch } = this.staging;
    if (staged.diffs.length > 0) {
      const list = this.slices;
      list.begin(batch, graphKeys.tagged(keys.tags.slice));
      for (const diff of staged.diffs) {
        list.item(diff.slice);
        records.encodeSlice(list.writer, this.body, diff);
      }
      list.end();
    }
    const { types, uids, slices } = staged.typed;
    if (uids.length > 0) {
      const list = this.types;
      list.begin(batch, graphKeys.tagged(keys.tags.type));
      for (let i = 0; i < uids.length; i += 1) {
        list.item(slices[i] as number);
        records.encodeTyped(list.writer, types[i] as string, uids[i] as Uid, slices[i] as number);
      }
      list.end();
    }
  }

  /** Puts what the unwritten layers staged back in the views' caches, as the latest records. */
  private pinLayers(): void {
    for (const layer of this.layers) for (const [graph, staged] of layer.graphs) this.views.get(graph)?.pin(staged);
  }

  /** Forgets what was not used lately once the cache holds more than `cachedAtoms`. */
  private trim(): void {
    let young = 0;
    for (const view of this.views.values()) young += view.youngSize;
    if (young < this.cachedAtoms / 2) return;
    for (const [graph, view] of this.views) {
      view.rotate();
      if (view.idle) this.views.delete(graph);
    }
    this.pinLayers();
  }
}
