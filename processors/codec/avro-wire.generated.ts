// Generated from schemas/*.avsc by `npm run schemas:types`. Do not edit.

export interface AvroAssign {
  readonly target: AvroRef;
  readonly value: AvroValue;
}

export interface AvroAssigned {
  readonly uid: string;
  readonly previous: null | AvroValue;
  readonly value: AvroValue;
}

export type AvroAtomKind = 'entity' | 'attribute' | 'relation';

export interface AvroBytesValue {
  readonly bytes: Buffer;
}

export interface AvroCreateAttribute {
  readonly ref: null | string;
  readonly uid: null | string;
  readonly valueType: string;
  readonly value: null | AvroValue;
}

export interface AvroCreated {
  readonly uid: string;
  readonly kind: AvroAtomKind;
  readonly type: string;
  readonly source: null | string;
  readonly target: null | string;
}

export interface AvroCreateEntity {
  readonly ref: null | string;
  readonly uid: null | string;
  readonly type: string;
}

export interface AvroCreateRelation {
  readonly ref: null | string;
  readonly uid: null | string;
  readonly type: string;
  readonly source: AvroRef;
  readonly target: AvroRef;
}

export interface AvroEnumValue {
  readonly enum: string;
  readonly symbol: string;
}

export interface AvroGraphDiff {
  readonly graph: string;
  readonly slice: bigint;
  readonly txId: string;
  readonly time: bigint;
  readonly source: AvroSourcePosition;
  readonly changes: readonly ({ readonly 'graphfold.Created': AvroCreated } | { readonly 'graphfold.Assigned': AvroAssigned } | { readonly 'graphfold.Terminated': AvroTerminated })[];
}

export interface AvroGraphTransaction {
  readonly graph: string;
  readonly txId: string;
  readonly time: null | bigint;
  readonly expectSlice: null | bigint;
  readonly instructions: readonly ({ readonly 'graphfold.CreateEntity': AvroCreateEntity } | { readonly 'graphfold.CreateAttribute': AvroCreateAttribute } | { readonly 'graphfold.CreateRelation': AvroCreateRelation } | { readonly 'graphfold.Assign': AvroAssign } | { readonly 'graphfold.SetField': AvroSetField } | { readonly 'graphfold.Terminate': AvroTerminate } | { readonly 'graphfold.Merge': AvroMerge })[];
}

export interface AvroMerge {
  readonly uid: string;
  readonly kind: AvroAtomKind;
  readonly type: string;
  readonly source: null | AvroRef;
  readonly target: null | AvroRef;
  readonly value: null | AvroValue;
}

export interface AvroQuantityValue {
  readonly unit: string;
  readonly amount: number;
}

export interface AvroRef {
  readonly uid: null | string;
  readonly ref: null | string;
}

export interface AvroRejection {
  readonly graph: null | string;
  readonly txId: null | string;
  readonly code: AvroRejectionCode;
  readonly message: string;
  readonly instructionIndex: null | number;
  readonly source: AvroSourcePosition;
  readonly payload: Buffer;
}

export type AvroRejectionCode = 'DECODE_ERROR' | 'UNKNOWN_SCHEMA' | 'INVALID_INSTRUCTION' | 'CONFLICT' | 'NOT_FOUND' | 'TYPE_MISMATCH' | 'SCHEMA_VIOLATION' | 'STALE_SLICE' | 'TOO_LARGE' | 'WRONG_PARTITION' | 'OTHER';

export interface AvroSetField {
  readonly subject: AvroRef;
  readonly relation: string;
  readonly value: AvroValue;
}

export interface AvroSourcePosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export interface AvroTerminate {
  readonly target: AvroRef;
}

export interface AvroTerminated {
  readonly uid: string;
  readonly cascade: boolean;
  readonly kind: AvroAtomKind;
  readonly type: string;
}

export interface AvroTimeValue {
  readonly micros: bigint;
}

export interface AvroValue {
  readonly value: { readonly 'string': string } | { readonly 'long': bigint } | { readonly 'double': number } | { readonly 'boolean': boolean } | { readonly 'graphfold.BytesValue': AvroBytesValue } | { readonly 'graphfold.TimeValue': AvroTimeValue } | { readonly 'graphfold.EnumValue': AvroEnumValue } | { readonly 'graphfold.QuantityValue': AvroQuantityValue };
}
