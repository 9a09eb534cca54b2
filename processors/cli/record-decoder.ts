import type { Type } from 'avsc';
import { avroTypes } from '../codec/avro';
import type { AvroGraphDiff, AvroGraphTransaction, AvroRejection } from '../codec/avro-wire.generated';
import { diffFromAvro } from '../codec/diff';
import { unframe } from '../codec/framing';
import { contentKind } from '../codec/headers';
import { transactionFromJson } from '../codec/json';
import { transactionFromAvro } from '../codec/transaction';
import type { GraphDiff, GraphTransaction, SourcePosition } from '../engine/model';
import { TerminalError, type RejectionCode } from '../errors';

/** A Rejection record (`schemas/rejection.v2.avsc`) as the CLI shows it. */
export interface Rejection {
  readonly graph?: string;
  readonly txId?: string;
  /** OTHER: a code newer than this graphfold's schema (the record's header names it). */
  readonly code: RejectionCode | 'OTHER';
  readonly message: string;
  readonly instructionIndex?: number;
  readonly source: SourcePosition;
  readonly payload: Buffer;
}

/** Any record of a graphfold topic, by what it holds. */
export type GraphfoldRecord =
  | { readonly kind: 'diff'; readonly diff: GraphDiff }
  | { readonly kind: 'rejection'; readonly rejection: Rejection }
  | { readonly kind: 'transaction'; readonly transaction: GraphTransaction };

type Kind = GraphfoldRecord['kind'];

const kindsBySchemaName: Readonly<Record<string, Kind>> = {
  'graphfold.GraphDiff': 'diff',
  'graphfold.Rejection': 'rejection',
  'graphfold.GraphTransaction': 'transaction',
};

/**
 * Decodes the records of diffs, rejections and input topics for `graphfold tail`:
 * Confluent-framed Avro, told apart by the name of the writer schema (which the caller fetches
 * from the registry first, see `schemaIdOf`), or a JSON transaction when the record says
 * `content-type: application/json`. A record it cannot read throws a TerminalError saying why.
 */
export class RecordDecoder {
  private readonly readers = new Map<number, { readonly kind: Kind; readonly resolver: object | undefined }>();

  /** The schema id to fetch before decoding, or undefined for a record that is not framed Avro. */
  static schemaIdOf(value: Buffer, contentType: string | undefined): number | undefined {
    if (value.length < 5 || value[0] !== 0) return undefined;
    try {
      return contentKind(contentType) === 'json' ? undefined : value.readUInt32BE(1);
    } catch {
      return undefined;
    }
  }

  decode(value: Buffer, contentType: string | undefined, writers: ReadonlyMap<number, Type>): GraphfoldRecord {
    if (contentKind(contentType) === 'json') return { kind: 'transaction', transaction: transactionFromJson(value.toString('utf8')) };
    const { schemaId, body } = unframe(value);
    const { kind, resolver } = this.reader(schemaId, writers);
    const types = avroTypes();
    const type = kind === 'diff' ? types.diff : kind === 'rejection' ? types.rejection : types.transaction;
    let decoded: unknown;
    try {
      decoded = type.fromBuffer(body, resolver as never);
    } catch (error) {
      throw new TerminalError('DECODE_ERROR', `the Avro body does not decode with schema id ${schemaId}: ${(error as Error).message}`, {}, { cause: error });
    }
    switch (kind) {
      case 'diff':
        return { kind, diff: diffFromAvro(decoded as AvroGraphDiff) };
      case 'transaction':
        return { kind, transaction: transactionFromAvro(decoded as AvroGraphTransaction) };
      case 'rejection':
        return { kind, rejection: rejectionFromAvro(decoded as AvroRejection) };
    }
  }

  private reader(schemaId: number, writers: ReadonlyMap<number, Type>): { readonly kind: Kind; readonly resolver: object | undefined } {
    const known = this.readers.get(schemaId);
    if (known !== undefined) return known;
    const writer = writers.get(schemaId);
    if (writer === undefined) throw new TerminalError('UNKNOWN_SCHEMA', `schema id ${schemaId} is not in the schema registry`);
    const kind = kindsBySchemaName[writer.name ?? ''];
    if (kind === undefined) throw new TerminalError('UNKNOWN_SCHEMA', `schema id ${schemaId} is ${writer.name ?? 'an unnamed schema'}, not a GraphDiff, Rejection or GraphTransaction`);
    const types = avroTypes();
    const readerType = kind === 'diff' ? types.diff : kind === 'rejection' ? types.rejection : types.transaction;
    let resolver: object | undefined;
    try {
      resolver = writer.equals(readerType) ? undefined : readerType.createResolver(writer);
    } catch (error) {
      throw new TerminalError('UNKNOWN_SCHEMA', `schema id ${schemaId} (${writer.name ?? 'unnamed'}) cannot be read by this graphfold: ${(error as Error).message}`, {}, { cause: error });
    }
    const reader = { kind, resolver };
    this.readers.set(schemaId, reader);
    return reader;
  }
}

function rejectionFromAvro(avro: AvroRejection): Rejection {
  return {
    ...(avro.graph === null ? {} : { graph: avro.graph }),
    ...(avro.txId === null ? {} : { txId: avro.txId }),
    code: avro.code,
    message: avro.message,
    ...(avro.instructionIndex === null ? {} : { instructionIndex: avro.instructionIndex }),
    source: { topic: avro.source.topic, partition: avro.source.partition, offset: Number(avro.source.offset) },
    payload: avro.payload,
  };
}
