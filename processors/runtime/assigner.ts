import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';

/** What a member tells the group leader about itself (its member metadata's userData, as JSON). */
export interface MemberInfo {
  /** The partition numbers it holds now. */
  readonly owned: readonly number[];
  /** The base URL of its query API, as others reach it; null when it serves none. */
  readonly query: string | null;
  /** Its instance id (null from a member of an older graphfold, which sent only `owned`). */
  readonly instance: string | null;
  /**
   * Partition number -> the changelog offset its store on this member reflects (an owned
   * partition's, a standby's): how caught up it is, for the leader to give a partition whose
   * owner left to the member that has to restore least. Empty from an older graphfold.
   */
  readonly positions: Readonly<Record<string, number>>;
}

/**
 * Who holds what, as the leader assigned it: handed to every member in its assignment's userData
 * (JSON), so any instance can route a graph's request to the owner of its partition.
 */
export interface GroupMap {
  /** Partition number -> the instance that owns it. */
  readonly partitions: Readonly<Record<string, string>>;
  /** Instance -> its query URL, or null. */
  readonly instances: Readonly<Record<string, string | null>>;
  /** Partition number -> the instances that keep a standby replica of it (none from an older graphfold). */
  readonly standbys: Readonly<Record<string, readonly string[]>>;
}

/** How the leader places partitions: `standbys` replicas of each on members other than its owner. */
export interface AssignerOptions {
  readonly standbys: number;
}

/**
 * Co-partitioned, sticky, high-availability assignment: partition number p of every subscribed
 * topic goes to the same member, since one store holds partition p of all of a processor's input
 * topics. Members keep the partitions they own while the load stays balanced, so a member leaving
 * moves only its own partitions; each of those goes to the member whose store of it is most
 * caught up (a standby's, as Kafka Streams' HighAvailabilityTaskAssignor does), so it restores
 * only the changelog's tail. With `standbys`, each partition also gets that many standby replicas
 * on other members (the most caught-up first, then the least loaded).
 *
 * `member` reports what this member is and holds now; it travels to the group leader in the
 * member metadata ({@link MemberInfo}), and the leader hands every member the {@link GroupMap}.
 */
export function coPartitionedAssigner(member: () => MemberInfo, options: AssignerOptions = { standbys: 0 }): PartitionAssigner {
  return ({ cluster }): Assigner => ({
    name: 'GraphfoldCoPartitioned',
    version: 1,
    async assign({ members, topics }) {
      await cluster.refreshMetadata();
      const counts = topics.map((topic) => cluster.findTopicPartitionMetadata(topic).length);
      const partitions = Math.max(0, ...counts);
      const infos = new Map(members.map((m) => [m.memberId, readMemberInfo(m.memberMetadata)]));
      const positions = new Map([...infos].map(([id, info]) => [id, info.positions]));
      const plan = assignPartitions(
        members.map((m) => m.memberId),
        partitions,
        new Map([...infos].map(([id, info]) => [id, info.owned])),
        positions,
      );
      const standbys = assignStandbys(plan, partitions, options.standbys, positions);
      const userData = Buffer.from(JSON.stringify(groupMap(plan, infos, standbys)));
      return members.map(({ memberId }) => {
        const mine = plan.get(memberId) ?? [];
        const assignment: Record<string, number[]> = {};
        topics.forEach((topic, i) => {
          assignment[topic] = mine.filter((p) => p < (counts[i] as number));
        });
        return { memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData }) };
      });
    },
    protocol({ topics }) {
      return {
        name: 'GraphfoldCoPartitioned',
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify(member())) }),
      };
    },
  });
}

/** The map of a plan: each partition's instance (a member of an older graphfold is named by its member id), each instance's URL, each partition's standbys. */
export function groupMap(plan: ReadonlyMap<string, readonly number[]>, infos: ReadonlyMap<string, MemberInfo>, standbys: ReadonlyMap<number, readonly string[]> = new Map()): GroupMap {
  const map = { partitions: {} as Record<string, string>, instances: {} as Record<string, string | null>, standbys: {} as Record<string, string[]> };
  const instanceOf = (memberId: string): string => infos.get(memberId)?.instance ?? memberId;
  for (const [memberId, mine] of plan) {
    const instance = instanceOf(memberId);
    map.instances[instance] = infos.get(memberId)?.query ?? null;
    for (const p of mine) map.partitions[String(p)] = instance;
  }
  for (const [p, members] of standbys) if (members.length > 0) map.standbys[String(p)] = members.map(instanceOf);
  return map;
}

/** A member's metadata: the object form, or the array of owned partitions an older graphfold sends. */
export function readMemberInfo(metadata: Buffer): MemberInfo {
  const none: MemberInfo = { owned: [], query: null, instance: null, positions: {} };
  try {
    const decoded = AssignerProtocol.MemberMetadata.decode(metadata);
    const data: unknown = JSON.parse(decoded?.userData.toString() || '[]');
    const partitions = (list: unknown): number[] => (Array.isArray(list) ? list.filter((p): p is number => Number.isInteger(p) && p >= 0) : []);
    if (Array.isArray(data)) return { ...none, owned: partitions(data) };
    if (data === null || typeof data !== 'object') return none;
    const { owned, query, instance, positions } = data as Record<string, unknown>;
    const offsets: Record<string, number> = {};
    if (positions !== null && typeof positions === 'object') {
      for (const [p, offset] of Object.entries(positions)) if (/^[0-9]+$/.test(p) && Number.isSafeInteger(offset) && (offset as number) >= 0) offsets[p] = offset as number;
    }
    return { owned: partitions(owned), query: typeof query === 'string' ? query : null, instance: typeof instance === 'string' && instance !== '' ? instance : null, positions: offsets };
  } catch {
    return none;
  }
}

/** The group map in a member's assignment, or undefined when the leader sent none (an older graphfold). */
export function readGroupMap(assignment: Buffer): GroupMap | undefined {
  try {
    const decoded = AssignerProtocol.MemberAssignment.decode(assignment);
    const data: unknown = JSON.parse(decoded?.userData.toString() || 'null');
    if (data === null || typeof data !== 'object') return undefined;
    const { partitions, instances, standbys } = data as Record<string, unknown>;
    if (partitions === null || typeof partitions !== 'object' || instances === null || typeof instances !== 'object') return undefined;
    const map = { partitions: {} as Record<string, string>, instances: {} as Record<string, string | null>, standbys: {} as Record<string, string[]> };
    for (const [p, instance] of Object.entries(partitions)) if (typeof instance === 'string') map.partitions[p] = instance;
    for (const [instance, url] of Object.entries(instances)) map.instances[instance] = typeof url === 'string' ? url : null;
    if (standbys !== null && typeof standbys === 'object') {
      for (const [p, list] of Object.entries(standbys)) if (Array.isArray(list)) map.standbys[p] = list.filter((i): i is string => typeof i === 'string');
    }
    return map;
  } catch {
    return undefined;
  }
}

/**
 * Partitions `0 .. count - 1` over members, balanced (sizes differ by at most one), keeping each
 * member's previous partitions where balance allows; a partition left over goes to the member
 * with room whose store of it is furthest along the changelog (`positions`), else in turn.
 * Deterministic for the same input.
 */
export function assignPartitions(memberIds: readonly string[], count: number, previous: ReadonlyMap<string, readonly number[]>, positions: ReadonlyMap<string, Readonly<Record<string, number>>> = new Map()): Map<string, number[]> {
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
  const room = (m: string): boolean => (plan.get(m) as number[]).length < (quota.get(m) as number);
  for (let p = 0; p < count; p += 1) {
    if (taken.has(p)) continue;
    const caughtUp = members.filter(room).reduce<{ member?: string; offset: number }>((best, m) => {
      const offset = positions.get(m)?.[String(p)] ?? -1;
      return offset > best.offset ? { member: m, offset } : best;
    }, { offset: -1 });
    if (caughtUp.member !== undefined) {
      (plan.get(caughtUp.member) as number[]).push(p);
      taken.add(p);
      continue;
    }
    while ((plan.get(members[next % members.length] as string) as number[]).length >= (quota.get(members[next % members.length] as string) as number)) next += 1;
    (plan.get(members[next % members.length] as string) as number[]).push(p);
    taken.add(p);
  }
  for (const list of plan.values()) list.sort((a, b) => a - b);
  return plan;
}

/**
 * Standby replicas: for each partition, `n` members other than its owner (at most all of them),
 * those whose store of it is furthest along first (they have least to catch up), then those with
 * the fewest standbys so far. Deterministic for the same input.
 */
export function assignStandbys(plan: ReadonlyMap<string, readonly number[]>, count: number, n: number, positions: ReadonlyMap<string, Readonly<Record<string, number>>> = new Map()): Map<number, string[]> {
  const standbys = new Map<number, string[]>();
  if (n <= 0) return standbys;
  const members = [...plan.keys()].sort();
  const owner = new Map<number, string>();
  for (const [member, mine] of plan) for (const p of mine) owner.set(p, member);
  const load = new Map(members.map((m) => [m, 0]));
  for (let p = 0; p < count; p += 1) {
    const offset = (m: string): number => positions.get(m)?.[String(p)] ?? -1;
    const chosen = members
      .filter((m) => m !== owner.get(p))
      .sort((a, b) => offset(b) - offset(a) || (load.get(a) as number) - (load.get(b) as number) || (a < b ? -1 : 1))
      .slice(0, n);
    for (const m of chosen) load.set(m, (load.get(m) as number) + 1);
    if (chosen.length > 0) standbys.set(p, chosen);
  }
  return standbys;
}
