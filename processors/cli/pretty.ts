import { diffToJson, transactionToJson } from '../codec/json';
import type { Change, GraphDiff, GraphTransaction, Instruction, Ref, SourcePosition } from '../engine/model';
import { showValue } from '../engine/value';
import type { GraphfoldRecord, Rejection } from './record-decoder';

/**
 * How `graphfold tail` prints records: one readable block per record, a header line of fields
 * then one line per change or instruction; or, with `--json`, the JSON form one per line.
 */
export function prettyRecord(record: GraphfoldRecord): string {
  switch (record.kind) {
    case 'diff':
      return prettyDiff(record.diff);
    case 'rejection':
      return prettyRejection(record.rejection);
    case 'transaction':
      return prettyTransaction(record.transaction);
  }
}

/** The JSON form: `processors/codec/json.ts` for diffs and transactions; rejections alike, payload in base64. */
export function recordJson(record: GraphfoldRecord): string {
  switch (record.kind) {
    case 'diff':
      return diffToJson(record.diff);
    case 'transaction':
      return transactionToJson(record.transaction);
    case 'rejection':
      return JSON.stringify({ ...record.rejection, payload: record.rejection.payload.toString('base64') });
  }
}

export function prettyDiff(diff: GraphDiff): string {
  const header = `diff  graph=${diff.graph}  slice=${diff.slice}  txId=${diff.txId}  time=${formatMicros(diff.time)}  from=${position(diff.source)}`;
  return [header, ...(diff.changes.length === 0 ? ['  (no changes)'] : diff.changes.map((c) => `  ${prettyChange(c)}`))].join('\n');
}

function prettyChange(change: Change): string {
  switch (change.op) {
    case 'Created':
      return `created     ${change.kind.padEnd(9)} ${change.type}  ${change.uid}${change.source === undefined ? '' : `  ${change.source} -> ${change.target ?? '?'}`}`;
    case 'Assigned':
      return `assigned    ${change.uid}  ${showValue(change.value)}${change.previous === undefined ? '' : `  (was ${showValue(change.previous)})`}`;
    case 'Terminated':
      return `terminated  ${change.kind.padEnd(9)} ${change.type}  ${change.uid}${change.cascade ? '  (cascade)' : ''}`;
  }
}

export function prettyRejection(rejection: Rejection): string {
  const fields = [
    `code=${rejection.code}`,
    ...(rejection.graph === undefined ? [] : [`graph=${rejection.graph}`]),
    ...(rejection.txId === undefined ? [] : [`txId=${rejection.txId}`]),
    ...(rejection.instructionIndex === undefined ? [] : [`instruction=${rejection.instructionIndex}`]),
    `from=${position(rejection.source)}`,
    `payload=${rejection.payload.length} bytes`,
  ];
  return [`rejection  ${fields.join('  ')}`, `  ${rejection.message}`].join('\n');
}

export function prettyTransaction(tx: GraphTransaction): string {
  const fields = [
    `graph=${tx.graph}`,
    `txId=${tx.txId}`,
    ...(tx.time === undefined ? [] : [`time=${formatMicros(tx.time)}`]),
    ...(tx.expectSlice === undefined ? [] : [`expectSlice=${tx.expectSlice}`]),
  ];
  return [`transaction  ${fields.join('  ')}`, ...tx.instructions.map((i) => `  ${prettyInstruction(i)}`)].join('\n');
}

function prettyInstruction(instruction: Instruction): string {
  const named = (i: { readonly ref?: string; readonly uid?: string }): string => i.ref ?? i.uid ?? '_';
  switch (instruction.op) {
    case 'CreateEntity':
      return `CreateEntity     ${named(instruction)}: ${instruction.type}`;
    case 'CreateAttribute':
      return `CreateAttribute  ${named(instruction)}: ${instruction.valueType}${instruction.value === undefined ? '' : ` = ${showValue(instruction.value)}`}`;
    case 'CreateRelation':
      return `CreateRelation   ${named(instruction)}: ${instruction.type}  ${ref(instruction.source)} -> ${ref(instruction.target)}`;
    case 'Assign':
      return `Assign           ${ref(instruction.target)} := ${showValue(instruction.value)}`;
    case 'SetField':
      return `SetField         ${ref(instruction.subject)}.${instruction.relation} := ${showValue(instruction.value)}`;
    case 'Terminate':
      return `Terminate        ${ref(instruction.target)}`;
    case 'Merge':
      return `Merge            ${instruction.uid}: ${instruction.kind} ${instruction.type}${instruction.source === undefined ? '' : `  ${ref(instruction.source)} -> ${instruction.target === undefined ? '?' : ref(instruction.target)}`}${instruction.value === undefined ? '' : ` = ${showValue(instruction.value)}`}`;
  }
}

function ref(r: Ref): string {
  return 'uid' in r ? r.uid : r.ref;
}

function position(source: SourcePosition): string {
  return `${source.topic}/${source.partition}@${source.offset}`;
}

/** Microseconds since the epoch as ISO 8601 with six decimals: `2025-01-31T09:30:00.123456Z`. */
export function formatMicros(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const extra = micros - millis * 1000;
  return new Date(millis).toISOString().replace(/Z$/, `${String(extra).padStart(3, '0')}Z`);
}
