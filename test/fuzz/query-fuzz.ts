import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { applyErrors, applyTopology, formatApplyReport } from '../../processors/admin/apply';
import { avroTypes } from '../../processors/codec/avro';
import { frame } from '../../processors/codec/framing';
import { transactionToAvro } from '../../processors/codec/transaction';
import type { GraphTransaction } from '../../processors/engine/model';
import { Instrumentation } from '../../processors/instrumentation/events';
import { QueryClient } from '../../processors/query/client';
import { runTopology } from '../../processors/runtime/host';
import { SchemaCatalog } from '../../processors/runtime/schema-catalog';
import { loadTopology } from '../../topology/loader';
import { startLocalCluster, stopLocalCluster } from '../broker/local-cluster';
import { workload } from '../bench/workload';

/**
 * `node dist/test/fuzz/query-fuzz.js <schemathesis>`: fuzzes the query API from its own OpenAPI
 * document. Starts a broker and registry of its own (cluster `fuzz-cluster`), runs a processor
 * with a query API (with a token, so the fuzzer also sends what it is told to), folds a small CRM
 * workload into four graphs, then runs schemathesis against /v1/openapi.json: every answer must
 * be other than 5xx (503 excepted: it is what a partition that restores answers, with Retry-After)
 * and come within the request timeout. Exits with schemathesis' code.
 */
const say = (line: string): void => {
  process.stdout.write(`query-fuzz: ${line}\n`);
};

async function main(): Promise<number> {
  const schemathesis = process.argv[2];
  if (schemathesis === undefined) throw new Error('usage: node dist/test/fuzz/query-fuzz.js <path of the schemathesis executable>');
  const cluster = await startLocalCluster({ name: 'fuzz-cluster' });
  const dir = await mkdtemp(join(tmpdir(), 'graphfold-fuzz-'));
  const token = 'fuzz-token-0123456789abcdef';
  try {
    const file = join(dir, 'fuzz.yaml');
    const run = `fuzz${Date.now().toString(36)}`;
    await writeFile(
      file,
      [
        `application: ${run}`,
        `kafka: { brokers: [${cluster.brokers.join(', ')}] }`,
        `registry: { url: ${cluster.registryUrl} }`,
        `store: { dir: ${join(dir, 'state')} }`,
        `query: { listen: 127.0.0.1:0, token: ${token}, maxHops: 3, maxLimit: 500, maxWaitMs: 1000 }`,
        'processors:',
        `  - { name: graphs, inputs: [${run}-in], partitions: 3, replicationFactor: 1 }`,
        '',
      ].join('\n'),
    );
    const topology = loadTopology(file);
    const report = await applyTopology(topology);
    if (applyErrors(report) > 0) throw new Error(formatApplyReport(report));
    const running = await runTopology(topology, new Instrumentation());
    try {
      const url = running.query?.url as string;
      const schemaId = await new SchemaCatalog(topology.registry).register(`${run}-in`, avroTypes().transaction);
      const kafka = new Kafka({ clientId: 'fuzz', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const stream = workload({ seed: 1, graphs: 4 });
      const txs = Array.from({ length: 400 }, () => stream.next().value as GraphTransaction);
      await producer.send({ topic: `${run}-in`, messages: txs.map((tx) => ({ key: tx.graph, value: frame(schemaId, avroTypes().transaction.toBuffer(transactionToAvro(tx))) })) });
      await producer.disconnect();
      const last = txs.at(-1) as GraphTransaction;
      const client = new QueryClient(url, token);
      const deadline = Date.now() + 120_000;
      while ((await client.get(`/v1/graphs/${last.graph}/transactions/${last.txId}`)).body['status'] !== 'applied') {
        if (Date.now() > deadline) throw new Error(`the processor did not apply ${last.txId} within 2 minutes`);
        await sleep(200);
      }
      say(`processor at ${url}: ${txs.length} transactions folded`);
      const args = [
        'run',
        `${url}/v1/openapi.json`,
        '--header',
        `Authorization: Bearer ${token}`,
        '--checks',
        'no_server_error,error_bodies_explain,status_code_conformance,content_type_conformance',
        // The changes stream never ends by design (a client follows it): not a request to fuzz for an answer.
        '--exclude-path',
        '/v1/graphs/{graph}/changes',
        '--max-examples',
        '60',
        '--request-timeout',
        '35',
        '--workers',
        '2',
        '--suppress-health-check',
        'all',
        '--no-color',
      ];
      say(`${schemathesis} ${args.join(' ')}`);
      return await new Promise<number>((resolve, reject) => {
        // In the run's temporary directory: schemathesis keeps a cache (.schemathesis/) in its working directory.
        const child = spawn(schemathesis, args, { cwd: dir, stdio: 'inherit', env: { ...process.env, SCHEMATHESIS_HOOKS: join(__dirname, '../../../test/fuzz/schemathesis_hooks.py') } });
        child.on('error', reject);
        child.on('exit', (code) => resolve(code ?? 1));
      });
    } finally {
      await running.stop();
      await running.done.catch(() => undefined);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await stopLocalCluster({ name: 'fuzz-cluster' });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`query-fuzz failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
