import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { AssignerProtocol, type Admin } from 'kafkajs';
import type { Instrumentation } from '../instrumentation/events';
import { groupMap, readGroupMap, readMemberInfo, type GroupMap } from './assigner';

/** How this instance names itself to its group, and where its query API is reached. */
export interface MemberIdentity {
  readonly instance: string;
  /** The advertised query URL; null when the instance serves no queries. */
  readonly query: string | null;
}

/** An identity for an instance that was given none: host, process and a random suffix. */
export function anonymousIdentity(): MemberIdentity {
  return { instance: `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`, query: null };
}

/** How far a partition's restore has come. */
export interface RestoreProgress {
  readonly records: number;
  readonly position: number;
  readonly to: number;
  readonly etaSeconds: number | null;
}

/**
 * What one processor knows of who owns which partition: the group map the leader handed out at
 * the last rebalance (read back with DescribeGroups, since kafkajs drops an assignment's userData
 * on the way to `GROUP_JOIN`), and the progress of this instance's restores, from their events.
 */
export class Ownership {
  private current: GroupMap | undefined;
  private readonly restores = new Map<number, RestoreProgress>();
  private generation = 0;
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    processor: string,
    instrumentation: Instrumentation,
  ) {
    this.unsubscribe = [
      instrumentation.on('restore.started', (p) => {
        if (p.processor === processor) this.restores.set(p.partition, { records: 0, position: p.from, to: p.to, etaSeconds: null });
      }),
      instrumentation.on('restore.progress', (p) => {
        if (p.processor === processor) this.restores.set(p.partition, { records: p.records, position: p.position, to: p.to, etaSeconds: p.etaSeconds });
      }),
      instrumentation.on('task.ready', (p) => {
        if (p.processor === processor) this.restores.delete(p.partition);
      }),
    ];
  }

  /** The group map of the last rebalance; undefined until it is known. */
  get map(): GroupMap | undefined {
    return this.current;
  }

  /** The progress of a partition's restore on this instance, if one runs. */
  restore(partition: number): RestoreProgress | undefined {
    return this.restores.get(partition);
  }

  /**
   * Reads the group's assignment after a rebalance: this member's assignment userData, or (from
   * a leader of an older graphfold) a map made of every member's metadata and assignment. The
   * group may not show the new generation at once: until the map gives this instance exactly the
   * partitions it was assigned (`mine`), it reads again, a little later each time. A failure
   * leaves the previous map, and the next rebalance tries again.
   */
  async refresh(memberId: string, instance: string, mine: readonly number[]): Promise<void> {
    const generation = ++this.generation;
    const expected = [...mine].sort((a, b) => a - b).join(',');
    for (let attempt = 1; attempt <= 20 && generation === this.generation; attempt += 1) {
      try {
        const { groups } = await this.admin.describeGroups([this.groupId]);
        const members = groups[0]?.members ?? [];
        const own = members.find((m) => m.memberId === memberId);
        let map = own === undefined ? undefined : readGroupMap(own.memberAssignment);
        if (map === undefined && members.length > 0) {
          const plan = new Map(members.map((m) => [m.memberId, assignedPartitions(m.memberAssignment)]));
          map = groupMap(plan, new Map(members.map((m) => [m.memberId, readMemberInfo(m.memberMetadata)])));
        }
        const owned = Object.entries(map?.partitions ?? {}).flatMap(([p, owner]) => (owner === instance || owner === memberId ? [Number(p)] : []));
        if (map !== undefined && generation === this.generation && owned.sort((a, b) => a - b).join(',') === expected) {
          this.current = map;
          return;
        }
      } catch {
        // Read again below; routing keeps the previous map meanwhile.
      }
      await sleep(Math.min(2_000, 100 * attempt));
    }
  }

  close(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }
}

function assignedPartitions(assignment: Buffer): number[] {
  try {
    const decoded = AssignerProtocol.MemberAssignment.decode(assignment)?.assignment ?? {};
    return [...new Set(Object.values(decoded).flat())];
  } catch {
    return [];
  }
}
