import type { Change, GraphDiff } from '../engine/model';
import type { AvroGraphDiff } from './avro-wire.generated';
import { valueFromAvro, valueToAvro } from './value';

type AvroChange = AvroGraphDiff['changes'][number];

export function diffToAvro(diff: GraphDiff): AvroGraphDiff {
  return {
    graph: diff.graph,
    slice: BigInt(diff.slice),
    txId: diff.txId,
    time: BigInt(diff.time),
    source: { topic: diff.source.topic, partition: diff.source.partition, offset: BigInt(diff.source.offset) },
    changes: diff.changes.map(changeToAvro),
  };
}

export function diffFromAvro(avro: AvroGraphDiff): GraphDiff {
  return {
    graph: avro.graph,
    slice: Number(avro.slice),
    txId: avro.txId,
    time: Number(avro.time),
    source: { topic: avro.source.topic, partition: avro.source.partition, offset: Number(avro.source.offset) },
    changes: avro.changes.map(changeFromAvro),
  };
}

export function changeToAvro(change: Change): AvroChange {
  switch (change.op) {
    case 'Created':
      return { 'graphfold.Created': { uid: change.uid, kind: change.kind, type: change.type, source: change.source ?? null, target: change.target ?? null } };
    case 'Assigned':
      return {
        'graphfold.Assigned': { uid: change.uid, previous: change.previous === undefined ? null : valueToAvro(change.previous), value: valueToAvro(change.value) },
      };
    case 'Terminated':
      return { 'graphfold.Terminated': { uid: change.uid, cascade: change.cascade, kind: change.kind, type: change.type } };
  }
}

export function changeFromAvro(avro: AvroChange): Change {
  if ('graphfold.Created' in avro) {
    const c = avro['graphfold.Created'];
    return c.source !== null && c.target !== null
      ? { op: 'Created', uid: c.uid, kind: c.kind, type: c.type, source: c.source, target: c.target }
      : { op: 'Created', uid: c.uid, kind: c.kind, type: c.type };
  }
  if ('graphfold.Assigned' in avro) {
    const c = avro['graphfold.Assigned'];
    return c.previous === null
      ? { op: 'Assigned', uid: c.uid, value: valueFromAvro(c.value) }
      : { op: 'Assigned', uid: c.uid, previous: valueFromAvro(c.previous), value: valueFromAvro(c.value) };
  }
  const c = avro['graphfold.Terminated'];
  return { op: 'Terminated', uid: c.uid, cascade: c.cascade, kind: c.kind, type: c.type };
}
