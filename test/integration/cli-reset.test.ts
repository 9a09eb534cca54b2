import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphTransaction } from '../../processors/engine/model';
import { workload } from '../bench/workload';
import { runCli } from '../support/cli';
import { testKafka, uniqueName } from '../support/kafka';
import { ProcessorChild, readAll, waitForCaughtUp, writeTopologyFile } from '../support/processor-child';
import { createProcessorTopics, expectedDiffCount, transactionMessage, transactionSchemaId } from '../support/processor-harness';
import { waitFor } from '../support/wait-for';

describe('graphfold reset', () => {
  test('refuses while an instance runs, and without the topics; deletes the stores, the committed offsets and the diffs and rejections topics only when asked twice; a run after it folds the whole input once', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 1);
    const schemaId = await transactionSchemaId(topics.input);
    const stream = workload({ seed: 41, graphs: 2 });
    const txs = Array.from({ length: 30 }, () => stream.next().value as GraphTransaction);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.input, messages: txs.map((tx) => transactionMessage(tx, schemaId)) });
    await producer.disconnect();
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-reset-'));
    const application = uniqueName('reset');
    const state = join(dir, 'state');
    const file = await writeTopologyFile(dir, topics, { application, stateDir: state });
    const group = `${application}-graphs`;

    const first = ProcessorChild.start('first', file, join(dir, 'first.log'));
    await waitForCaughtUp(kafka, group, topics.input);
    const busy = await runCli(['reset', '--topology', file, '--delete-topics', '--confirm', application]);
    expect(busy).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(new RegExp(`^graphfold: consumer group ${group} \\(1 member: .*\\) has running instances: stop every instance of the application first, then reset\\n$`)) as unknown });
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    // A reset without the topics would judge the inputs again against the changelog it kept
    // (a no-op transaction could then apply, a refused one be rejected twice): refused.
    const partial = await runCli(['reset', '--topology', file]);
    expect(partial).toEqual({ code: 2, stdout: '', stderr: `graphfold: a reset deletes the stores, the committed offsets and the diffs and rejections topics of ${application} (all history): give --delete-topics to confirm that (or --dry-run to see it); to rebuild only the stores from the changelog, use graphfold repair store --discard (see graphfold reset --help)\n` });
    expect(existsSync(join(state, 'graphs'))).toBe(true);

    const dry = await runCli(['reset', '--topology', file, '--dry-run']);
    expect(dry).toEqual({ code: 0, stderr: '', stdout: `graphs: would delete its stores ${join(state, 'graphs')}, consumer group ${group} (its committed offsets), topics ${topics.diffs}, ${topics.rejections}\n` });
    expect(existsSync(join(state, 'graphs'))).toBe(true);

    const unconfirmed = await runCli(['reset', '--topology', file, '--delete-topics']);
    expect(unconfirmed).toEqual({ code: 2, stdout: '', stderr: `graphfold: --delete-topics deletes every diff and rejection of ${application}: confirm with --confirm ${application} (see graphfold reset --help)\n` });
    const wrong = await runCli(['reset', '--topology', file, '--delete-topics', '--confirm', 'another-app']);
    expect(wrong).toEqual({ code: 1, stdout: '', stderr: `graphfold: 'another-app' is not the application name ${application}: nothing was deleted\n` });
    expect(existsSync(join(state, 'graphs'))).toBe(true);
    const all = await runCli(['reset', '--topology', file, '--delete-topics', '--confirm', application]);
    expect(all).toEqual({ code: 0, stderr: '', stdout: `graphs: deleted its stores ${join(state, 'graphs')}, consumer group ${group} (its committed offsets), topics ${topics.diffs}, ${topics.rejections}\n` });
    expect(existsSync(join(state, 'graphs'))).toBe(false);
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topics.input] });
    expect(offsets?.partitions.map((p) => p.offset)).toEqual(['-1']);
    await waitFor('the topics to be deleted', async () => {
      const names = await admin.listTopics();
      return !names.includes(topics.diffs) && !names.includes(topics.rejections) ? names : undefined;
    }, { timeoutMs: 30_000 });
    expect(await admin.listTopics()).toContain(topics.input);
    await admin.disconnect();

    // From scratch: topology apply creates the topics again, and a run folds the whole input
    // once: the new changelog holds exactly what a fresh fold of it applies.
    expect(await runCli(['topology', 'apply', '--topology', file])).toMatchObject({ code: 0 });
    const applied = await expectedDiffCount(txs);
    const second = ProcessorChild.start('second', file, join(dir, 'second.log'));
    await waitForCaughtUp(kafka, group, topics.input);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect((await readAll(kafka, topics.diffs)).length).toBe(applied);
  }, 240_000);
});
