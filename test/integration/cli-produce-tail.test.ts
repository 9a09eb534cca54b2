import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyTopology } from '../../processors/admin/apply';
import { prettyDiff, prettyTransaction } from '../../processors/cli/pretty';
import { avroTypes } from '../../processors/codec/avro';
import type { AvroGraphTransaction } from '../../processors/codec/avro-wire.generated';
import { diffToAvro } from '../../processors/codec/diff';
import { frame } from '../../processors/codec/framing';
import { transactionFromJson, transactionToJson } from '../../processors/codec/json';
import { transactionFromAvro } from '../../processors/codec/transaction';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import { loadTopology } from '../../topology/loader';
import { testRegistry } from '../support/avro';
import { runCli } from '../support/cli';
import { childEnvironment } from '../support/environment';
import { testKafka, transactionalProducer, uniqueName, waitForMessages } from '../support/kafka';

/**
 * `graphfold produce` and `graphfold tail` through the compiled CLI against the real broker and
 * registry: NDJSON in, Confluent-framed Avro (or JSON) on the topic, and back out through the
 * registry; diffs and rejections printed from their writer schemas. One topology for the file.
 */
describe('graphfold produce and tail', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const prefix = uniqueName('cli');
  const topics = { avro: `${prefix}-in`, json: `${prefix}-json`, diffs: `${prefix}-diffs`, rejections: `${prefix}-rejections` };
  const dir = mkdtempSync(join(tmpdir(), 'graphfold-cli-'));
  const file = join(dir, 'topology.yaml');

  beforeAll(async () => {
    writeFileSync(
      file,
      [
        `application: ${prefix}`,
        'kafka: { brokers: "${KAFKA_BROKERS}" }',
        'registry: { url: "${SCHEMA_REGISTRY_URL}" }',
        'processors:',
        '  - name: crm',
        `    inputs: [${topics.avro}, ${topics.json}]`,
        `    diffs: ${topics.diffs}`,
        `    rejections: ${topics.rejections}`,
        '    partitions: 2',
        '    replicationFactor: 1',
      ].join('\n'),
    );
    await applyTopology(loadTopology(file, { env: childEnvironment({}) }));
  });

  const transactions: GraphTransaction[] = [
    {
      graph: 'acme',
      txId: 'tx-1',
      time: 1_735_725_600_000_000,
      instructions: [
        { op: 'CreateEntity', ref: 'ada', type: 'Person' },
        { op: 'SetField', subject: { ref: 'ada' }, relation: 'Name', value: { type: 'String', value: 'Ada' } },
      ],
    },
    { graph: 'globex', txId: 'tx-1', instructions: [{ op: 'CreateAttribute', ref: 'size', valueType: 'Int', value: { type: 'Int', value: 9_007_199_254_740_993n } }] },
    { graph: 'acme', txId: 'tx-2', expectSlice: 1, instructions: [{ op: 'Terminate', target: { uid: 'a'.repeat(32) } }] },
  ];
  const lines = transactions.map(transactionToJson);

  test('produce sends NDJSON as Confluent-framed Avro keyed by graph, skipping a bad line by number; tail reads it back', async () => {
    const ndjson = join(dir, 'transactions.ndjson');
    writeFileSync(ndjson, [lines[0], '{"graph": "acme"', '', lines[1], lines[2], ''].join('\n'));
    const produced = await runCli(['produce', '--topology', file, '--topic', topics.avro, '--file', ndjson]);
    expect(produced.stdout).toBe(`produced 3 transactions to ${topics.avro} (Avro)\n`);
    expect(produced.stderr.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^graphfold: ${ndjson}:2: invalid JSON input: not JSON: .*; skipped$`)),
      `graphfold: skipped 1 line of ${ndjson} that is not a transaction (line 2); fix it and send it again`,
      '',
    ]);
    expect(produced.code).toBe(1);

    const schemaId = await registry.getLatestSchemaId(`${topics.avro}-value`);
    const messages = await waitForMessages(kafka, topics.avro, 3);
    const received = messages.map((message) => {
      const value = message.value as Buffer;
      expect(value[0]).toBe(0);
      expect(value.readUInt32BE(1)).toBe(schemaId);
      const tx = transactionFromAvro(avroTypes().transaction.fromBuffer(value.subarray(5)) as AvroGraphTransaction);
      expect(message.key?.toString()).toBe(tx.graph);
      return { tx, partition: message.partition, offset: Number(message.offset) };
    });
    expect(received.map((r) => r.tx)).toEqual(expect.arrayContaining(transactions));
    const acme = received.filter((r) => r.tx.graph === 'acme');
    expect(new Set(acme.map((r) => r.partition)).size).toBe(1);
    expect(acme.sort((a, b) => a.offset - b.offset).map((r) => r.tx.txId)).toEqual(['tx-1', 'tx-2']);

    const [json, pretty] = await Promise.all([
      runCli(['tail', topics.avro, '--topology', file, '--from-beginning', '--max', '3', '--json']),
      runCli(['tail', topics.avro, '--topology', file, '--from-beginning', '--max', '3']),
    ]);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect(json.stdout.trimEnd().split('\n').map(transactionFromJson)).toEqual(expect.arrayContaining(transactions));
    expect(pretty.code).toBe(0);
    for (const tx of transactions) expect(pretty.stdout).toContain(`${prettyTransaction(tx)}\n`);
  });

  test('produce --json sends JSON from stdin with a content-type header, and tail decodes it', async () => {
    const produced = await runCli(['produce', '--topology', file, '--topic', topics.json, '--json'], { input: `${lines.join('\n')}\n` });
    expect(produced).toEqual({ code: 0, stdout: `produced 3 transactions to ${topics.json} (JSON)\n`, stderr: '' });
    const messages = await waitForMessages(kafka, topics.json, 3);
    for (const message of messages) {
      expect(message.headers['content-type']?.toString()).toBe('application/json');
      expect(message.key?.toString()).toBe(transactionFromJson((message.value as Buffer).toString()).graph);
    }
    const tail = await runCli(['tail', topics.json, '--topology', file, '--from-beginning', '--max', '3', '--json']);
    expect(tail.code).toBe(0);
    expect(tail.stdout.trimEnd().split('\n').map(transactionFromJson)).toEqual(expect.arrayContaining(transactions));
  });

  test('tail prints diffs and rejections by their writer schema, reports a record it cannot decode, and goes on', async () => {
    const diff: GraphDiff = {
      graph: 'acme',
      slice: 1,
      txId: 'tx-1',
      time: 1_735_725_600_000_000,
      source: { topic: topics.avro, partition: 0, offset: 0 },
      changes: [
        { op: 'Created', uid: 'a'.repeat(32), kind: 'entity', type: 'Person' },
        { op: 'Assigned', uid: 'b'.repeat(32), value: { type: 'String', value: 'Ada' } },
      ],
    };
    const rejection = { graph: 'acme', txId: 'tx-2', code: 'STALE_SLICE', message: 'the graph is at slice 0, not 1', instructionIndex: null, source: { topic: topics.avro, partition: 0, offset: 2n }, payload: Buffer.from('raw') };
    const producer = await transactionalProducer(kafka);
    try {
      const transaction = await producer.transaction();
      await transaction.send({
        topic: topics.diffs,
        messages: [
          { key: 'acme', partition: 0, value: frame(await registry.getLatestSchemaId(`${topics.diffs}-value`), avroTypes().diff.toBuffer(diffToAvro(diff))) },
          { key: 'acme', partition: 0, value: Buffer.from('not a framed record') },
        ],
      });
      await transaction.send({ topic: topics.rejections, messages: [{ key: 'acme', value: frame(await registry.getLatestSchemaId(`${topics.rejections}-value`), avroTypes().rejection.toBuffer(rejection)) }] });
      await transaction.commit();
    } finally {
      await producer.disconnect();
    }

    const [diffs, rejections, stalled] = await Promise.all([
      runCli(['tail', topics.diffs, '--topology', file, '--from-beginning', '--max', '2']),
      runCli(['tail', topics.rejections, '--topology', file, '--from-beginning', '--max', '1']),
      runCli(['tail', topics.rejections, '--topology', file, '--from-beginning', '--max', '5', '--timeout-ms', '1500']),
    ]);
    expect(diffs).toEqual({
      code: 0,
      stdout: `${prettyDiff(diff)}\n`,
      stderr: `graphfold: ${topics.diffs}/0@1: cannot decode: record value starts with byte 0x6e, not the Confluent magic byte 0x00; send Avro through the schema registry, or JSON with header content-type: application/json\n`,
    });
    expect(rejections).toEqual({
      code: 0,
      stdout: [`rejection  code=STALE_SLICE  graph=acme  txId=tx-2  from=${topics.avro}/0@2  payload=3 bytes`, '  the graph is at slice 0, not 1', ''].join('\n'),
      stderr: '',
    });
    expect(stalled.code).toBe(1);
    expect(stalled.stderr).toBe(`graphfold: 1 of 5 records from ${topics.rejections}, then none for 1500 ms\n`);
  });

  test('tail without --from-beginning sees only new records, and ends quietly after --timeout-ms', async () => {
    const tail = await runCli(['tail', topics.avro, '--topology', file, '--timeout-ms', '1000']);
    expect(tail).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
