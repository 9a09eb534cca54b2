import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { InputDecoder } from '../codec/input';
import type { GraphDiff } from '../engine/model';
import { FatalError } from '../errors';
import { SchemaCatalog } from '../runtime/schema-catalog';
import type { RegistrySpec } from '../runtime/topology';
import type { DiffMirror } from './mirror';

export interface FollowOptions {
  /** A kafkajs client for the cluster. */
  readonly kafka: Kafka;
  /** The schema registry the diffs' writer schemas are in. */
  readonly registry: RegistrySpec;
  /** A diffs topic (a processor's `diffs`). */
  readonly topic: string;
  /**
   * `beginning`: every diff, each graph from slice 1; `end`: the diffs written from now on. A
   * consumer group that has committed offsets resumes there instead. @default 'beginning'
   */
  readonly from?: 'beginning' | 'end';
  /** The consumer group; offsets are committed as diffs are yielded. @default a fresh group */
  readonly groupId?: string;
  /** Kept current: each diff is applied to it before it is yielded (and before `onChange`). Needs `from: 'beginning'` or a mirror that has the graphs' earlier slices. */
  readonly mirror?: DiffMirror;
  /** Called with each diff, after the mirror has it. */
  readonly onChange?: (diff: FollowedDiff) => void | Promise<void>;
}

/** A diff, with where it was read and the headers graphfold carried onto it (`traceparent`, ...). */
export interface FollowedDiff extends GraphDiff {
  readonly partition: number;
  readonly offset: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** A graph's slices did not follow each other: a gap (a diff missing) or a duplicate. The follower stops. */
export class DiffOrderError extends FatalError {}

/**
 * Follows a diffs topic: yields each committed diff (read_committed: never one of an aborted
 * batch), decoded through the registry, with every graph's slices checked to follow each other
 * (from slice 1 when following from the beginning; from the mirror's head when it has one; else
 * from the first seen). A gap or a duplicate throws {@link DiffOrderError} naming the graph and
 * the slices. Stop by leaving the loop (`break`, `return`) or calling `return()`.
 *
 * ```ts
 * for await (const diff of followDiffs({ kafka, registry, topic: 'crm-diffs', mirror })) { ... }
 * ```
 */
export async function* followDiffs(options: FollowOptions): AsyncGenerator<FollowedDiff, void, undefined> {
  const from = options.from ?? 'beginning';
  const catalog = new SchemaCatalog(options.registry);
  const decoder = new InputDecoder(Number.MAX_SAFE_INTEGER);
  const consumer: Consumer = options.kafka.consumer({ groupId: options.groupId ?? `graphfold-follow-${randomUUID()}`, readUncommitted: false, allowAutoTopicCreation: false });
  const queue = new Handoff<FollowedDiff>();
  const heads = new Map<string, number>();
  const expected = async (graph: string): Promise<number | undefined> => {
    const known = heads.get(graph);
    if (known !== undefined) return known + 1;
    if (options.mirror !== undefined) return (await options.mirror.head(graph)) + 1;
    return from === 'beginning' && options.groupId === undefined ? 1 : undefined;
  };
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: from === 'beginning' });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (message.value === null) return;
        const offset = Number(message.offset);
        let diff: GraphDiff;
        try {
          if (message.value.length >= 5) await catalog.fetch([message.value.readUInt32BE(1)]);
          diff = decoder.decodeDiff(message.value, catalog.known);
        } catch (error) {
          queue.fail(new FatalError(`${options.topic}/${partition}@${offset} is not a GraphDiff: ${(error as Error).message}`, { topic: options.topic, partition, offset }, { cause: error }));
          return;
        }
        const next = await expected(diff.graph);
        if (options.mirror !== undefined && next !== undefined && diff.slice < next && heads.get(diff.graph) === undefined) return; // the mirror has it: resuming
        if (next !== undefined && diff.slice !== next) {
          const what = diff.slice < next ? `a duplicate of slice ${diff.slice}` : `a gap: slices ${next} to ${diff.slice - 1} are missing`;
          queue.fail(new DiffOrderError(`graph '${diff.graph}' on ${options.topic}/${partition}@${offset}: expected slice ${next}, got slice ${diff.slice} (${what}); a diffs topic must hold every slice once, in order (is it written only by graphfold, with retention.ms=-1?)`, { graph: diff.graph, slice: diff.slice, topic: options.topic, partition, offset }));
          return;
        }
        heads.set(diff.graph, diff.slice);
        const followed: FollowedDiff = { ...diff, partition, offset, headers: textHeaders(message.headers) };
        await options.mirror?.apply(followed);
        await options.onChange?.(followed);
        await queue.put(followed);
      },
    });
    for (;;) yield await queue.take();
  } finally {
    queue.close();
    await consumer.disconnect();
  }
}

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) text[name] = (Array.isArray(value) ? value[0] : value)?.toString() ?? '';
  }
  return text;
}

/**
 * One item at a time from the consumer's callback to the generator: `put` resolves when the item
 * is taken, so the consumer reads no further than the caller does (and commits no further).
 */
class Handoff<T> {
  private waiting: { readonly item: T; readonly taken: () => void } | undefined;
  private failure: Error | undefined;
  private closed = false;
  private wake: (() => void) | undefined;

  put(item: T): Promise<void> {
    return new Promise((taken) => {
      if (this.closed) return taken();
      this.waiting = { item, taken };
      this.signal();
    });
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.signal();
  }

  async take(): Promise<T> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const waiting = this.waiting;
      if (waiting !== undefined) {
        this.waiting = undefined;
        waiting.taken();
        return waiting.item;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  close(): void {
    this.closed = true;
    this.waiting?.taken();
    this.waiting = undefined;
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
