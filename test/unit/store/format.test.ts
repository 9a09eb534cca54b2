import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GraphDiff } from '../../../processors/engine/model';
import { Writer } from '../../../processors/store/format/binary';
import { bucketKey, checkpointKey, GraphKeys, layoutKey, numberOfRejectionKey, tags } from '../../../processors/store/format/keys';
import * as records from '../../../processors/store/format/records';
import { StoredAtom } from '../../../processors/store/format/records';

/**
 * The store's on-disk format, pinned byte for byte (test/fixtures/store-format/v2.json): a
 * change here changes what stores on disk hold, so it must come with a new layout version (and
 * the rebuild of older stores from their changelogs), never by accident.
 */
const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/store-format/v2.json'), 'utf8')) as Record<string, string>;

const u = (c: string): string => c.repeat(32);
const w = new Writer();
const bytes = (write: (writer: Writer) => void): string => {
  write(w.reset());
  return w.view().toString('hex');
};

const entity = new StoredAtom(u('a'), 'entity', 'Person', 3, undefined, undefined, undefined, undefined, undefined);
const attribute = new StoredAtom(u('b'), 'attribute', 'String', 3, undefined, undefined, undefined, { type: 'String', value: 'Ada' }, 5);
const relation = new StoredAtom(u('c'), 'relation', 'Knows', 4, 9, u('a'), u('d'), undefined, undefined);

const refused: records.StoredRejection = {
  txId: 'tx-8',
  code: 'NOT_FOUND',
  message: 'instruction 1 (Assign): no atom ffff',
  instructionIndex: 1,
  source: { topic: 'instructions', partition: 2, offset: 42 },
  head: 7,
  time: 1_700_000_000_000_001,
};
const { instructionIndex: _, ...refusedWhole } = refused;

const diff: GraphDiff = {
  graph: 'g',
  slice: 7,
  txId: 'tx-7',
  time: 1_700_000_000_000_000,
  source: { topic: 'instructions', partition: 2, offset: 41 },
  changes: [
    { op: 'Created', uid: u('e'), kind: 'relation', type: 'Knows', source: u('a'), target: u('d') },
    { op: 'Created', uid: u('f'), kind: 'attribute', type: 'Int' },
    { op: 'Assigned', uid: u('f'), value: { type: 'Int', value: -5n } },
    { op: 'Assigned', uid: u('b'), previous: { type: 'String', value: 'Ada' }, value: { type: 'String', value: 'Grace' } },
    { op: 'Terminated', uid: u('c'), cascade: false, kind: 'entity', type: 'Person' },
    { op: 'Terminated', uid: u('9'), cascade: true, kind: 'relation', type: 'Knows' },
  ],
};

const encodings: Record<string, () => string> = {
  'key checkpoint': () => checkpointKey.toString('hex'),
  'key layout': () => layoutKey.toString('hex'),
  'key head': () => new GraphKeys('g').head().toString('hex'),
  'key atom': () => new GraphKeys('g').atom(u('a')).toString('hex'),
  'key value': () => new GraphKeys('g').value(u('b'), 5).toString('hex'),
  'key adjacency': () => new GraphKeys('g').adjacency(u('a')).toString('hex'),
  'key type bucket': () => bucketKey(new GraphKeys('g').tagged(tags.type), 2).toString('hex'),
  'key slice bucket': () => bucketKey(new GraphKeys('g').tagged(tags.slice), 2).toString('hex'),
  'key tx': () => new GraphKeys('g').tx('tx-7').toString('hex'),
  'key rejection': () => new GraphKeys('g').rejection(300).toString('hex'),
  'key rejected tx': () => new GraphKeys('g').rejectedTx('tx-8').toString('hex'),
  'atom entity': () => bytes((x) => records.encodeAtom(x, entity)),
  'atom attribute': () => bytes((x) => records.encodeAtom(x, attribute)),
  'atom relation, terminated': () => bytes((x) => records.encodeAtom(x, relation)),
  'adjacency events': () =>
    bytes((x) => {
      records.encodeEdgeAdded(x, 'out', 'Knows', u('c'), u('d'), 4);
      records.encodeEdgeAdded(x, 'in', 'Knows', u('e'), u('d'), 7);
      records.encodeEdgeEnded(x, 'out', u('c'), 9);
    }),
  'values': () =>
    bytes((x) => {
      records.writeValue(x, { type: 'String', value: 'é' });
      records.writeValue(x, { type: 'Int', value: 2n ** 62n });
      records.writeValue(x, { type: 'Float', value: 1.5 });
      records.writeValue(x, { type: 'Bool', value: true });
      records.writeValue(x, { type: 'Bool', value: false });
      records.writeValue(x, { type: 'Time', value: 1_700_000_000_000_000n });
      records.writeValue(x, { type: 'Bytes', value: Uint8Array.from([1, 2, 255]) });
      records.writeValue(x, { type: 'Enum', enum: 'Color', value: 'RED' });
      records.writeValue(x, { type: 'Quantity', unit: 'kg', value: 2.25 });
    }),
  'slice': () => bytes((x) => records.encodeSlice(x, new Writer(), diff)),
  'typed entry': () => bytes((x) => records.encodeTyped(x, 'Person', u('a'), 3)),
  'tx slice': () => bytes((x) => records.encodeTx(x, 7)),
  'tx no-op': () => bytes((x) => records.encodeTx(x, null)),
  'head': () => bytes((x) => records.encodeHead(x, { slice: 300, time: 1_700_000_000_000_000 })),
  'head, no slice': () => bytes((x) => records.encodeHead(x, { slice: 0, time: 0 })),
  'checkpoint': () => bytes((x) => records.encodeCheckpoint(x, { changelog: 1234, inputs: { instructions: 99, other: 0 } })),
  'checkpoint, with rejections': () => bytes((x) => records.encodeCheckpoint(x, { changelog: 1234, inputs: { instructions: 99 }, rejections: 56 })),
  'checkpoint, empty': () => bytes((x) => records.encodeCheckpoint(x, {})),
  'layout': () => bytes((x) => records.encodeLayout(x, { sliceBucket: 16, typeBucket: 64 })),
  'rejection': () => bytes((x) => records.encodeRejection(x, refused)),
  'rejection, whole transaction': () => bytes((x) => records.encodeRejection(x, refusedWhole)),
  'rejection number': () => bytes((x) => records.encodeNumber(x, 300)),
};

describe('store format, version 2', () => {
  test.each(Object.keys(encodings))('%s is encoded as pinned', (name) => {
    expect((encodings[name] as () => string)()).toBe(fixture[name]);
  });

  test('the fixture pins every encoding and nothing else', () => {
    expect(Object.keys(fixture).sort()).toEqual(Object.keys(encodings).sort());
  });

  test('records decode to what was encoded', () => {
    for (const atom of [entity, attribute, relation]) {
      records.encodeAtom(w.reset(), atom);
      expect(records.decodeAtom(atom.uid, Buffer.from(w.view()))).toEqual(atom);
    }
    const out: GraphDiff[] = [];
    records.decodeSlices('g', Buffer.from(fixture['slice'] as string, 'hex'), 1, 10, out);
    expect(out).toEqual([diff]);
    expect(records.decodeCheckpoint(Buffer.from(fixture['checkpoint'] as string, 'hex'))).toEqual({ changelog: 1234, inputs: { instructions: 99, other: 0 } });
    expect(records.decodeCheckpoint(Buffer.from(fixture['checkpoint, with rejections'] as string, 'hex'))).toEqual({ changelog: 1234, inputs: { instructions: 99 }, rejections: 56 });
    expect(records.decodeCheckpoint(Buffer.from(fixture['checkpoint, empty'] as string, 'hex'))).toEqual({ inputs: {} });
    expect(records.decodeHead(Buffer.from(fixture['head'] as string, 'hex'))).toEqual({ slice: 300, time: 1_700_000_000_000_000 });
    expect(records.decodeRejection(Buffer.from(fixture['rejection'] as string, 'hex'))).toEqual(refused);
    expect(records.decodeRejection(Buffer.from(fixture['rejection, whole transaction'] as string, 'hex'))).toEqual(refusedWhole);
    expect(numberOfRejectionKey(Buffer.from(fixture['key rejection'] as string, 'hex'))).toBe(300);
    expect(records.decodeLayout(Buffer.from(fixture['layout'] as string, 'hex'))).toEqual({ version: 2, layout: { sliceBucket: 16, typeBucket: 64 } });
    expect(records.decodeLayout(Buffer.from([1, 64, 16, 64]))).toEqual({ version: 1 });
  });

  test('an adjacency log decodes to both directions with lifetimes, by type then uid; appends in any cut give the same log', () => {
    const events = Buffer.from(fixture['adjacency events'] as string, 'hex');
    expect(records.decodeAdjacency(events)).toEqual({
      out: [{ uid: u('c'), type: 'Knows', other: u('d'), created: 4, terminated: 9 }],
      in: [{ uid: u('e'), type: 'Knows', other: u('d'), created: 7 }],
    });
    expect(records.liveEdges(records.decodeAdjacency(events), 'out')).toEqual([]);
    expect(records.liveEdges(records.decodeAdjacency(events), 'in')).toEqual([{ uid: u('e'), type: 'Knows', other: u('d') }]);
  });
});
