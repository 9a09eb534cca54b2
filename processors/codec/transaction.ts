import { TerminalError } from '../errors';
import type { GraphTransaction, Instruction, Ref } from '../engine/model';
import type { AvroGraphTransaction, AvroRef } from './avro-wire.generated';
import { valueFromAvro, valueToAvro } from './value';

type AvroInstruction = AvroGraphTransaction['instructions'][number];

/**
 * The domain transaction of an Avro record. A Ref with both or neither of uid and ref is refused
 * here (INVALID_INSTRUCTION), since Avro cannot say "exactly one".
 */
export function transactionFromAvro(avro: AvroGraphTransaction): GraphTransaction {
  const instructions = avro.instructions.map((instruction, index) => instructionFromAvro(instruction, index, avro));
  return {
    graph: avro.graph,
    txId: avro.txId,
    ...(avro.time === null ? {} : { time: safeNumber(avro.time, 'time', avro) }),
    ...(avro.expectSlice === null ? {} : { expectSlice: safeNumber(avro.expectSlice, 'expectSlice', avro) }),
    instructions,
  };
}

export function transactionToAvro(tx: GraphTransaction): AvroGraphTransaction {
  return {
    graph: tx.graph,
    txId: tx.txId,
    time: tx.time === undefined ? null : BigInt(tx.time),
    expectSlice: tx.expectSlice === undefined ? null : BigInt(tx.expectSlice),
    instructions: tx.instructions.map(instructionToAvro),
  };
}

function instructionFromAvro(avro: AvroInstruction, index: number, tx: AvroGraphTransaction): Instruction {
  const ref = (r: AvroRef, role: string): Ref => refFromAvro(r, role, index, tx);
  const named = (n: { readonly ref: string | null; readonly uid: string | null }): { ref?: string; uid?: string } => ({
    ...(n.ref === null ? {} : { ref: n.ref }),
    ...(n.uid === null ? {} : { uid: n.uid }),
  });
  if ('graphfold.CreateEntity' in avro) {
    const i = avro['graphfold.CreateEntity'];
    return { op: 'CreateEntity', ...named(i), type: i.type };
  }
  if ('graphfold.CreateAttribute' in avro) {
    const i = avro['graphfold.CreateAttribute'];
    return { op: 'CreateAttribute', ...named(i), valueType: i.valueType, ...(i.value === null ? {} : { value: valueFromAvro(i.value) }) };
  }
  if ('graphfold.CreateRelation' in avro) {
    const i = avro['graphfold.CreateRelation'];
    return { op: 'CreateRelation', ...named(i), type: i.type, source: ref(i.source, 'source'), target: ref(i.target, 'target') };
  }
  if ('graphfold.Assign' in avro) {
    const i = avro['graphfold.Assign'];
    return { op: 'Assign', target: ref(i.target, 'target'), value: valueFromAvro(i.value) };
  }
  if ('graphfold.SetField' in avro) {
    const i = avro['graphfold.SetField'];
    return { op: 'SetField', subject: ref(i.subject, 'subject'), relation: i.relation, value: valueFromAvro(i.value) };
  }
  if ('graphfold.Terminate' in avro) return { op: 'Terminate', target: ref(avro['graphfold.Terminate'].target, 'target') };
  const i = avro['graphfold.Merge'];
  return {
    op: 'Merge',
    uid: i.uid,
    kind: i.kind,
    type: i.type,
    ...(i.source === null ? {} : { source: ref(i.source, 'source') }),
    ...(i.target === null ? {} : { target: ref(i.target, 'target') }),
    ...(i.value === null ? {} : { value: valueFromAvro(i.value) }),
  };
}

function instructionToAvro(instruction: Instruction): AvroInstruction {
  const named = { ref: 'ref' in instruction ? instruction.ref ?? null : null, uid: instruction.op !== 'Merge' && 'uid' in instruction ? instruction.uid ?? null : null };
  switch (instruction.op) {
    case 'CreateEntity':
      return { 'graphfold.CreateEntity': { ...named, type: instruction.type } };
    case 'CreateAttribute':
      return {
        'graphfold.CreateAttribute': { ...named, valueType: instruction.valueType, value: instruction.value === undefined ? null : valueToAvro(instruction.value) },
      };
    case 'CreateRelation':
      return { 'graphfold.CreateRelation': { ...named, type: instruction.type, source: refToAvro(instruction.source), target: refToAvro(instruction.target) } };
    case 'Assign':
      return { 'graphfold.Assign': { target: refToAvro(instruction.target), value: valueToAvro(instruction.value) } };
    case 'SetField':
      return { 'graphfold.SetField': { subject: refToAvro(instruction.subject), relation: instruction.relation, value: valueToAvro(instruction.value) } };
    case 'Terminate':
      return { 'graphfold.Terminate': { target: refToAvro(instruction.target) } };
    case 'Merge':
      return {
        'graphfold.Merge': {
          uid: instruction.uid,
          kind: instruction.kind,
          type: instruction.type,
          source: instruction.source === undefined ? null : refToAvro(instruction.source),
          target: instruction.target === undefined ? null : refToAvro(instruction.target),
          value: instruction.value === undefined ? null : valueToAvro(instruction.value),
        },
      };
  }
}

function refFromAvro(avro: AvroRef, role: string, index: number, tx: AvroGraphTransaction): Ref {
  if (avro.uid !== null && avro.ref === null) return { uid: avro.uid };
  if (avro.ref !== null && avro.uid === null) return { ref: avro.ref };
  throw new TerminalError(
    'INVALID_INSTRUCTION',
    `instruction ${index}: ${role} must give exactly one of uid and ref (got ${avro.uid === null ? 'neither' : 'both'})`,
    { graph: tx.graph, txId: tx.txId },
    { instructionIndex: index },
  );
}

function refToAvro(ref: Ref): AvroRef {
  return 'uid' in ref ? { uid: ref.uid, ref: null } : { uid: null, ref: ref.ref };
}

function safeNumber(n: bigint, field: string, tx: AvroGraphTransaction): number {
  if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new TerminalError('INVALID_INSTRUCTION', `${field} ${n} is out of range (0 .. 2^53-1)`, { graph: tx.graph, txId: tx.txId });
  }
  return Number(n);
}
