import { topicDifferences, topicPlans, type ExistingTopic, type TopicPlan } from '../../../processors/admin/topics';
import { subjectPlans } from '../../../processors/admin/subjects';
import { parseTopology } from '../../../topology/loader';

const topology = parseTopology(
  [
    'application: app',
    'kafka: { brokers: "k:9092" }',
    'registry: { url: "http://r:8081" }',
    'processors:',
    '  - { name: crm, inputs: [crm-in, crm-import], partitions: 3, replicationFactor: 1 }',
    '  - { name: mirror, inputs: [crm-diffs], partitions: 3, replicationFactor: 1 }',
  ].join('\n'),
  'topo.yaml',
  { env: {} },
);

describe('topic plans', () => {
  test('every topic once, with its role, users, partitions and settings; a diffs topic read by another processor stays a changelog', () => {
    expect(topicPlans(topology)).toEqual([
      { topic: 'crm-in', role: 'input', uses: ['input of crm'], partitions: 3, replicationFactor: 1, config: { 'cleanup.policy': 'delete' } },
      { topic: 'crm-import', role: 'input', uses: ['input of crm'], partitions: 3, replicationFactor: 1, config: { 'cleanup.policy': 'delete' } },
      { topic: 'crm-diffs', role: 'diffs', uses: ['diffs of crm', 'input of mirror'], partitions: 3, replicationFactor: 1, config: { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1', 'max.message.bytes': '1001024' } },
      { topic: 'crm-rejections', role: 'rejections', uses: ['rejections of crm'], partitions: 3, replicationFactor: 1, config: { 'cleanup.policy': 'delete', 'max.message.bytes': '1066560' } },
      { topic: 'mirror-diffs', role: 'diffs', uses: ['diffs of mirror'], partitions: 3, replicationFactor: 1, config: { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1', 'max.message.bytes': '1001024' } },
      { topic: 'mirror-rejections', role: 'rejections', uses: ['rejections of mirror'], partitions: 3, replicationFactor: 1, config: { 'cleanup.policy': 'delete', 'max.message.bytes': '1066560' } },
    ]);
  });

  test('subjects: GraphTransaction for inputs, GraphDiff for diffs (also when another processor reads them), Rejection for rejections', () => {
    expect(subjectPlans(topology).map((plan) => [plan.subject, plan.schemaName])).toEqual([
      ['crm-in-value', 'graphfold.GraphTransaction'],
      ['crm-import-value', 'graphfold.GraphTransaction'],
      ['crm-diffs-value', 'graphfold.GraphDiff'],
      ['crm-rejections-value', 'graphfold.Rejection'],
      ['mirror-diffs-value', 'graphfold.GraphDiff'],
      ['mirror-rejections-value', 'graphfold.Rejection'],
    ]);
  });
});

describe('an existing topic against its plan', () => {
  const plans = topicPlans(topology);
  const plan = (topic: string): TopicPlan => plans.find((p) => p.topic === topic) as TopicPlan;
  const existing = (p: TopicPlan, changes: Partial<ExistingTopic> = {}): ExistingTopic => ({ topic: p.topic, partitions: p.partitions, replicationFactor: p.replicationFactor, config: { ...p.config }, ...changes });

  test('as planned: nothing to say', () => {
    for (const p of plans) expect(topicDifferences(p, existing(p), ['k:9092'])).toEqual({ errors: [], notes: [] });
  });

  test('another partition count is an error that says what to do', () => {
    const diffs = plan('crm-diffs');
    expect(topicDifferences(diffs, existing(diffs, { partitions: 6 }), ['k:9092']).errors).toEqual([
      "has 6 partitions; the topology says 3 (diffs of crm, input of mirror). A graph's partition is its key's hash, so the count cannot change under a running topology: set partitions: 6 in the topology, or delete and recreate the topic (losing its records)",
    ]);
  });

  test('a changelog that compacts or expires is an error, with the command that fixes it', () => {
    const diffs = plan('crm-diffs');
    const { errors, notes } = topicDifferences(diffs, existing(diffs, { config: { 'cleanup.policy': 'compact', 'retention.ms': '604800000', 'retention.bytes': '-1' } }), ['k:9092']);
    expect(errors).toEqual([
      'cleanup.policy is compact; the changelog needs delete (compaction would destroy the history a restore folds): kafka-configs.sh --bootstrap-server k:9092 --alter --entity-type topics --entity-name crm-diffs --add-config cleanup.policy=delete',
      'retention.ms is 604800000; the changelog needs -1 (the changelog must keep every diff for restores to be exact): kafka-configs.sh --bootstrap-server k:9092 --alter --entity-type topics --entity-name crm-diffs --add-config retention.ms=-1',
    ]);
    expect(notes).toEqual([]);
  });

  test('an input with other settings or another replication factor is only noted', () => {
    const input = plan('crm-in');
    expect(topicDifferences(input, existing(input, { replicationFactor: 3, config: { 'cleanup.policy': 'compact' } }), ['k:9092'])).toEqual({
      errors: [],
      notes: [
        'cleanup.policy is compact; graphfold creates input topics with delete (kafka-configs.sh --bootstrap-server k:9092 --alter --entity-type topics --entity-name crm-in --add-config cleanup.policy=delete)',
        'has replication factor 3; the topology says 1 (apply does not change it: that takes a partition reassignment)',
      ],
    });
  });
});
