import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FatalError } from '../errors';
import { kafkaClient } from '../runtime/kafka-client';
import { groupId, type ProcessorSpec, type Topology } from '../runtime/topology';
import { clusterFailure } from './cluster-failure';

/** What a reset did (or, with `dryRun`, would do), per processor. */
export interface ProcessorReset {
  readonly processor: string;
  readonly group: string;
  /** The store directory deleted (undefined: none on this instance). */
  readonly storeDir: string | undefined;
  /** True when the group had committed offsets, now deleted. */
  readonly offsets: boolean;
  /** The topics deleted: the diffs and rejections topics. */
  readonly topics: readonly string[];
}

export interface ResetOptions {
  readonly processor?: string;
  /** Say what would be done, do nothing. */
  readonly dryRun?: boolean;
}

/**
 * `graphfold reset`, like Kafka Streams' application reset tool: makes an application start
 * from scratch. For each processor, in this order:
 * 1. Refuse while its consumer group has members: every instance must be stopped first (a
 *    running one would write on).
 * 2. Delete this instance's stores (`<store.dir>/<processor>`); other instances' must be reset
 *    on each (or their stores are restored from the changelog, which the next step keeps).
 * 3. Delete the group's committed offsets (the group itself), so the inputs are read again from
 *    their start.
 * 4. Delete the diffs (the changelog: all history) and rejections topics. Always with step 3:
 *    inputs read again against a changelog kept would be judged again, and only the txIds the
 *    changelog holds (the applied ones) would be skipped: a no-op transaction could then apply
 *    (reverting a later write), a refused one apply or be rejected twice. A diffs topic another
 *    processor reads is deleted only when that processor is reset too (else the reset is
 *    refused). Inputs are never deleted. `graphfold topology apply` creates the topics again.
 */
export async function resetApplication(topology: Topology, options: ResetOptions = {}): Promise<ProcessorReset[]> {
  const processors = options.processor === undefined ? topology.processors : topology.processors.filter((p) => p.name === options.processor);
  if (processors.length === 0) throw new FatalError(`the topology ${topology.origin} has no processor ${options.processor} (processors: ${topology.processors.map((p) => p.name).join(', ')})`);
  const admin = kafkaClient(topology.kafka, 'reset').admin();
  try {
    await admin.connect().catch((error: unknown) => {
      throw clusterFailure(error, topology.kafka, 'connect');
    });
    // 1.
    const groups = processors.map((p) => groupId(topology, p));
    const described = await admin.describeGroups(groups).catch((error: unknown) => {
      throw clusterFailure(error, topology.kafka, `describe consumer groups ${groups.join(', ')}`);
    });
    const busy = described.groups.filter((g) => g.members.length > 0);
    if (busy.length > 0) {
      throw new FatalError(`consumer group${busy.length === 1 ? '' : 's'} ${busy.map((g) => `${g.groupId} (${g.members.length} member${g.members.length === 1 ? '' : 's'}: ${[...new Set(g.members.map((m) => m.clientHost))].join(', ')})`).join(', ')} ${busy.length === 1 ? 'has' : 'have'} running instances: stop every instance of the application first, then reset`);
    }
    // 4's condition, checked before anything is deleted.
    const resetting = new Set(processors.map((p) => p.name));
    for (const spec of processors) {
      const reader = topology.processors.find((p) => !resetting.has(p.name) && p.inputs.includes(spec.diffs));
      if (reader !== undefined) {
        throw new FatalError(`processor ${spec.name}'s diffs topic ${spec.diffs} is the input of processor ${reader.name}, which this reset would leave reading a deleted topic: reset both (leave out --processor, or reset ${reader.name} too)`);
      }
    }
    const existingTopics = new Set(await admin.listTopics());
    const resets: ProcessorReset[] = [];
    for (const spec of processors) resets.push(await resetProcessor(topology, spec, admin, existingTopics, options));
    return resets;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function resetProcessor(topology: Topology, spec: ProcessorSpec, admin: ReturnType<ReturnType<typeof kafkaClient>['admin']>, existingTopics: ReadonlySet<string>, options: ResetOptions): Promise<ProcessorReset> {
  const group = groupId(topology, spec);
  const dryRun = options.dryRun === true;
  // 2.
  const dir = join(topology.store.dir, spec.name);
  const storeDir = existsSync(dir) ? dir : undefined;
  if (storeDir !== undefined && !dryRun) await rm(storeDir, { recursive: true, force: true });
  // 3.
  const [committed] = await admin.fetchOffsets({ groupId: group, topics: [...spec.inputs] }).catch(() => [undefined]);
  const offsets = committed !== undefined && committed.partitions.some((p) => Number(p.offset) >= 0);
  if (offsets && !dryRun) {
    await admin.deleteGroups([group]).catch((error: unknown) => {
      throw clusterFailure(error, topology.kafka, `delete consumer group ${group}`);
    });
  }
  // 4.
  const topics = [spec.diffs, spec.rejections].filter((t) => existingTopics.has(t));
  if (topics.length > 0 && !dryRun) {
    await admin.deleteTopics({ topics }).catch((error: unknown) => {
      throw clusterFailure(error, topology.kafka, `delete topics ${topics.join(', ')}`);
    });
  }
  return { processor: spec.name, group, storeDir, offsets, topics };
}
