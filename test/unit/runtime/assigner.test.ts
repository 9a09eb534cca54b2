import { AssignerProtocol } from 'kafkajs';
import { partitionOf } from '../../../processors/codec/partitioner';
import { assignPartitions, groupMap, readGroupMap, readMemberInfo } from '../../../processors/runtime/assigner';

const metadata = (userData: string): Buffer => AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['in'], userData: Buffer.from(userData) });

describe('the assigner\'s member metadata and group map', () => {
  test('a member sends what it owns, its instance and its query URL; an older member\'s array of owned partitions still reads', () => {
    expect(readMemberInfo(metadata(JSON.stringify({ owned: [2, 0, -1, 'x'], query: 'http://a:7070', instance: 'a:7070' })))).toEqual({ owned: [2, 0], query: 'http://a:7070', instance: 'a:7070' });
    expect(readMemberInfo(metadata('[1,3]'))).toEqual({ owned: [1, 3], query: null, instance: null });
    expect(readMemberInfo(metadata(''))).toEqual({ owned: [], query: null, instance: null });
    expect(readMemberInfo(metadata('not json'))).toEqual({ owned: [], query: null, instance: null });
  });

  test('the map names each partition\'s instance and each instance\'s URL; it travels in the assignment userData', () => {
    const infos = new Map([
      ['m1', { owned: [0, 1], query: 'http://a:7070', instance: 'a:7070' }],
      ['m2', { owned: [], query: null, instance: null }],
    ]);
    const plan = assignPartitions(['m1', 'm2'], 4, new Map([...infos].map(([id, info]) => [id, info.owned])));
    const map = groupMap(plan, infos);
    expect(map).toEqual({ partitions: { 0: 'a:7070', 1: 'a:7070', 2: 'm2', 3: 'm2' }, instances: { 'a:7070': 'http://a:7070', m2: null } });
    const assignment = AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { in: [0, 1] }, userData: Buffer.from(JSON.stringify(map)) });
    expect(readGroupMap(assignment)).toEqual(map);
    expect(readGroupMap(AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { in: [0] }, userData: Buffer.alloc(0) }))).toBeUndefined();
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
