import type { Admin } from 'kafkajs';

/**
 * The changelog position a task commits with its input offsets: the metadata of each offset it
 * commits in a Kafka transaction is the changelog partition's next offset once that transaction
 * is committed (`{"changelog":1234}`). The changelog's end only grows, so a committed position
 * past the changelog's end means the changelog lost history it had (deleted and recreated,
 * truncated), whatever store opens the partition: an empty one would otherwise number the graphs
 * from slice 1 again and apply known txIds twice.
 */
export function changelogMetadata(next: number): string {
  return JSON.stringify({ changelog: next });
}

/** The position `metadata` records; undefined for metadata graphfold did not write (commits before this, other tools'). */
export function changelogPositionOf(metadata: string | null | undefined): number | undefined {
  if (metadata === null || metadata === undefined || !metadata.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(metadata) as { changelog?: unknown };
    return typeof parsed.changelog === 'number' && Number.isSafeInteger(parsed.changelog) && parsed.changelog >= 0 ? parsed.changelog : undefined;
  } catch {
    return undefined;
  }
}

/** The group's committed offsets of one input partition, as `admin.fetchOffsets` returns them. */
export type CommittedOffsets = Awaited<ReturnType<Admin['fetchOffsets']>>;

/** The furthest changelog position the group's commits of input partition `partition` record, if any records one. */
export function committedChangelogPosition(committed: CommittedOffsets, partition: number): number | undefined {
  let furthest: number | undefined;
  for (const { partitions } of committed) {
    const mine = partitions.find((p) => p.partition === partition);
    if (mine === undefined || Number(mine.offset) < 0) continue;
    const position = changelogPositionOf(mine.metadata);
    if (position !== undefined && (furthest === undefined || position > furthest)) furthest = position;
  }
  return furthest;
}
