import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aclPlan, type AclGrant } from '../../processors/admin/acls';
import type { GraphTransaction } from '../../processors/engine/model';
import { coordinatorMissesForRefusal } from '../../processors/errors';
import { loadTopology } from '../../topology/loader';
import { createTopic, transactionalProducer, uniqueName } from '../support/kafka';
import { OutputArchive } from '../support/output-archive';
import { transactionMessage, type ProcessorTopics } from '../support/processor-harness';
import { clusterPasswords, grantAcls, securedKafka, securedTestCluster, writeSecuredTopology, type SecuredTestCluster, type SecuredTopologyOptions } from '../support/secured-cluster';
import { securedTopicNames, securedTransactionSchemaId } from '../support/secured-processor';

/**
 * Each way a secured deployment can be wrong, one at a time against the secured broker: the
 * processor (`graphfold run`; `topology apply` for its own ACL) must stop at once, exit 1, and say
 * in one `graphfold:` line what is wrong, never the password and never after retrying. Each case
 * gets fresh topics and an application of its own, and the ACLs `topology describe` prints minus
 * the one the case is about. Before access-refusal.ts, the ACL cases retried forever, the TLS
 * ones for the kafkajs retry budget, and most ended in "unexpected error (a bug)".
 */

/** A failure is fast when it does not wait out a retry budget (kafkajs' alone is about 17 s for a refused TLS handshake). */
const fastMs = 10_000;

interface Case {
  readonly name: string;
  /** @default 'run' */
  readonly command?: 'run' | 'apply';
  /** What the case changes in the otherwise right topology. */
  readonly topology?: (cluster: SecuredTestCluster) => Partial<SecuredTopologyOptions>;
  /** The run block's grants with the one this case is about taken out. */
  readonly withhold?: (grants: readonly AclGrant[], topics: ProcessorTopics) => AclGrant[];
  /** Whether a transaction waits on the input (a failure that needs a batch to show). */
  readonly input: boolean;
  readonly line: RegExp;
}

const cases: readonly Case[] = [
  {
    name: 'wrong password',
    topology: () => ({ kafkaPassword: 'not-the-password-8c1f' }),
    input: false,
    line: /^graphfold: Kafka cluster at 127\.0\.0\.1:\d+ refused the credentials of user processor \(SASL scram-sha-512\)/,
  },
  {
    name: 'unknown user',
    topology: () => ({ kafkaUser: 'nobody-here', kafkaPassword: 'any-password-5e2a' }),
    input: false,
    line: /^graphfold: Kafka cluster at 127\.0\.0\.1:\d+ refused the credentials of user nobody-here \(SASL scram-sha-512\)/,
  },
  {
    name: 'missing Write on the diffs topic',
    withhold: (grants, topics) => grants.map((g) => (g.operations.includes('Write') && g.resourceType === 'topic' ? { ...g, names: g.names.filter((name) => name !== topics.diffs) } : g)),
    input: true,
    line: /^graphfold: Kafka cluster at 127\.0\.0\.1:\d+: user processor is not authorized to write diffs to topic diffs-\S+ \(TOPIC_AUTHORIZATION_FAILED\): grant User:processor Write on topic diffs-\S+; graphfold topology describe prints every ACL graphfold needs$/,
  },
  {
    name: 'missing Write on the transactional ids',
    withhold: (grants) => grants.filter((g) => g.resourceType !== 'transactional-id'),
    input: true,
    line: /^graphfold: Kafka cluster at 127\.0\.0\.1:\d+: user processor is not authorized to start a transaction as transactional id secured-negative-\S+-graphs-0 \(.*\): grant User:processor Write, Describe on the transactional ids prefixed secured-negative-\S+-graphs-; /,
  },
  {
    name: 'missing Read on the consumer group',
    withhold: (grants) => grants.filter((g) => !(g.resourceType === 'group' && g.patternType === 'literal')),
    input: false,
    line: /^graphfold: Kafka cluster at 127\.0\.0\.1:\d+: user processor is not authorized to consume instructions-\S+ in consumer group secured-negative-\S+-graphs \(.*\): grant User:processor Read on group secured-negative-\S+-graphs; /,
  },
  {
    name: 'TLS hostname mismatch',
    topology: (cluster) => ({ brokers: cluster.security.badListeners.wrongHostname }),
    input: false,
    line: /^graphfold: Kafka cluster at 127\.0\.0\.1:\d+: TLS refused: the certificate of 127\.0\.0\.1:\d+ is for another host name \(ERR_TLS_CERT_ALTNAME_INVALID\): /,
  },
  {
    name: 'untrusted CA',
    topology: (cluster) => ({ caFile: cluster.security.untrustedCaFile }),
    input: false,
    line: /^graphfold: Kafka cluster at 127\.0\.0\.1:\d+: TLS refused: the certificate of 127\.0\.0\.1:\d+ is not signed by a CA graphfold trusts \(SELF_SIGNED_CERT_IN_CHAIN\): set kafka\.tls\.ca to the PEM file of the CA that signed it$/,
  },
  {
    name: 'expired certificate',
    topology: (cluster) => ({ brokers: cluster.security.badListeners.expiredCertificate }),
    input: false,
    line: /^graphfold: Kafka cluster at 127\.0\.0\.1:\d+: TLS refused: the certificate of 127\.0\.0\.1:\d+ has expired \(CERT_HAS_EXPIRED\): renew the certificate$/,
  },
  {
    name: 'topology apply without Create on the topics',
    command: 'apply',
    topology: () => ({ kafkaUser: 'deployer' }),
    withhold: (_grants, topics) => [{ operations: ['Describe', 'DescribeConfigs'], resourceType: 'topic', patternType: 'literal', names: [topics.input, topics.diffs, topics.rejections], why: 'apply without Create' }],
    input: false,
    line: /^graphfold: Kafka cluster at 127\.0\.0\.1:\d+: user deployer is not authorized to create topics \S+, \S+, \S+ \(TOPIC_AUTHORIZATION_FAILED\): grant User:deployer Create on topics \S+, \S+, \S+; /,
  },
  {
    name: 'registry: wrong credentials',
    topology: () => ({ registryPassword: 'not-the-registry-password-41d0' }),
    input: false,
    line: /^graphfold: schema registry at https:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7 refused the credentials of user graphfold \(401\) to register graphfold\.(GraphDiff|Rejection) under \S+-value: check registry\.username and the password \(registry\.password or passwordFile\) in the topology$/,
  },
];

/** What each case printed and how long it took, for the closing note. */
const outcomes: { name: string; line: string; ms: number }[] = [];

describe('a wrongly secured deployment fails fast, with one line naming the cause and never the password', () => {
  let cluster: SecuredTestCluster;
  let archive: OutputArchive;
  const wrongPasswords: Record<string, string> = {};

  beforeAll(async () => {
    cluster = await securedTestCluster();
    archive = await OutputArchive.create('secured-negatives');
  });

  afterAll(async () => {
    if (archive === undefined) return;
    const table = outcomes.map((o) => `${o.name}\t${o.ms} ms\t${o.line}`).join('\n');
    await writeFile(join(archive.dir, 'outcomes.tsv'), `${table}\n`);
    process.stderr.write(`[secured negatives] outcomes (also in ${join(archive.dir, 'outcomes.tsv')}):\n${table}\n`);
  });

  test.each(cases)('$name', async (c) => {
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-negative-'));
    const admin = securedKafka(cluster);
    // apply creates its topics; a processor finds them made by the super user.
    const topics: ProcessorTopics =
      c.command === 'apply'
        ? securedTopicNames(1)
        : await (async () => {
            const [input, diffs, rejections] = await Promise.all([
              createTopic(admin, { prefix: 'instructions' }),
              createTopic(admin, { prefix: 'diffs', config: { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' } }),
              createTopic(admin, { prefix: 'rejections' }),
            ]);
            return { input, diffs, rejections, partitions: 1 };
          })();
    const changes = c.topology?.(cluster) ?? {};
    if (changes.kafkaPassword !== undefined) wrongPasswords[`${c.name}: the wrong Kafka password`] = changes.kafkaPassword;
    if (changes.registryPassword !== undefined) wrongPasswords[`${c.name}: the wrong registry password`] = changes.registryPassword;
    const { file, env } = await writeSecuredTopology(cluster, dir, topics, { application: uniqueName('secured-negative'), stateDir: join(dir, 'state'), ...changes });

    const user = changes.kafkaUser ?? 'processor';
    const plan = aclPlan(loadTopology(file, { env }));
    const all = plan.run[0]?.grants ?? [];
    const grants = c.withhold?.(all, topics) ?? all;
    if (c.withhold !== undefined) expect(grants).not.toEqual(all);
    await grantAcls(cluster, `User:${user}`, grants);
    if (c.input) {
      const tx: GraphTransaction = { graph: 'g1', txId: 'tx-1', instructions: [{ op: 'CreateEntity', ref: 'a', type: 'Person' }] };
      const schemaId = await securedTransactionSchemaId(cluster, topics.input);
      const producer = await transactionalProducer(admin);
      const transaction = await producer.transaction();
      await transaction.send({ topic: topics.input, messages: [transactionMessage(tx, schemaId)] });
      await transaction.commit();
      await producer.disconnect();
    }

    const started = Date.now();
    const args = c.command === 'apply' ? ['topology', 'apply', '--topology', file] : ['run', '--topology', file];
    const run = await archive.runCli(c.name, args, { env, timeoutMs: 60_000 });
    const ms = Date.now() - started;
    const errorLines = run.stderr.split('\n').filter((line) => line.startsWith('graphfold:'));
    outcomes.push({ name: c.name, line: errorLines.join(' | '), ms });

    expect({ code: run.code, errorLines: errorLines.length }).toEqual({ code: 1, errorLines: 1 });
    expect(errorLines[0]).toMatch(c.line);
    expect(run.stderr).not.toMatch(/retrying|unexpected error/);
    // A refusal is never retried. A coordinator lookup the broker refuses looks, through kafkajs,
    // like one a restarting broker dropped: it is tried again, and is the refusal when it repeats.
    const retried = run.stderr.split('\n').filter((text) => text.includes('opening it again'));
    expect(retried.filter((text) => !text.includes('error=CoordinatorNotFoundError'))).toEqual([]);
    expect(retried.length).toBeLessThanOrEqual(coordinatorMissesForRefusal + 1);
    expect(ms).toBeLessThan(fastMs);
  });

  test('no output of these runs holds a password, right or wrong', async () => {
    expect(await archive.size()).toBeGreaterThanOrEqual(cases.length * 2);
    expect(await archive.leaks({ ...clusterPasswords(cluster), ...wrongPasswords }, [cluster.kafkaLog, cluster.registryLog])).toEqual([]);
  });
});
