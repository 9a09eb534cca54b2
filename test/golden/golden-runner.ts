import { Type } from 'avsc';
import { avroTypes } from '../../processors/codec/avro';
import { diffToAvro } from '../../processors/codec/diff';
import { frame } from '../../processors/codec/framing';
import { jsonContentType } from '../../processors/codec/input';
import type { Placement } from '../../processors/codec/partitioner';
import { diffFromJsonValue, diffToJson, transactionFromJsonValue } from '../../processors/codec/json';
import { transactionToAvro } from '../../processors/codec/transaction';
import type { GraphSchema } from '../../processors/engine/schema';
import { InMemorySchemaRegistry, TopologyTestDriver, type DiffRecord, type RejectionRecord, type TestRecord } from '../../processors/testing';

/**
 * Golden fixtures: a file of steps, each an input record and the outcome expected from it, run
 * through the TopologyTestDriver (the processor's task core, codecs and store, with no broker):
 * each record is piped to topic `instructions` (offsets from 0 per partition, timestamps
 * 1,700,000,000,000 ms plus the step's index) and its outcome read back from what the processor
 * wrote: the diff on the changelog, the rejection on the rejections topic, or nothing (a
 * duplicate, or a transaction that changed nothing).
 *
 * Records are written as a transaction sent as Avro (`avro`), as JSON (`json`), a diff sent as
 * Avro (`avroDiff`), a record of a foreign schema (`foreign`) or raw bytes (`hex`). Schema ids: 1
 * is GraphTransaction, 2 GraphDiff, 3 a foreign record; any other id is unknown to the registry.
 */
export interface GoldenFile {
  readonly description: string;
  readonly schema?: GraphSchema;
  /** The input topic's partitioner and partitions (default murmur2 over 1): records are checked for arriving on their key's partition (`record.partition`, default 0). */
  readonly placement?: Placement;
  readonly steps: readonly GoldenStep[];
}

export interface GoldenStep {
  readonly record: { readonly avro?: unknown; readonly json?: unknown; readonly avroDiff?: unknown; readonly foreign?: unknown; readonly hex?: string; readonly key?: string | null; readonly contentType?: string; readonly partition?: number };
  readonly expect?: unknown;
}

/** What one step gave: its outcome as the fixtures write it, with the record piped and the record the processor wrote for it. */
export interface GoldenOutcome {
  readonly outcome: unknown;
  readonly input: TestRecord & { readonly partition: number };
  readonly written?: DiffRecord | RejectionRecord;
}

export const limits = { maxInstructions: 8, maxRecordBytes: 2048 };

/** The timestamp of step `index`, milliseconds. */
export const stepTime = (index: number): number => 1_700_000_000_000 + index;

const foreign = Type.forSchema({ type: 'record', name: 'com.example.Order', fields: [{ name: 'id', type: 'string' }] });

function toRecord(step: GoldenStep, index: number): TestRecord & { readonly partition: number } {
  const r = step.record;
  const at = { partition: r.partition ?? 0, timestamp: stepTime(index), ...(r.contentType === undefined ? {} : { headers: { 'content-type': r.contentType } }) };
  const key = (graph: string | undefined): Buffer | null => {
    const k = r.key === undefined ? graph : r.key;
    return k === null || k === undefined ? null : Buffer.from(k);
  };
  if (r.avro !== undefined) {
    const tx = transactionFromJsonValue(r.avro);
    return { ...at, key: key(tx.graph), value: frame(1, avroTypes().transaction.toBuffer(transactionToAvro(tx))) };
  }
  if (r.avroDiff !== undefined) {
    const diff = diffFromJsonValue(r.avroDiff);
    return { ...at, key: key(diff.graph), value: frame(2, avroTypes().diff.toBuffer(diffToAvro(diff))) };
  }
  if (r.json !== undefined) {
    const text = typeof r.json === 'string' ? r.json : JSON.stringify(r.json);
    const graph = typeof r.json === 'object' && r.json !== null ? (r.json as { graph?: string }).graph : undefined;
    return { ...at, key: key(graph), value: Buffer.from(text), headers: { 'content-type': r.contentType ?? jsonContentType } };
  }
  if (r.foreign !== undefined) return { ...at, key: key(undefined), value: frame(3, foreign.toBuffer(r.foreign)) };
  return { ...at, key: key(undefined), value: Buffer.from(r.hex ?? '', 'hex') };
}

/** Runs a golden file's steps, one `pipe` each, through a fresh driver; returns each step's outcome. */
export async function runGolden(file: GoldenFile): Promise<GoldenOutcome[]> {
  const registry = new InMemorySchemaRegistry();
  registry.register('instructions-value', avroTypes().transaction);
  registry.register('upstream-diffs-value', avroTypes().diff);
  registry.register('orders-value', foreign);
  const driver = await TopologyTestDriver.fromObject(
    {
      processors: [
        {
          name: 'golden',
          inputs: ['instructions'],
          partitions: file.placement?.partitions ?? 1,
          partitioner: file.placement?.partitioner ?? 'murmur2',
          ...limits,
          ...(file.schema === undefined ? {} : { schema: file.schema }),
        },
      ],
    },
    { registry },
  );
  const outcomes: GoldenOutcome[] = [];
  try {
    for (const [index, step] of file.steps.entries()) {
      const input = toRecord(step, index);
      const piped = await driver.pipe('instructions', input);
      if (piped.length !== 1) throw new Error(`step ${index} gave ${piped.length} outcomes; one record gives one`);
      const [diff] = driver.readDiffs('golden-diffs');
      const [rejection] = driver.readRejections('golden-rejections');
      const result = piped[0] as (typeof piped)[number];
      switch (result.outcome) {
        case 'applied':
          outcomes.push({ outcome: { applied: JSON.parse(diffToJson((diff as DiffRecord).diff)) }, input, written: diff as DiffRecord });
          break;
        case 'refused': {
          const { code, message, instructionIndex } = (rejection as RejectionRecord).rejection;
          outcomes.push({ outcome: { refused: instructionIndex === null ? { code, message } : { code, instructionIndex, message } }, input, written: rejection as RejectionRecord });
          break;
        }
        case 'unchanged':
          outcomes.push({ outcome: { unchanged: true }, input });
          break;
        case 'duplicate':
          outcomes.push({ outcome: { duplicate: result.slice }, input });
          break;
      }
    }
  } finally {
    await driver.close();
  }
  return outcomes;
}
