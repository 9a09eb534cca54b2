import { avroTypes } from '../codec/avro';
import { diffToAvro } from '../codec/diff';
import { frame } from '../codec/framing';
import { TerminalError } from '../errors';
import type { GraphDiff, SourcePosition } from '../engine/model';
import type { OutputRecord } from './records';

/** Headers every rejection carries, so it can be routed and traced without decoding it. */
export const rejectionHeaders = {
  topic: 'graphfold-origin-topic',
  partition: 'graphfold-origin-partition',
  offset: 'graphfold-origin-offset',
  code: 'graphfold-rejection-code',
} as const;

/**
 * A diff as a changelog record: keyed by graph id, Confluent-framed Avro, timestamped with the
 * slice time (milliseconds), so the same input gives the same records; with the headers carried
 * from its input record (the topology's `carryHeaders`).
 */
export function diffMessage(diff: GraphDiff, schemaId: number, partition: number, headers?: OutputRecord['headers']): OutputRecord {
  return {
    key: diff.graph,
    value: frame(schemaId, avroTypes().diff.toBuffer(diffToAvro(diff))),
    partition,
    timestamp: String(Math.floor(diff.time / 1000)),
    ...(headers === undefined || Object.keys(headers).length === 0 ? {} : { headers }),
  };
}

/**
 * Refuses a diff whose changelog record would be larger than `maxBytes` (the processor's
 * maxRecordBytes): the broker would refuse to store it, and the partition could not go on.
 */
export function diffTooLarge(message: OutputRecord, diff: GraphDiff, maxBytes: number): TerminalError | undefined {
  const size = byteLength(message.key) + byteLength(message.value);
  if (size <= maxBytes) return undefined;
  return new TerminalError(
    'TOO_LARGE',
    `its diff would be a changelog record of ${size} bytes; the limit (maxRecordBytes) is ${maxBytes}: split the transaction (a Terminate also ends every attribute and relation of its atom)`,
    { graph: diff.graph, txId: diff.txId, slice: diff.slice - 1, ...diff.source },
  );
}

/**
 * A refused record as a rejection: why, where from, and the original bytes; timestamped as the
 * refused record (milliseconds), with the headers carried from it.
 */
export function rejectionMessage(
  error: TerminalError,
  source: SourcePosition,
  record: { readonly key: Buffer | null; readonly value: Buffer | null },
  schemaId: number,
  partition: number,
  timestamp: number,
  carried: OutputRecord['headers'] = {},
): OutputRecord {
  const rejection = {
    graph: error.context.graph ?? record.key?.toString('utf8') ?? null,
    txId: error.context.txId ?? null,
    code: error.code,
    message: error.message,
    instructionIndex: error.instructionIndex ?? null,
    source: { topic: source.topic, partition: source.partition, offset: BigInt(source.offset) },
    payload: record.value ?? Buffer.alloc(0),
  };
  return {
    key: record.key,
    value: frame(schemaId, avroTypes().rejection.toBuffer(rejection)),
    partition,
    timestamp: String(timestamp),
    headers: {
      ...carried,
      [rejectionHeaders.topic]: source.topic,
      [rejectionHeaders.partition]: String(source.partition),
      [rejectionHeaders.offset]: String(source.offset),
      [rejectionHeaders.code]: error.code,
    },
  };
}

/**
 * Splits messages into chunks of at most `maxBytes` of keys and values (a chunk holds at least
 * one message), so that no produce request exceeds the broker's record-batch limit.
 */
export function chunks<T extends Pick<OutputRecord, 'key' | 'value'>>(messages: readonly T[], maxBytes: number): T[][] {
  const result: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = byteLength(message.key) + byteLength(message.value) + 64;
    if (current.length > 0 && bytes + size > maxBytes) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

function byteLength(data: Buffer | string | null | undefined): number {
  if (data === null || data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}
