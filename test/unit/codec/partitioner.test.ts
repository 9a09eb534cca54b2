import { crc32, misplaced, murmur2, partitionOf } from '../../../processors/codec/partitioner';

/**
 * Expected values computed by Kafka's own client, kafka-clients 4.4.0:
 * `Utils.murmur2(key.getBytes(UTF_8))` and `Utils.toPositive(h) % n` (the first three are also the
 * cases of Kafka's UtilsTest). CRC-32 values are Python's `zlib.crc32`, which is what librdkafka's
 * consistent partitioner computes.
 */
const java: readonly (readonly [key: string, murmur2: number, mod6: number, mod4: number, mod3: number])[] = [
  ['21', -973932308, 0, 0, 0],
  ['foobar', -790332482, 0, 2, 0],
  ['a-little-bit-long-string', -985981536, 2, 0, 2],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 5, 1, 2],
  ['', 275646681, 3, 1, 0],
  ['a', -1563381124, 4, 0, 1],
  ['acme', -1281648380, 0, 0, 0],
  ['graph-0', -17786059, 1, 1, 1],
  ['graph-31', -1355502267, 5, 1, 2],
  ['Ünïcødé 图', -1415866837, 1, 3, 1],
];

const zlib: readonly (readonly [key: string, crc: number, mod6: number, mod4: number, mod3: number])[] = [
  ['', 0, 0, 0, 0],
  ['a', 3904355907, 3, 3, 0],
  ['21', 4252452532, 4, 0, 1],
  ['foobar', 2666930069, 5, 1, 2],
  ['acme', 96778814, 2, 2, 2],
  ['graph-0', 449646437, 5, 1, 2],
  ['Ünïcødé 图', 2785081011, 3, 3, 0],
];

describe('partitioner', () => {
  test.each(java)('murmur2 of %j is what Kafka computes, and so are its partitions', (key, hash, mod6, mod4, mod3) => {
    expect(murmur2(Buffer.from(key, 'utf8'))).toBe(hash);
    expect([6, 4, 3].map((n) => partitionOf(key, n))).toEqual([mod6, mod4, mod3]);
    expect(partitionOf(Buffer.from(key, 'utf8'), 6, 'murmur2')).toBe(mod6);
  });

  test.each(zlib)('crc32 of %j is what zlib and librdkafka compute, and so are its partitions', (key, crc, mod6, mod4, mod3) => {
    expect(crc32(Buffer.from(key, 'utf8'))).toBe(crc);
    expect([6, 4, 3].map((n) => partitionOf(key, n, 'crc32'))).toEqual([mod6, mod4, mod3]);
  });

  test('a record on its key\'s partition passes; on another it is WRONG_PARTITION, naming the setting to use', () => {
    const placement = { partitioner: 'murmur2', partitions: 6 } as const;
    expect(misplaced(Buffer.from('acme'), { topic: 'crm-instructions', partition: 0 }, placement)).toBeUndefined();
    expect(misplaced(null, { partition: 5 }, placement)).toBeUndefined();
    const error = misplaced(Buffer.from('acme'), { topic: 'crm-instructions', partition: 2 }, placement, { graph: 'acme', txId: 't1' });
    expect(error?.code).toBe('WRONG_PARTITION');
    expect(error?.message).toMatch(/^record key 'acme' belongs on partition 0 of crm-instructions \(murmur2 over 6 partitions\) but arrived on partition 2/);
    expect(error?.message).toContain('partitioner=murmur2_random');
    expect(error?.context).toEqual({ graph: 'acme', txId: 't1', topic: 'crm-instructions', partition: 2 });
    // kcat's default (CRC32) puts acme on partition 2 of 6: right under a crc32 topology, wrong under murmur2.
    expect(misplaced(Buffer.from('acme'), { partition: 2 }, { partitioner: 'crc32', partitions: 6 })).toBeUndefined();
    expect(misplaced(Buffer.from('acme'), { partition: 0 }, { partitioner: 'crc32', partitions: 6 })?.message).toContain('partitioner=consistent_random');
  });
});
