import { changelogMetadata, changelogPositionOf, committedChangelogPosition } from '../../../processors/runtime/changelog-position';

describe('the changelog position in committed offsets', () => {
  test('what changelogMetadata writes reads back as its position', () => {
    expect(changelogPositionOf(changelogMetadata(0))).toBe(0);
    expect(changelogPositionOf(changelogMetadata(123_456))).toBe(123_456);
  });

  test('metadata graphfold did not write records no position (commits before it, other tools)', () => {
    for (const metadata of [null, undefined, '', 'x', '{', '{"changelog":"12"}', '{"changelog":-1}', '{"changelog":1.5}', '[1]']) expect(changelogPositionOf(metadata)).toBeUndefined();
  });

  test("the furthest position of the partition's commits counts; other partitions' and unset offsets do not", () => {
    const committed = [
      { topic: 'a', partitions: [{ partition: 0, offset: '10', metadata: changelogMetadata(40) }, { partition: 1, offset: '3', metadata: changelogMetadata(900) }] },
      { topic: 'b', partitions: [{ partition: 0, offset: '7', metadata: changelogMetadata(52) }] },
      { topic: 'c', partitions: [{ partition: 0, offset: '-1', metadata: changelogMetadata(1_000) }] },
      { topic: 'd', partitions: [{ partition: 0, offset: '5', metadata: null }] },
    ];
    expect(committedChangelogPosition(committed, 0)).toBe(52);
    expect(committedChangelogPosition(committed, 1)).toBe(900);
    expect(committedChangelogPosition(committed, 2)).toBeUndefined();
  });
});
