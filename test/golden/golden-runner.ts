import { Type } from 'avsc';
import { avroTypes } from '../../processors/codec/avro';
import { diffToAvro } from '../../processors/codec/diff';
import { frame } from '../../processors/codec/framing';
import { InputDecoder, jsonContentType, type InputRecord } from '../../processors/codec/input';
import type { Placement } from '../../processors/codec/partitioner';
import { diffFromJsonValue, diffToJson, transactionFromJsonValue } from '../../processors/codec/json';
import { transactionToAvro } from '../../processors/codec/transaction';
import { TerminalError } from '../../processors/errors';
import type { GraphSchema } from '../../processors/engine/schema';
import { openTempStore } from '../support/temp-store';
import { foldInto } from '../support/fold-loop';

/**
 * Golden fixtures: a file of steps, each an input record and the outcome expected from it. Records
 * are written as a transaction sent as Avro (`avro`), as JSON (`json`), a diff sent as Avro
 * (`avroDiff`), a record of a foreign schema (`foreign`) or raw bytes (`hex`). Schema ids: 1 is
 * GraphTransaction, 2 GraphDiff, 3 a foreign record; any other id is unknown to the registry.
 */
export interface GoldenFile {
  readonly description: string;
  readonly schema?: GraphSchema;
  /** When given, records are checked for arriving on their key's partition (`record.partition`, default 0). */
  readonly placement?: Placement;
  readonly steps: readonly GoldenStep[];
}

export interface GoldenStep {
  readonly record: { readonly avro?: unknown; readonly json?: unknown; readonly avroDiff?: unknown; readonly foreign?: unknown; readonly hex?: string; readonly key?: string | null; readonly contentType?: string; readonly partition?: number };
  readonly expect?: unknown;
}

export const limits = { maxInstructions: 8, maxRecordBytes: 2048 };

const foreign = Type.forSchema({ type: 'record', name: 'com.example.Order', fields: [{ name: 'id', type: 'string' }] });
const writers = new Map<number, Type>([
  [1, avroTypes().transaction],
  [2, avroTypes().diff],
  [3, foreign],
]);

function toRecord(step: GoldenStep): InputRecord {
  const r = step.record;
  const key = (graph: string | undefined): Buffer | null => {
    const k = r.key === undefined ? graph : r.key;
    return k === null || k === undefined ? null : Buffer.from(k);
  };
  if (r.avro !== undefined) {
    const tx = transactionFromJsonValue(r.avro);
    return { key: key(tx.graph), value: frame(1, avroTypes().transaction.toBuffer(transactionToAvro(tx))) };
  }
  if (r.avroDiff !== undefined) {
    const diff = diffFromJsonValue(r.avroDiff);
    return { key: key(diff.graph), value: frame(2, avroTypes().diff.toBuffer(diffToAvro(diff))) };
  }
  if (r.json !== undefined) {
    const text = typeof r.json === 'string' ? r.json : JSON.stringify(r.json);
    const graph = typeof r.json === 'object' && r.json !== null ? (r.json as { graph?: string }).graph : undefined;
    return { key: key(graph), value: Buffer.from(text), contentType: r.contentType ?? jsonContentType };
  }
  if (r.foreign !== undefined) return { key: key(undefined), value: frame(3, foreign.toBuffer(r.foreign)) };
  return { key: key(undefined), value: Buffer.from(r.hex ?? '', 'hex'), ...(r.contentType === undefined ? {} : { contentType: r.contentType }) };
}

/** Runs a golden file's steps against a fresh store; returns each step's outcome as JSON. */
export async function runGolden(file: GoldenFile): Promise<unknown[]> {
  const temp = await openTempStore();
  const decoder = new InputDecoder(limits.maxRecordBytes, file.placement);
  const outcomes: unknown[] = [];
  try {
    for (const [offset, step] of file.steps.entries()) {
      const source = { topic: 'instructions', partition: step.record.partition ?? 0, offset };
      let outcome: unknown;
      try {
        const tx = decoder.decode({ ...toRecord(step), topic: source.topic, partition: source.partition }, writers);
        const result = await foldInto(temp.store, tx, { source, recordTime: 1_700_000_000_000_000 + offset, maxInstructions: limits.maxInstructions, ...(file.schema === undefined ? {} : { schema: file.schema }) });
        switch (result.outcome) {
          case 'applied':
            outcome = { applied: JSON.parse(diffToJson(result.diff)) };
            break;
          case 'refused':
            outcome = { refused: refusal(result.error) };
            break;
          case 'unchanged':
            outcome = { unchanged: true };
            break;
          case 'duplicate':
            outcome = { duplicate: result.slice };
            break;
        }
      } catch (error) {
        if (!(error instanceof TerminalError)) throw error;
        outcome = { refused: refusal(error) };
      }
      await temp.store.commit({ inputs: { instructions: offset + 1 } });
      outcomes.push(outcome);
    }
  } finally {
    await temp.close();
  }
  return outcomes;
}

function refusal(error: TerminalError): unknown {
  return error.instructionIndex === undefined ? { code: error.code, message: error.message } : { code: error.code, instructionIndex: error.instructionIndex, message: error.message };
}
