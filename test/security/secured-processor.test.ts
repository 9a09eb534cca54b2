import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import { workload } from '../bench/workload';
import { foldInto } from '../support/fold-loop';
import { canonical } from '../support/canonical';
import { transactionalProducer, uniqueName } from '../support/kafka';
import { OutputArchive } from '../support/output-archive';
import { ProcessorChild } from '../support/processor-child';
import { byGraph, expectedDiffCount, readDiffs, readRejections, transactionMessage } from '../support/processor-harness';
import { clusterPasswords, securedKafka, securedTestCluster, writeSecuredTopology, type SecuredTestCluster } from '../support/secured-cluster';
import { aclCommands, runAclCommands, securedTopicNames, securedTransactionSchemaId } from '../support/secured-processor';
import { openTempStore } from '../support/temp-store';

/**
 * graphfold on the secured broker, the way an operator deploys it: `topology describe` prints the
 * ACLs; Kafka's own kafka-acls runs those commands, as printed, for two users that start with no
 * ACL at all: `deployer` gets the apply block, `processor` the run block; `topology apply` runs as
 * deployer, `graphfold run` as processor, both over SASL_SSL with SCRAM-SHA-512, trusting the
 * test CA only, against the registry over HTTPS with basic auth.
 */
describe('graphfold on a secured broker (SASL_SSL, SCRAM-SHA-512, ACLs; registry over HTTPS with basic auth)', () => {
  let cluster: SecuredTestCluster;
  let archive: OutputArchive;

  beforeAll(async () => {
    cluster = await securedTestCluster();
    archive = await OutputArchive.create('secured-processor');
  });

  test('apply and run work with only the ACLs topology describe prints, and fold every transaction exactly once, across a kill and a restore', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-secured-'));
    const application = uniqueName('secured-app');
    const topics = securedTopicNames(2);
    const stateDir = join(dir, 'state-a');
    const asDeployer = await writeSecuredTopology(cluster, dir, topics, { application, stateDir, kafkaUser: 'deployer' });
    const asProcessor = await writeSecuredTopology(cluster, dir, topics, { application, stateDir, kafkaUser: 'processor' });

    // 1. The ACLs, as describe prints them for each user, granted by Kafka's kafka-acls as printed.
    const describedDeployer = await archive.runCli('describe-deployer', ['topology', 'describe', '--topology', asDeployer.file], { env: asDeployer.env });
    const describedProcessor = await archive.runCli('describe-processor', ['topology', 'describe', '--topology', asProcessor.file], { env: asProcessor.env });
    expect(describedDeployer.code).toBe(0);
    expect(describedProcessor.code).toBe(0);
    const applyAcls = aclCommands(describedDeployer.stdout, 'topology apply:');
    const runAcls = aclCommands(describedProcessor.stdout, 'graphfold run, processor graphs:');
    expect(applyAcls.map((command) => command.join(' '))).toEqual([expect.stringContaining('--allow-principal User:deployer --operation Create --operation Describe --operation DescribeConfigs')]);
    expect(runAcls).toHaveLength(5);
    expect(runAcls.every((command) => command.includes('User:processor'))).toBe(true);
    await runAclCommands(cluster, archive, [...applyAcls, ...runAcls]);

    // 2. apply, as deployer: the topics and the schemas.
    const applied = await archive.runCli('apply', ['topology', 'apply', '--topology', asDeployer.file], { env: asDeployer.env });
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' });
    expect(applied.stdout).toContain('Created 3 topics, registered 3 schemas and set the compatibility of 3 subjects.');

    // 3. Transactions (two poison records among them), produced by the super user.
    const admin = securedKafka(cluster);
    const schemaId = await securedTransactionSchemaId(cluster, topics.input);
    const stream = workload({ seed: 16, graphs: 5 });
    const txs: GraphTransaction[] = Array.from({ length: 240 }, () => stream.next().value as GraphTransaction);
    const produce = async (batch: readonly GraphTransaction[], poison: string): Promise<void> => {
      const producer = await transactionalProducer(admin);
      const transaction = await producer.transaction();
      await transaction.send({ topic: topics.input, messages: [...batch.map((tx) => transactionMessage(tx, schemaId)), { key: 'graph-1', value: Buffer.from(poison) }] });
      await transaction.commit();
      await producer.disconnect();
    };
    const expected = new Map<string, GraphDiff[]>();
    const reference = await openTempStore();
    for (const [offset, tx] of txs.entries()) {
      const result = await foldInto(reference.store, tx, { source: { topic: topics.input, partition: 0, offset }, recordTime: 0, maxInstructions: 10_000 });
      if (result.outcome === 'applied') expected.set(tx.graph, [...(expected.get(tx.graph) ?? []), result.diff]);
    }
    await reference.close();
    const expectedCount = [...expected.values()].reduce((n, list) => n + list.length, 0);
    const firstHalf = txs.slice(0, 120);
    const firstCount = await expectedDiffCount(firstHalf);
    await produce(firstHalf, 'not avro: first');

    // 4. run, as processor, until the first half is folded; then killed without warning.
    const first = ProcessorChild.start('processor A', asProcessor.file, archive.file('processor-a.log'), asProcessor.env);
    try {
      await readDiffs(admin, topics.diffs, firstCount, 120_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}; processor A's log ends:\n${await first.tail()}`);
    } finally {
      first.kill('SIGKILL');
      await first.exited;
    }

    // 5. The second half, and a processor with an empty state directory: it restores the whole
    //    changelog (in the restore groups its ACLs name), then folds the rest.
    await produce(txs.slice(120), 'not avro: second');
    const second = ProcessorChild.start('processor B', (await writeSecuredTopology(cluster, dir, topics, { application, stateDir: join(dir, 'state-b'), kafkaUser: 'processor' })).file, archive.file('processor-b.log'), asProcessor.env);
    let diffs: Awaited<ReturnType<typeof readDiffs>>;
    try {
      diffs = await readDiffs(admin, topics.diffs, expectedCount, 120_000);
      await second.waitForLog('restore finished');
    } catch (error) {
      second.kill('SIGKILL');
      throw new Error(`${(error as Error).message}; processor B's log ends:\n${await second.tail()}`);
    }
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    // 6. Exactly once: every graph's slices 1..n with no gap and no repeat, equal to the reference fold.
    for (const [graph, list] of byGraph(diffs)) {
      expect(list.map((d) => d.slice)).toEqual(list.map((_, i) => i + 1));
      const want = expected.get(graph) ?? [];
      expect(canonical(list.map((d) => ({ slice: d.slice, txId: d.txId, changes: d.changes })))).toBe(canonical(want.map((d) => ({ slice: d.slice, txId: d.txId, changes: d.changes }))));
    }
    expect([...byGraph(diffs).keys()].sort()).toEqual([...expected.keys()].sort());
    const rejections = await readRejections(admin, topics.rejections, 2);
    expect(rejections.map((r) => [r.code, r.payload.toString()]).sort()).toEqual([
      ['DECODE_ERROR', 'not avro: first'],
      ['DECODE_ERROR', 'not avro: second'],
    ]);
    expect(second.logged('restore finished').length).toBeGreaterThan(0);
    expect(first.logged('processor failed')).toEqual([]);
    expect(second.logged('processor failed')).toEqual([]);
  });

  test('no output of these runs holds a password: CLI output, processor logs, the broker\'s and the registry\'s logs', async () => {
    expect(await archive.size()).toBeGreaterThan(10);
    expect(await archive.leaks(clusterPasswords(cluster), [cluster.kafkaLog, cluster.registryLog])).toEqual([]);
  });
});

