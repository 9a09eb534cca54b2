import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';

/**
 * Co-partitioned, sticky assignment: partition number p of every subscribed topic goes to the
 * same member, since one store holds partition p of all of a processor's input topics. Members
 * keep the partitions they own while the load stays balanced, so a member leaving moves only its
 * own partitions (and only those are restored elsewhere).
 *
 * `owned` reports the partition numbers this member holds now; it travels to the group leader in
 * the member metadata.
 */
export function coPartitionedAssigner(owned: () => readonly number[]): PartitionAssigner {
  return ({ cluster }): Assigner => ({
    name: 'GraphfoldCoPartitioned',
    version: 1,
    async assign({ members, topics }) {
      await cluster.refreshMetadata();
      const counts = topics.map((topic) => cluster.findTopicPartitionMetadata(topic).length);
      const partitions = Math.max(0, ...counts);
      const previous = new Map(members.map((m) => [m.memberId, ownedPartitions(m.memberMetadata)]));
      const plan = assignPartitions(
        members.map((m) => m.memberId),
        partitions,
        previous,
      );
      return members.map(({ memberId }) => {
        const mine = plan.get(memberId) ?? [];
        const assignment: Record<string, number[]> = {};
        topics.forEach((topic, i) => {
          assignment[topic] = mine.filter((p) => p < (counts[i] as number));
        });
        return { memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }) };
      });
    },
    protocol({ topics }) {
      return {
        name: 'GraphfoldCoPartitioned',
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify(owned())) }),
      };
    },
  });
}

function ownedPartitions(metadata: Buffer): number[] {
  try {
    const decoded = AssignerProtocol.MemberMetadata.decode(metadata);
    const owned: unknown = JSON.parse(decoded?.userData.toString() || '[]');
    return Array.isArray(owned) ? owned.filter((p): p is number => Number.isInteger(p) && p >= 0) : [];
  } catch {
    return [];
  }
}

/**
 * Partitions `0 .. count - 1` over members, balanced (sizes differ by at most one), keeping each
 * member's previous partitions where balance allows. Deterministic for the same input.
 */
export function assignPartitions(memberIds: readonly string[], count: number, previous: ReadonlyMap<string, readonly number[]>): Map<string, number[]> {
  const members = [...memberIds].sort();
  const plan = new Map<string, number[]>(members.map((m) => [m, []]));
  if (members.length === 0) return plan;
  const base = Math.floor(count / members.length);
  const extra = count % members.length;
  const byOwned = [...members].sort((a, b) => (previous.get(b)?.length ?? 0) - (previous.get(a)?.length ?? 0) || (a < b ? -1 : 1));
  const quota = new Map(byOwned.map((m, i) => [m, base + (i < extra ? 1 : 0)]));
  const taken = new Set<number>();
  for (const member of members) {
    const mine = plan.get(member) as number[];
    for (const p of [...(previous.get(member) ?? [])].sort((a, b) => a - b)) {
      if (p < count && !taken.has(p) && mine.length < (quota.get(member) as number)) {
        mine.push(p);
        taken.add(p);
      }
    }
  }
  let next = 0;
  for (let p = 0; p < count; p += 1) {
    if (taken.has(p)) continue;
    while ((plan.get(members[next % members.length] as string) as number[]).length >= (quota.get(members[next % members.length] as string) as number)) next += 1;
    (plan.get(members[next % members.length] as string) as number[]).push(p);
    taken.add(p);
  }
  for (const list of plan.values()) list.sort((a, b) => a - b);
  return plan;
}
