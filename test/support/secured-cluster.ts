import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import type { AclGrant, AclOperation, AclResourceType } from '../../processors/admin/acls';
import { readClusterCredentials, type ClusterCredentials, type SecuredKafkaUser } from '../broker/local-cluster';
import { securedClusterFromEnvironment, type SecuredClusterAddresses } from './environment';
import { uniqueName } from './kafka';
import type { ProcessorTopics } from './processor-harness';

/**
 * The secured cluster of a security test run, as the tests use it: its CA, its passwords, a
 * super-user client to make topics and grant ACLs, and topology files that reach it as one of
 * its users with the password from the environment.
 */
export interface SecuredTestCluster extends SecuredClusterAddresses {
  /** PEM text of the CA that signed the broker's and the registry's certificates. */
  readonly ca: string;
  readonly credentials: ClusterCredentials;
}

let cached: Promise<SecuredTestCluster> | undefined;

export function securedTestCluster(): Promise<SecuredTestCluster> {
  cached ??= (async () => {
    const cluster = securedClusterFromEnvironment();
    if (cluster === undefined) {
      throw new Error('no secured cluster: security tests get theirs from test/support/secured-global-setup.ts; run them through jest\'s security project (npm run test:security, or npm test)');
    }
    return { ...cluster, ca: readFileSync(cluster.security.caFile, 'utf8'), credentials: await readClusterCredentials(cluster.security) };
  })();
  return cached;
}

/** A kafkajs client of the secured cluster as `user` (default: the super user `admin`). */
export function securedKafka(cluster: SecuredTestCluster, user: SecuredKafkaUser = 'admin'): Kafka {
  return new Kafka({
    clientId: uniqueName(`test-${user}`),
    brokers: [...cluster.brokers],
    ssl: { ca: [cluster.ca] },
    sasl: { mechanism: 'scram-sha-512', username: user, password: cluster.credentials.kafka[user] },
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}

const operations: Readonly<Record<AclOperation, AclOperationTypes>> = {
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Describe: AclOperationTypes.DESCRIBE,
  Create: AclOperationTypes.CREATE,
  DescribeConfigs: AclOperationTypes.DESCRIBE_CONFIGS,
};

const resourceTypes: Readonly<Record<AclResourceType, AclResourceTypes>> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  'transactional-id': AclResourceTypes.TRANSACTIONAL_ID,
};

/** The ACL entries of grants for `principal`, one per operation and resource. */
export function aclEntries(principal: string, grants: readonly AclGrant[]): AclEntry[] {
  return grants.flatMap((grant) =>
    grant.operations.flatMap((operation) =>
      grant.names.map((name) => ({
        resourceType: resourceTypes[grant.resourceType],
        resourceName: name,
        resourcePatternType: grant.patternType === 'prefixed' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
        principal,
        host: '*',
        operation: operations[operation],
        permissionType: AclPermissionTypes.ALLOW,
      })),
    ),
  );
}

/** Adds these grants for `principal`, as the super user. */
export async function grantAcls(cluster: SecuredTestCluster, principal: string, grants: readonly AclGrant[]): Promise<void> {
  const admin = securedKafka(cluster).admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: aclEntries(principal, grants) });
  } finally {
    await admin.disconnect();
  }
}

/** The environment variables a secured topology file reads its passwords from. */
export const passwordVariables = { kafka: 'GRAPHFOLD_TEST_KAFKA_PASSWORD', registry: 'GRAPHFOLD_TEST_REGISTRY_PASSWORD' } as const;

export interface SecuredTopologyOptions {
  readonly application: string;
  readonly stateDir: string;
  /** @default 'processor' */
  readonly kafkaUser?: SecuredKafkaUser | string;
  /** @default the user's password */
  readonly kafkaPassword?: string;
  /** @default the registry user's password */
  readonly registryPassword?: string;
  /** @default the cluster's SASL_SSL listener */
  readonly brokers?: string;
  /** PEM file the client trusts. @default the cluster's CA */
  readonly caFile?: string;
}

/**
 * A topology file for one processor over `topics` on the secured cluster, as `kafkaUser`, and the
 * environment its passwords come from (`${VAR}`, never written in the file).
 */
export async function writeSecuredTopology(
  cluster: SecuredTestCluster,
  dir: string,
  topics: ProcessorTopics,
  options: SecuredTopologyOptions,
): Promise<{ readonly file: string; readonly env: Readonly<Record<string, string>> }> {
  const user = options.kafkaUser ?? 'processor';
  const known = cluster.credentials.kafka as Readonly<Record<string, string>>;
  const caFile = options.caFile ?? cluster.security.caFile;
  const file = join(dir, `${uniqueName('secured-topology')}.yaml`);
  const yaml = [
    `application: ${options.application}`,
    'kafka:',
    `  brokers: ${options.brokers ?? cluster.brokers.join(',')}`,
    `  tls: { ca: ${caFile} }`,
    `  sasl: { mechanism: scram-sha-512, username: ${user}, password: "\${${passwordVariables.kafka}}" }`,
    '  connectionTimeoutMs: 5000',
    'registry:',
    `  url: ${cluster.registryUrl}`,
    '  username: graphfold',
    `  password: "\${${passwordVariables.registry}}"`,
    `  tls: { ca: ${caFile} }`,
    'store:',
    `  dir: ${options.stateDir}`,
    '  cachedAtoms: 10000',
    'processors:',
    '  - name: graphs',
    `    inputs: [${topics.input}]`,
    `    diffs: ${topics.diffs}`,
    `    rejections: ${topics.rejections}`,
    `    partitions: ${topics.partitions}`,
    '    replicationFactor: 1',
    `    concurrency: ${topics.partitions}`,
    '    sessionTimeoutMs: 6000',
  ].join('\n');
  await writeFile(file, `${yaml}\n`);
  return {
    file,
    env: {
      [passwordVariables.kafka]: options.kafkaPassword ?? known[user] ?? 'no-such-password',
      [passwordVariables.registry]: options.registryPassword ?? cluster.credentials.registry.graphfold,
    },
  };
}

/** Every password of the cluster, by name: what no output may contain. */
export function clusterPasswords(cluster: SecuredTestCluster): Record<string, string> {
  return {
    ...Object.fromEntries(Object.entries(cluster.credentials.kafka).map(([user, password]) => [`kafka user ${user}`, password])),
    ...Object.fromEntries(Object.entries(cluster.credentials.registry).map(([user, password]) => [`registry user ${user}`, password])),
  };
}
