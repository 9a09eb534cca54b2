import type { Type } from 'avsc';
import { TerminalError } from '../errors';
import { diffAsTransaction } from '../engine/mirror';
import type { GraphDiff, GraphTransaction } from '../engine/model';
import { avroTypes } from './avro';
import type { AvroGraphDiff, AvroGraphTransaction } from './avro-wire.generated';
import { diffFromAvro } from './diff';
import { unframe } from './framing';
import { contentKind, jsonContentType } from './headers';
import { transactionFromJson } from './json';
import { misplaced, type Placement } from './partitioner';
import { unreadableBecause } from './resolution';
import { transactionFromAvro } from './transaction';

export { jsonContentType };

/** One input record as the decoder sees it. */
export interface InputRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The `content-type` header, when present (see `contentKind`). */
  readonly contentType?: string;
  /** Where it arrived; checked against its key's partition when the decoder has a placement. */
  readonly topic?: string;
  readonly partition?: number;
}

/** How to read one writer schema: as which type, through a resolver unless it is the reader's own. */
interface Reader {
  readonly kind: 'transaction' | 'diff';
  readonly resolver: object | undefined;
}

/**
 * Decodes input records into transactions (schemas/README.md, "Input"): Confluent-framed Avro
 * written with a GraphTransaction schema (any version the reader can resolve), a GraphDiff
 * (folded as its instructions, law 5), or JSON when the record says `content-type:
 * application/json`. Every failure is a {@link TerminalError}: the record becomes a rejection.
 *
 * Pure: writer schemas come from `writers`, which the runtime fills from the schema registry
 * before decoding (see `schemaIdOf`).
 */
export class InputDecoder {
  private readonly readers = new Map<number, Reader>();

  /**
   * `placement`: the partitioner and partition count of the input topics, when records are to be
   * checked for arriving on their key's partition (WRONG_PARTITION otherwise).
   */
  constructor(
    private readonly maxRecordBytes: number,
    private readonly placement?: Placement,
  ) {}

  /** The schema id a record needs resolved first, or undefined (JSON, or not framed at all). */
  static schemaIdOf(record: InputRecord): number | undefined {
    if (record.value === null || record.value.length < 5 || record.value[0] !== 0) return undefined;
    try {
      if (contentKind(record.contentType) === 'json') return undefined;
    } catch {
      return undefined;
    }
    return record.value.readUInt32BE(1);
  }

  decode(record: InputRecord, writers: ReadonlyMap<number, Type>): GraphTransaction {
    const { value } = record;
    if (value === null || value.length === 0) throw new TerminalError('DECODE_ERROR', 'record has no value (a tombstone?); a transaction was expected');
    if (value.length > this.maxRecordBytes) {
      throw new TerminalError('TOO_LARGE', `record value is ${value.length} bytes; the limit is ${this.maxRecordBytes}: split the transaction`);
    }
    const tx = contentKind(record.contentType) === 'json' ? transactionFromJson(value.toString('utf8')) : this.decodeAvro(value, writers, record.contentType);
    const key = record.key?.toString('utf8');
    if (key !== tx.graph) {
      throw new TerminalError(
        'INVALID_INSTRUCTION',
        key === undefined
          ? `record has no key; key transactions by graph id ('${tx.graph}') so each graph stays on one partition`
          : `record key '${key}' differs from the transaction's graph '${tx.graph}'; the key decides the partition, so it must be the graph id`,
        { graph: tx.graph, txId: tx.txId },
      );
    }
    if (this.placement !== undefined && record.partition !== undefined) {
      const wrong = misplaced(record.key, { ...(record.topic === undefined ? {} : { topic: record.topic }), partition: record.partition }, this.placement, { graph: tx.graph, txId: tx.txId });
      if (wrong !== undefined) throw wrong;
    }
    return tx;
  }

  /**
   * A changelog record: a Confluent-framed GraphDiff, read through its writer schema. Throws
   * TerminalError when it is anything else.
   */
  decodeDiff(value: Buffer, writers: ReadonlyMap<number, Type>): GraphDiff {
    const { schemaId, body } = unframe(value);
    const reader = this.reader(schemaId, writers);
    if (reader.kind !== 'diff') throw new TerminalError('UNKNOWN_SCHEMA', `schema id ${schemaId} is not a GraphDiff schema`);
    try {
      return diffFromAvro(avroTypes().diff.fromBuffer(body, reader.resolver as never) as AvroGraphDiff);
    } catch (error) {
      throw new TerminalError('DECODE_ERROR', `Avro body does not decode with schema id ${schemaId}: ${(error as Error).message}`, {}, { cause: error });
    }
  }

  private decodeAvro(value: Buffer, writers: ReadonlyMap<number, Type>, contentType: string | undefined): GraphTransaction {
    if (contentType !== undefined && value[0] !== 0) {
      throw new TerminalError('DECODE_ERROR', `record has content-type '${contentType}', which graphfold reads as Confluent-framed Avro, but its value does not start with the magic byte 0x00; send JSON with content-type: application/json, or Avro through the schema registry`);
    }
    const { schemaId, body } = unframe(value);
    const reader = this.reader(schemaId, writers);
    const types = avroTypes();
    let decoded: unknown;
    try {
      decoded = (reader.kind === 'diff' ? types.diff : types.transaction).fromBuffer(body, reader.resolver as never);
    } catch (error) {
      throw new TerminalError('DECODE_ERROR', `Avro body does not decode with schema id ${schemaId}: ${(error as Error).message}`, {}, { cause: error });
    }
    if (reader.kind === 'diff') {
      const diff = diffFromAvro(decoded as AvroGraphDiff);
      return diffAsTransaction(diff, diff.graph);
    }
    return transactionFromAvro(decoded as AvroGraphTransaction);
  }

  private reader(schemaId: number, writers: ReadonlyMap<number, Type>): Reader {
    const known = this.readers.get(schemaId);
    if (known !== undefined) return known;
    const writer = writers.get(schemaId);
    if (writer === undefined) throw new TerminalError('UNKNOWN_SCHEMA', `schema id ${schemaId} is not in the schema registry`);
    const kind = writer.name === 'graphfold.GraphDiff' ? 'diff' : 'transaction';
    const readerType = kind === 'diff' ? avroTypes().diff : avroTypes().transaction;
    let resolver: object | undefined;
    try {
      resolver = writer.equals(readerType) ? undefined : readerType.createResolver(writer);
    } catch (error) {
      const why = unreadableBecause(writer, readerType) ?? (error as Error).message;
      const bundled = `schemas/bundled/${readerType.name ?? ''}.avsc`;
      throw new TerminalError(
        'UNKNOWN_SCHEMA',
        `schema id ${schemaId} (${writer.name ?? 'unnamed'}) cannot be read as ${readerType.name ?? 'a graphfold schema'}: ${why}. Write with ${bundled} or a version graphfold can read (schemas/README.md, "Evolution"); topology apply sets the input subject to FORWARD_TRANSITIVE, so the registry refuses such versions`,
        {},
        { cause: error },
      );
    }
    const reader = { kind, resolver } as const;
    this.readers.set(schemaId, reader);
    return reader;
  }
}
