import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Instrumentation } from '../instrumentation/events';
import type { SnapshotWriter } from '../snapshots/manifest';
import { DirectorySnapshotStore } from '../snapshots/snapshot-store';
import { Snapshots } from '../snapshots/snapshots';
import { GraphStore, type GraphStoreOptions } from '../store/graph-store';
import { snapshotStagingDirectory, type Topology } from './topology';

/** The snapshots of a changelog in the topology's snapshot store, written as `writer`; undefined when the topology has none. */
export function snapshotsOf(topology: Topology, topic: string, writer: SnapshotWriter, instrumentation: Instrumentation): Snapshots | undefined {
  const spec = topology.snapshots;
  if (spec === undefined) return undefined;
  return new Snapshots(topic, {
    store: new DirectorySnapshotStore(spec.dir),
    retain: spec.retain,
    staging: snapshotStagingDirectory(topology),
    rocks: { cacheBytes: 8 << 20, writeBufferBytes: topology.store.writeBufferBytes },
    writer,
    instrumentation,
  });
}

/**
 * Opens a partition's store for a restore, from a snapshot when one spares enough of the replay:
 * a store that is empty (new, lost, discarded) or further behind the newest valid snapshot than
 * `minSavedRecords` changelog records is replaced by it, and the caller replays the changelog
 * from the snapshot's offset. Leftovers of a fetch a crash interrupted are deleted first. A snapshot store that fails is logged (`snapshot.failed`) and the local store
 * is used as it is: the changelog restores the rest.
 */
export async function openFromSnapshot(
  store: GraphStore,
  snapshots: Snapshots | undefined,
  partition: number,
  options: GraphStoreOptions,
  context: { readonly changelogEnd: number; readonly minSavedRecords: number; readonly roles: readonly SnapshotWriter['role'][]; readonly name: string; readonly instrumentation: Instrumentation },
): Promise<GraphStore> {
  if (snapshots === undefined) return store;
  const local = store.checkpoint().changelog ?? 0;
  if (context.changelogEnd - local < context.minSavedRecords) return store;
  await removeFetchLeftovers(store.location);
  try {
    const newest = await snapshots.newestOffset(partition);
    if (newest === undefined || newest < local + context.minSavedRecords) return store;
  } catch (error) {
    context.instrumentation.emit('snapshot.failed', { name: context.name, topic: snapshots.topic, partition, doing: 'restore', error: error as Error });
    return store;
  }
  const dir = store.location;
  await store.close();
  try {
    await snapshots.restore(partition, dir, { changelogEnd: context.changelogEnd, above: local + context.minSavedRecords - 1, roles: context.roles });
  } catch (error) {
    context.instrumentation.emit('snapshot.failed', { name: context.name, topic: snapshots.topic, partition, doing: 'restore', error: error as Error });
  }
  return GraphStore.open(dir, options);
}

/** Deletes what fetching a snapshot into `dir` left behind when a crash cut it short (`<dir>.snapshot-<random>`). */
async function removeFetchLeftovers(dir: string): Promise<void> {
  const prefix = `${basename(dir)}.snapshot-`;
  const names = await readdir(dirname(dir)).catch(() => [] as string[]);
  for (const name of names) if (name.startsWith(prefix)) await rm(join(dirname(dir), name), { recursive: true, force: true });
}

/** A partition's store that the schedule may snapshot now. */
export interface SnapshotSubject {
  readonly partition: number;
  readonly store: GraphStore;
}

/**
 * When an owner (or a follower) snapshots its stores: every `everyMs`, each store whose changelog
 * offset moved past its newest snapshot's; and once more on a clean stop (`final`). One snapshot
 * at a time per schedule: a copy costs CPU and disk, and the machine's cores fold. Failures are
 * logged (`snapshot.failed`) and tried again at the next turn; a store that closed under its
 * snapshot (its partition was revoked) is not a failure.
 */
export class SnapshotSchedule {
  private readonly taken = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly snapshots: Snapshots,
    private readonly everyMs: number,
    private readonly subjects: () => readonly SnapshotSubject[],
    private readonly name: string,
    private readonly instrumentation: Instrumentation,
  ) {}

  /** Starts the schedule. */
  start(): void {
    this.timer = setInterval(() => void this.turn(), this.everyMs);
    this.timer.unref();
  }

  /** Snapshots every store that changed since its last snapshot, one after the other; resolves when done (or when the schedule stops). */
  turn(): Promise<void> {
    this.running = this.running.then(async () => {
      for (const subject of this.subjects()) {
        if (this.stopped) return;
        await this.snapshot(subject);
      }
    });
    return this.running;
  }

  /** Stops the schedule after the snapshot in flight; then snapshots `subjects` once more (a clean stop). Idempotent. */
  async final(subjects: readonly SnapshotSubject[]): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    for (const subject of subjects) await this.snapshot(subject);
  }

  /** Stops the schedule without a last snapshot (after the one in flight). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async snapshot({ partition, store }: SnapshotSubject): Promise<void> {
    try {
      const at = store.checkpoint().changelog;
      if (at === undefined || at === 0) return;
      let last = this.taken.get(partition);
      if (last === undefined) {
        last = (await this.snapshots.newestOffset(partition)) ?? -1;
        this.taken.set(partition, last);
      }
      if (at <= last) return;
      const manifest = await this.snapshots.take(partition, store);
      this.taken.set(partition, manifest.changelogOffset);
    } catch (error) {
      if (store.isClosed) return;
      this.instrumentation.emit('snapshot.failed', { name: this.name, topic: this.snapshots.topic, partition, doing: 'take', error: error as Error });
    }
  }
}
