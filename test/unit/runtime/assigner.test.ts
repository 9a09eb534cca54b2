import { AssignerProtocol } from 'kafkajs';
import { partitionOf } from '../../../processors/codec/partitioner';
import { assignPartitions, assignStandbys, groupMap, readGroupMap, readMemberInfo } from '../../../processors/runtime/assigner';

const metadata = (userData: string): Buffer => AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['in'], userData: Buffer.from(userData) });

describe('the assigner\'s member metadata and group map', () => {
  test('a member sends what it owns, its instance and its query URL; an older member\'s array of owned partitions still reads', () => {
    expect(readMemberInfo(metadata(JSON.stringify({ owned: [2, 0, -1, 'x'], query: 'http://a:7070', instance: 'a:7070' })))).toEqual({ owned: [2, 0], query: 'http://a:7070', instance: 'a:7070', positions: {} });
    expect(readMemberInfo(metadata(JSON.stringify({ owned: [1], query: null, instance: 'b', positions: { 1: 40, 3: 12, x: 5, 4: -1, 5: 1.5 } })))).toEqual({ owned: [1], query: null, instance: 'b', positions: { 1: 40, 3: 12 } });
    expect(readMemberInfo(metadata('[1,3]'))).toEqual({ owned: [1, 3], query: null, instance: null, positions: {} });
    expect(readMemberInfo(metadata(''))).toEqual({ owned: [], query: null, instance: null, positions: {} });
    expect(readMemberInfo(metadata('not json'))).toEqual({ owned: [], query: null, instance: null, positions: {} });
  });

  test('the map names each partition\'s instance and each instance\'s URL; it travels in the assignment userData', () => {
    const infos = new Map([
      ['m1', { owned: [0, 1], query: 'http://a:7070', instance: 'a:7070', positions: {} }],
      ['m2', { owned: [], query: null, instance: null, positions: {} }],
    ]);
    const plan = assignPartitions(['m1', 'm2'], 4, new Map([...infos].map(([id, info]) => [id, info.owned])));
    const map = groupMap(plan, infos);
    expect(map).toEqual({ partitions: { 0: 'a:7070', 1: 'a:7070', 2: 'm2', 3: 'm2' }, instances: { 'a:7070': 'http://a:7070', m2: null }, standbys: {} });
    const assignment = AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { in: [0, 1] }, userData: Buffer.from(JSON.stringify(map)) });
    expect(readGroupMap(assignment)).toEqual(map);
    expect(readGroupMap(AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { in: [0] }, userData: Buffer.alloc(0) }))).toBeUndefined();
    // A map from an older leader has no standbys.
    const older = { partitions: map.partitions, instances: map.instances };
    expect(readGroupMap(AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { in: [0] }, userData: Buffer.from(JSON.stringify(older)) }))).toEqual({ ...older, standbys: {} });
  });

  test('a partition whose owner left goes to the member whose store of it is most caught up (a standby), within balance', () => {
    // m1 owned 0 and 1, m3 owned 2 and 3 and left; m2 keeps standbys of 2 (far along) and 3 (behind m1's).
    const positions = new Map<string, Record<string, number>>([
      ['m1', { 3: 900 }],
      ['m2', { 2: 1_000, 3: 10 }],
    ]);
    const plan = assignPartitions(['m1', 'm2'], 4, new Map([['m1', [0, 1]], ['m2', []]]), positions);
    expect(plan).toEqual(new Map([['m1', [0, 1]], ['m2', [2, 3]]]));
    // With room for either, each partition goes to its most caught-up member.
    const open = assignPartitions(['m1', 'm2'], 2, new Map(), new Map<string, Record<string, number>>([['m1', { 1: 5 }], ['m2', { 0: 7 }]]));
    expect(open).toEqual(new Map([['m1', [1]], ['m2', [0]]]));
    // Without positions, as before: in turn.
    expect(assignPartitions(['m1', 'm2'], 2, new Map())).toEqual(new Map([['m1', [0]], ['m2', [1]]]));
  });

  test('standbys go to other members than the owner, the most caught up first, then the least loaded; at most the other members', () => {
    const plan = new Map([['a', [0, 1]], ['b', [2]], ['c', [3]]]);
    const standbys = assignStandbys(plan, 4, 1);
    for (const [p, members] of standbys) {
      expect(members).toHaveLength(1);
      expect(plan.get(members[0] as string)).not.toContain(p);
    }
    expect(standbys).toEqual(new Map([[0, ['b']], [1, ['c']], [2, ['a']], [3, ['a']]]));
    const load = new Map<string, number>();
    for (const m of [...standbys.values()].flat()) load.set(m, (load.get(m) ?? 0) + 1);
    expect(Math.max(...load.values()) - Math.min(...load.values())).toBeLessThanOrEqual(1);
    expect(assignStandbys(plan, 4, 1, new Map<string, Record<string, number>>([['c', { 0: 50 }], ['b', { 0: 10 }]])).get(0)).toEqual(['c']);
    expect(assignStandbys(plan, 4, 5).get(0)).toEqual(['b', 'c']);
    expect(assignStandbys(new Map([['a', [0, 1]]]), 2, 1)).toEqual(new Map());
    expect(assignStandbys(plan, 4, 0)).toEqual(new Map());
    const infos = new Map([['a', { owned: [], query: null, instance: 'A', positions: {} }]]);
    expect(groupMap(plan, infos, new Map([[2, ['a', 'c']]])).standbys).toEqual({ 2: ['A', 'c'] });
  });

  test('a graph\'s partition (the default partitioner) is murmur2 of its id, as the Java client computes it', () => {
    // Values from Kafka's own Utils.murmur2 (toPositive(murmur2(bytes)) % n), as its tests list them.
    expect(partitionOf('21', 997)).toBe(positive(-973932308) % 997);
    expect(partitionOf('foobar', 997)).toBe(positive(-790332482) % 997);
    expect(partitionOf('a-little-bit-long-string', 997)).toBe(positive(-985981536) % 997);
    expect(partitionOf('abc', 7)).toBe(partitionOf('abc', 7));
  });
});

function positive(x: number): number {
  return x & 0x7fffffff;
}
