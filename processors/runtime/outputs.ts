import { createHash } from 'node:crypto';
import type { Message } from 'kafkajs';
import { avroTypes } from '../codec/avro';
import { diffToAvro } from '../codec/diff';
import { frame } from '../codec/framing';
import { TerminalError } from '../errors';
import type { GraphDiff, SourcePosition } from '../engine/model';

/** Headers every rejection carries, so it can be routed and traced without decoding it. */
export const rejectionHeaders = {
  topic: 'graphfold-origin-topic',
  partition: 'graphfold-origin-partition',
  offset: 'graphfold-origin-offset',
  code: 'graphfold-rejection-code',
  /** Present when the payload was cut to fit: the original value's size in bytes. */
  payloadBytes: 'graphfold-payload-bytes',
  /** Present when the payload was cut to fit: the SHA-256 of the original value, hex. */
  payloadSha256: 'graphfold-payload-sha256',
  /** `true` when the payload holds only the first bytes of the original value. */
  payloadTruncated: 'graphfold-payload-truncated',
  /** `true` when the key holds only the first bytes of the original key. */
  keyTruncated: 'graphfold-key-truncated',
  /** Present when carried headers did not fit: how many were left out. */
  headersDropped: 'graphfold-headers-dropped',
} as const;

/**
 * How large the processor's output records may be, from its maxRecordBytes and what the topics
 * accept (their max.message.bytes), so that no record it produces is ever refused by the broker:
 * a refused diff or rejection would stop its partition.
 */
export interface OutputLimits {
  /** Key and value of a diff. */
  readonly diffBytes: number;
  /** The original value a rejection embeds; a longer one is cut to this many bytes. */
  readonly rejectionPayloadBytes: number;
}

/** Room a record batch needs around one record (batch header, record framing, headers). */
export const recordOverheadBytes = 1024;
/**
 * Room a rejection needs besides its payload: every other field is capped so that together they
 * stay within it (key 16 KiB, graph id and txId 2 KiB each, message 8 KiB, carried headers
 * 16 KiB: 44 KiB; graphfold's own headers and the Avro framing under 2 KiB). What is left of
 * the headroom (16 KiB) keeps a record a little over maxRecordBytes whole.
 */
const rejectionFrameBytes = 48 * 1024;
/** What the rejections topic should accept beyond maxRecordBytes, so any record under it is embedded whole. */
export const rejectionHeadroomBytes = 64 * 1024;
const maxMessageBytes = 8 * 1024;
const maxKeyBytes = 16 * 1024;
const maxIdBytes = 2 * 1024;
const maxCarriedHeaderBytes = 16 * 1024;

/** The limits for a processor with `maxRecordBytes` whose diffs and rejections topics accept records of these sizes (max.message.bytes). */
export function outputLimits(maxRecordBytes: number, topics: { readonly diffs: number; readonly rejections: number }): OutputLimits {
  return {
    diffBytes: Math.min(maxRecordBytes, topics.diffs - recordOverheadBytes),
    rejectionPayloadBytes: Math.max(1024, Math.min(maxRecordBytes + rejectionHeadroomBytes, topics.rejections - recordOverheadBytes) - rejectionFrameBytes),
  };
}

/**
 * A diff as a changelog record: keyed by graph id, Confluent-framed Avro, timestamped with the
 * slice time (milliseconds), so the same input gives the same records; with the headers carried
 * from its input record (the topology's `carryHeaders`).
 */
export function diffMessage(diff: GraphDiff, schemaId: number, partition: number, headers?: Message['headers']): Message {
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
export function diffTooLarge(message: Message, diff: GraphDiff, maxBytes: number): TerminalError | undefined {
  const size = byteLength(message.key) + byteLength(message.value) + headerBytes(message.headers);
  if (size <= maxBytes) return undefined;
  return new TerminalError(
    'TOO_LARGE',
    `its diff would be a changelog record of ${size} bytes; the limit (maxRecordBytes) is ${maxBytes}: split the transaction (a Terminate also ends every attribute and relation of its atom)`,
    { graph: diff.graph, txId: diff.txId, slice: diff.slice - 1, ...diff.source },
  );
}

/**
 * A refused record as a rejection: why, where from, and the original bytes; timestamped as the
 * refused record (milliseconds), with the headers carried from it. A rejection always fits its
 * topic: a value longer than `limits.rejectionPayloadBytes` is cut to its first bytes, and the
 * rejection says so (in its message, and in headers with the original size and SHA-256); the
 * key (16 KiB), the graph id and txId (2 KiB each) and the message (8 KiB) are cut alike, and
 * carried headers beyond 16 KiB in all are left out (and counted in a header).
 */
export function rejectionMessage(
  error: TerminalError,
  source: SourcePosition,
  record: { readonly key: Buffer | null; readonly value: Buffer | null },
  schemaId: number,
  partition: number,
  limits: Pick<OutputLimits, 'rejectionPayloadBytes'>,
  timestamp: number,
  carried: Message['headers'] = {},
): Message {
  const value = record.value ?? Buffer.alloc(0);
  const cut = value.length > limits.rejectionPayloadBytes;
  const sha256 = cut ? createHash('sha256').update(value).digest('hex') : undefined;
  let message = cutText(error.message, maxMessageBytes - 512);
  if (cut) message += ` (the payload holds the first ${limits.rejectionPayloadBytes} of the record's ${value.length} bytes; sha256 of the whole: ${sha256})`;
  const keyCut = record.key !== null && record.key.length > maxKeyBytes;
  const key = keyCut ? (record.key as Buffer).subarray(0, maxKeyBytes) : record.key;
  const graph = error.context.graph ?? key?.toString('utf8');
  const { headers: kept, dropped } = fitHeaders(carried, maxCarriedHeaderBytes);
  const rejection = {
    graph: graph === undefined ? null : cutText(graph, maxIdBytes),
    txId: error.context.txId === undefined ? null : cutText(error.context.txId, maxIdBytes),
    code: error.code,
    message,
    instructionIndex: error.instructionIndex ?? null,
    source: { topic: source.topic, partition: source.partition, offset: BigInt(source.offset) },
    payload: cut ? value.subarray(0, limits.rejectionPayloadBytes) : value,
  };
  return {
    key,
    value: frame(schemaId, avroTypes().rejection.toBuffer(rejection)),
    partition,
    timestamp: String(timestamp),
    headers: {
      ...kept,
      ...(dropped === 0 ? {} : { [rejectionHeaders.headersDropped]: String(dropped) }),
      [rejectionHeaders.topic]: source.topic,
      [rejectionHeaders.partition]: String(source.partition),
      [rejectionHeaders.offset]: String(source.offset),
      [rejectionHeaders.code]: error.code,
      ...(cut ? { [rejectionHeaders.payloadTruncated]: 'true', [rejectionHeaders.payloadBytes]: String(value.length), [rejectionHeaders.payloadSha256]: sha256 as string } : {}),
      ...(keyCut ? { [rejectionHeaders.keyTruncated]: 'true' } : {}),
    },
  };
}

/**
 * Splits messages into chunks of at most `maxBytes` of keys and values (a chunk holds at least
 * one message), so that no produce request exceeds the broker's record-batch limit.
 */
export function chunks(messages: readonly Message[], maxBytes: number): Message[][] {
  const result: Message[][] = [];
  let current: Message[] = [];
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

/** `text` in at most `maxBytes` of UTF-8, cut at a character and marked with `...` when cut. */
function cutText(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let end = Math.min(text.length, maxBytes - 3);
  while (end > 0 && Buffer.byteLength(text.slice(0, end)) > maxBytes - 3) end = Math.floor(end * 0.9);
  // Never end between the two halves of a surrogate pair.
  if (end > 0 && /[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}...`;
}

/** The headers, in order, while their names and values fit in `maxBytes`; the rest are counted as dropped. */
function fitHeaders(headers: Message['headers'], maxBytes: number): { readonly headers: NonNullable<Message['headers']>; readonly dropped: number } {
  const kept: NonNullable<Message['headers']> = {};
  let used = 0;
  let dropped = 0;
  for (const [name, value] of Object.entries(headers ?? {})) {
    const size = Buffer.byteLength(name) + valueBytes(value);
    if (used + size > maxBytes) {
      dropped += 1;
      continue;
    }
    used += size;
    kept[name] = value;
  }
  return { headers: kept, dropped };
}

function headerBytes(headers: Message['headers']): number {
  let size = 0;
  for (const [name, value] of Object.entries(headers ?? {})) size += Buffer.byteLength(name) + valueBytes(value);
  return size;
}

function valueBytes(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, part: unknown) => sum + valueBytes(part), 0);
  if (typeof value === 'string' || Buffer.isBuffer(value)) return byteLength(value);
  return 0;
}

function byteLength(data: Buffer | string | null | undefined): number {
  if (data === null || data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}
