import { foldInto } from './fold-loop';
import { join } from 'node:path';
import type { GraphTransaction } from '../../processors/engine/model';
import type { GraphSchema } from '../../processors/engine/schema';
import { loadTopology } from '../../topology/loader';
import { demoRecords } from '../demo/data';
import { ReferenceGraph } from './reference-model';
import type { TempStore } from './temp-store';

/** The demo topology's graph schema (topology/demo.yaml). */
export function demoSchema(): GraphSchema {
  const topology = loadTopology(join(__dirname, '..', '..', 'topology', 'demo.yaml'), { env: { KAFKA_BROKERS: '127.0.0.1:9092', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081' } });
  return topology.processors[0]?.schema as GraphSchema;
}

/** The first slice's time of a folded demo graph; each later record is one second after the one before. */
export const demoStartMicros = 1_780_000_000_000_000;

/**
 * Folds the demo's transactions of one tenant (`acme-<runId>`) into a real store, as the demo
 * topology's processor would (its schema, one second between records, refused ones recorded as
 * rejections), beside the reference model; commits every few records.
 */
export async function foldDemoGraph(temp: TempStore, runId = 'test'): Promise<{ readonly graph: string; readonly model: ReferenceGraph; readonly txs: readonly GraphTransaction[]; readonly refused: readonly string[] }> {
  const schema = demoSchema();
  const graph = `acme-${runId}`;
  const txs = demoRecords(runId).flatMap((r) => (r.graph === graph && r.tx !== undefined ? [r.tx] : []));
  const model = new ReferenceGraph(graph, schema);
  const refused: string[] = [];
  for (const [offset, tx] of txs.entries()) {
    const options = { source: { topic: 'crm-instructions', partition: 0, offset }, recordTime: demoStartMicros + offset * 1_000_000, schema, maxInstructions: 1000 };
    const expected = model.apply(tx, options.recordTime);
    const result = await foldInto(temp.store, tx, options);
    if (result.outcome !== expected.outcome) throw new Error(`demo graph: ${tx.txId} was ${result.outcome}, the reference model says ${expected.outcome}`);
    if (result.outcome === 'refused') {
      const { error } = result;
      refused.push(tx.txId);
      temp.store.stageRejection(graph, { txId: tx.txId, code: error.code, message: error.message, ...(error.instructionIndex === undefined ? {} : { instructionIndex: error.instructionIndex }), source: options.source, head: model.head, time: options.recordTime });
    }
    if (offset % 7 === 6) await temp.store.commit({});
  }
  await temp.store.commit({});
  return { graph, model, txs, refused };
}
