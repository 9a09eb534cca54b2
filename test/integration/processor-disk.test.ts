import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import type { GraphTransaction } from '../../processors/engine/model';
import { canonical } from '../support/canonical';
import { testKafka, uniqueName } from '../support/kafka';
import { ProcessorChild, readAll, waitForCaughtUp, writeTopologyFile } from '../support/processor-child';
import { byGraph, createProcessorTopics, decodeDiff, transactionMessage, transactionSchemaId, type ProcessorTopics } from '../support/processor-harness';
import { openTempStore } from '../support/temp-store';
import { foldInto } from '../support/fold-loop';

/**
 * The store's disk fails under a running processor: filled up (ENOSPC) or gone read-only (EROFS).
 * Each is a real file system in a mount namespace of the processor's own (`unshare`), so nothing
 * outside the test is touched and the mount goes with the process: a small tmpfs over the state
 * directory, or the state directory bound over itself read-only (as a volume the kernel remounted
 * read-only after errors is). The log names the store's directory and the OS error; nothing is
 * lost: a processor on a healthy disk restores from the changelog and goes on.
 */
const shell = [
  'set -u',
  'if [ "$GF_MOUNT" = tmpfs ]; then mount -t tmpfs -o size="$GF_TMPFS_SIZE" tmpfs "$GF_STATE" || exit 97; fi',
  'if [ "$GF_MOUNT" = readonly ]; then mount --bind "$GF_STATE" "$GF_STATE" && mount -o remount,ro,bind "$GF_STATE" || exit 97; fi',
  'exec "$@"',
].join('\n');

function mounted(state: string, mount: { readonly tmpfs: string } | 'readonly'): (command: readonly string[]) => readonly string[] {
  const how = mount === 'readonly' ? ['GF_MOUNT=readonly', 'GF_TMPFS_SIZE='] : ['GF_MOUNT=tmpfs', `GF_TMPFS_SIZE=${mount.tmpfs}`];
  // unshare -r maps this user to root in a user namespace of its own, which may mount there.
  return (command) => ['unshare', '-rm', 'env', `GF_STATE=${state}`, ...how, 'sh', '-c', shell, 'sh', ...command];
}

/** Transactions with a 20 KB attribute each, so that a few hundred fill a few MiB of store. */
function bulky(prefix: string, count: number): GraphTransaction[] {
  return Array.from({ length: count }, (_, i) => ({
    graph: `${prefix}-${i % 3}`,
    txId: `${prefix}-${i}`,
    instructions: [{ op: 'CreateAttribute' as const, ref: 'a', valueType: 'String', value: { type: 'String' as const, value: `${i}:`.padEnd(20_000, 'x') } }],
  }));
}

async function produce(kafka: Kafka, topics: ProcessorTopics, txs: readonly GraphTransaction[]): Promise<void> {
  const schemaId = await transactionSchemaId(topics.input);
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < txs.length; i += 20) await producer.send({ topic: topics.input, messages: txs.slice(i, i + 20).map((tx) => transactionMessage(tx, schemaId)) });
  await producer.disconnect();
}

async function expectExactlyOnce(kafka: Kafka, topics: ProcessorTopics, txs: readonly GraphTransaction[]): Promise<void> {
  const expected = new Map<string, string[]>();
  const reference = await openTempStore();
  for (const [offset, tx] of txs.entries()) {
    const result = await foldInto(reference.store, tx, { source: { topic: topics.input, partition: 0, offset }, recordTime: 0, maxInstructions: 100 });
    if (result.outcome === 'applied') expected.set(tx.graph, [...(expected.get(tx.graph) ?? []), tx.txId]);
  }
  await reference.close();
  const graphs = byGraph((await readAll(kafka, topics.diffs)).map(decodeDiff));
  expect(canonical([...graphs].map(([graph, list]) => [graph, list.map((d) => d.txId)]).sort())).toBe(canonical([...expected].sort()));
  for (const list of graphs.values()) expect(list.map((d) => d.slice)).toEqual(list.map((_, i) => i + 1));
}

async function setUp(name: string): Promise<{ kafka: Kafka; topics: ProcessorTopics; dir: string; state: string; file: string; application: string }> {
  const kafka = testKafka();
  const topics = await createProcessorTopics(kafka, 1);
  const dir = await mkdtemp(join(tmpdir(), `graphfold-${name}-`));
  const state = join(dir, 'state');
  await mkdir(state);
  const application = uniqueName(name);
  const file = await writeTopologyFile(dir, topics, { application, stateDir: state, storeLines: ['cacheBytes: 1 MiB', 'writeBufferBytes: 1 MiB'], processorLines: ['taskTimeoutMs: 15000'] });
  return { kafka, topics, dir, state, file, application };
}

describe('processor, its store on a failing disk', () => {
  test('a full disk (ENOSPC): every failure line names the store directory and the OS error, the processor gives up after taskTimeoutMs, and a processor on a healthy disk loses nothing', async () => {
    const { kafka, topics, dir, state, file, application } = await setUp('enospc');
    const txs = bulky('full', 300);
    await produce(kafka, topics, txs);
    const child = ProcessorChild.start('on a full disk', file, join(dir, 'full.log'), {}, mounted(state, { tmpfs: '3m' }));
    const code = await Promise.race([child.exited, sleep(150_000, 'late' as const)]);
    if (code === 'late') child.kill('SIGKILL');
    const tail = await child.tail(30);
    expect({ code, tail: code === 1 ? '' : tail }).toEqual({ code: 1, tail: '' });
    const store = join(state, 'graphs', '0');
    const failures = [...child.logged('partition task failed; opening it again'), ...child.logged('processor failed')];
    expect(failures.length).toBeGreaterThan(0);
    for (const line of failures) {
      const text = JSON.stringify(line);
      expect(text).toContain(store);
      expect(text).toMatch(/ENOSPC|No space left on device/);
    }
    // JSON logs carry the cause chain, down to RocksDB's own words.
    expect(failures.some((line) => Array.isArray(line['causes']) && (line['causes'] as string[]).some((cause) => cause.includes('No space left on device')))).toBe(true);
    expect(JSON.stringify(child.logged('processor failed'))).toContain('taskTimeoutMs is 15000');

    const healthy = ProcessorChild.start('on a healthy disk', file, join(dir, 'healthy.log'));
    try {
      await waitForCaughtUp(kafka, `${application}-graphs`, topics.input, 180_000);
    } finally {
      healthy.kill('SIGTERM');
      await healthy.exited;
    }
    await expectExactlyOnce(kafka, topics, txs);
  }, 400_000);

  test('a disk gone read-only (EROFS) stops the processor at once with the directory and the OS error, the store is kept, and a processor on a healthy disk loses nothing', async () => {
    const { kafka, topics, dir, state, file, application } = await setUp('erofs');
    const first = bulky('ro', 40);
    await produce(kafka, topics, first);
    const before = ProcessorChild.start('on a healthy disk, before', file, join(dir, 'before.log'));
    await waitForCaughtUp(kafka, `${application}-graphs`, topics.input, 120_000);
    before.kill('SIGTERM');
    expect(await before.exited).toBe(0);
    const second = bulky('ro2', 40);
    await produce(kafka, topics, second);
    const child = ProcessorChild.start('on a read-only disk', file, join(dir, 'ro.log'), {}, mounted(state, 'readonly'));
    const code = await Promise.race([child.exited, sleep(90_000, 'late' as const)]);
    if (code === 'late') child.kill('SIGKILL');
    expect(code).toBe(1);
    const failed = JSON.stringify(child.logged('processor failed'));
    expect(failed).toContain(join(state, 'graphs', '0'));
    expect(failed).toMatch(/read-only \(EROFS|Read-only file system/);
    expect(child.logged('partition task failed; opening it again').filter((line) => JSON.stringify(line).includes('EROFS'))).toEqual([]);
    expect(child.logged('store discarded; rebuilding it from the changelog')).toEqual([]);

    const healthy = ProcessorChild.start('on a healthy disk', file, join(dir, 'healthy.log'));
    try {
      await waitForCaughtUp(kafka, `${application}-graphs`, topics.input, 180_000);
    } finally {
      healthy.kill('SIGTERM');
      await healthy.exited;
    }
    await expectExactlyOnce(kafka, topics, [...first, ...second]);
  }, 400_000);
});
