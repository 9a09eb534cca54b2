import { applyErrors, applyTopology, formatApplyReport } from '../../processors/admin/apply';
import { CompatibilityConfig } from '../../processors/admin/compatibility';
import { avroTypes, bundledSchema, parseSchema } from '../../processors/codec/avro';
import { frame } from '../../processors/codec/framing';
import { transactionToAvro } from '../../processors/codec/transaction';
import { Instrumentation } from '../../processors/instrumentation/events';
import { runTopology } from '../../processors/runtime/host';
import { registryRequest } from '../../processors/runtime/registry-client';
import { testCluster, testKafka, transactionalProducer } from '../support/kafka';
import { createProcessorTopics, readDiffs, testTopology, type ProcessorTopics } from '../support/processor-harness';

type Json = Record<string, unknown> & { fields: (Record<string, unknown> & { name: string; type: unknown })[] };

const registry = (): { url: string } => ({ url: testCluster().registryUrl });

/** Registers a schema under a subject as a producer would; the registry's answer. */
async function register(subject: string, schema: unknown): Promise<{ status: number; id?: number; message?: string }> {
  const response = await registryRequest(registry(), 'POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(schema) });
  const body = (await response.json()) as { id?: number; message?: string };
  return { status: response.status, ...body };
}

function copy(name: 'graphfold.GraphTransaction' | 'graphfold.GraphDiff' | 'graphfold.Rejection'): Json {
  return JSON.parse(JSON.stringify(bundledSchema(name))) as Json;
}

function unionOf(schema: Json, field: string): Json[] {
  return (schema.fields.find((f) => f.name === field)?.type as { items: Json[] }).items;
}

/**
 * Schema evolution against the real registry (Apicurio's Confluent API): `topology apply` gives
 * each subject the compatibility that protects its readers, and the registry then refuses what
 * graphfold (or a downstream reader) could not read, while it accepts what they can.
 */
describe('schema evolution', () => {
  let topics: ProcessorTopics;

  beforeAll(async () => {
    topics = await createProcessorTopics(testKafka(), 1);
    const report = await applyTopology(await testTopology(topics));
    expect(applyErrors(report)).toBe(0);
    expect(formatApplyReport(report)).toContain(`compatibility FORWARD_TRANSITIVE (set; was `);
  });

  test('apply sets FORWARD_TRANSITIVE on the input subject and FULL_TRANSITIVE on the diffs and rejections subjects', async () => {
    const config = new CompatibilityConfig(registry());
    expect(await config.level(`${topics.input}-value`)).toBe('FORWARD_TRANSITIVE');
    expect(await config.level(`${topics.diffs}-value`)).toBe('FULL_TRANSITIVE');
    expect(await config.level(`${topics.rejections}-value`)).toBe('FULL_TRANSITIVE');
  });

  test('an input version graphfold could not read is refused: a new instruction, no txId, a changed field type', async () => {
    const subject = `${topics.input}-value`;
    const newInstruction = copy('graphfold.GraphTransaction');
    unionOf(newInstruction, 'instructions').push({ type: 'record', name: 'Upsert', fields: [{ name: 'uid', type: 'string' }] });
    const noTxId = copy('graphfold.GraphTransaction');
    noTxId.fields = noTxId.fields.filter((f) => f.name !== 'txId');
    const intGraph = copy('graphfold.GraphTransaction');
    intGraph.fields = intGraph.fields.map((f) => (f.name === 'graph' ? { ...f, type: 'int' } : f));
    for (const schema of [newInstruction, noTxId, intGraph]) expect((await register(subject, schema)).status).toBe(409);
  });

  test('an input version graphfold can read is accepted, and its records fold', async () => {
    const subject = `${topics.input}-value`;
    const evolved = copy('graphfold.GraphTransaction');
    evolved.fields.push({ name: 'producer', type: 'string', doc: 'A field of the producing team, which graphfold ignores.' });
    const registered = await register(subject, evolved);
    expect(registered.status).toBe(200);
    const writer = parseSchema(evolved);
    const tx = { graph: 'g', txId: 'evolved-1', instructions: [{ op: 'CreateEntity' as const, ref: 'ada', type: 'Person' }] };
    const kafka = testKafka();
    const producer = await transactionalProducer(kafka);
    const transaction = await producer.transaction();
    await transaction.send({ topic: topics.input, messages: [{ key: 'g', value: frame(registered.id as number, writer.toBuffer({ ...transactionToAvro(tx), producer: 'billing' })) }] });
    await transaction.commit();
    await producer.disconnect();
    const running = await runTopology(await testTopology(topics), new Instrumentation());
    try {
      const [diff] = await readDiffs(kafka, topics.diffs, 1);
      expect(diff?.txId).toBe('evolved-1');
    } finally {
      await running.stop();
      await running.done;
    }
  });

  test('a diffs version that would break a downstream reader or a restore is refused; a new rejection code is not', async () => {
    const noKind = copy('graphfold.GraphDiff');
    const terminated = unionOf(noKind, 'changes').find((c) => c['name'] === 'Terminated') as Json;
    terminated.fields = terminated.fields.filter((f) => f.name !== 'kind');
    const required = copy('graphfold.GraphDiff');
    required.fields.push({ name: 'region', type: 'string' });
    for (const schema of [noKind, required]) expect((await register(`${topics.diffs}-value`, schema)).status).toBe(409);

    const newCode = copy('graphfold.Rejection');
    const code = newCode.fields.find((f) => f.name === 'code') as { type: { symbols: string[] } };
    code.type.symbols = [...code.type.symbols, 'QUOTA_EXCEEDED'];
    expect((await register(`${topics.rejections}-value`, newCode)).status).toBe(200);
    // The reason it may: a reader of the current schema reads the new code as its default.
    const writer = parseSchema(newCode);
    const reader = avroTypes().rejection;
    const body = writer.toBuffer({ graph: null, txId: null, code: 'QUOTA_EXCEEDED', message: 'm', instructionIndex: null, source: { topic: 't', partition: 0, offset: 0n }, payload: Buffer.alloc(0) });
    expect((reader.fromBuffer(body, reader.createResolver(writer)) as { code: string }).code).toBe('OTHER');
  });

  test('a subject whose compatibility was set otherwise is reported with the fix, left alone, and fails the apply', async () => {
    const other = await createProcessorTopics(testKafka(), 1);
    const config = new CompatibilityConfig(registry());
    await config.set(`${other.input}-value`, 'NONE');
    const report = await applyTopology(await testTopology(other));
    expect(applyErrors(report)).toBe(1);
    const text = formatApplyReport(report);
    expect(text).toMatch(new RegExp(`MISMATCH +${other.input}-value`));
    expect(text).toContain(`error: ${other.input}-value compatibility is NONE; graphfold needs FORWARD_TRANSITIVE or FULL_TRANSITIVE to protect graphfold, which reads every version its producers register`);
    expect(text).toContain(`--data '{"compatibility":"FORWARD_TRANSITIVE"}' ${testCluster().registryUrl}/config/${other.input}-value`);
    expect(await config.level(`${other.input}-value`)).toBe('NONE');
    // A stricter level that protects graphfold as well is accepted as it is.
    await config.set(`${other.input}-value`, 'FULL_TRANSITIVE');
    const again = await applyTopology(await testTopology(other));
    expect(applyErrors(again)).toBe(0);
    expect(await config.level(`${other.input}-value`)).toBe('FULL_TRANSITIVE');
  });
});
