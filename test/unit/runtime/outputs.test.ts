import { avroTypes } from '../../../processors/codec/avro';
import { TerminalError } from '../../../processors/errors';
import { recordBytesFor } from '../../../processors/admin/topics';
import { outputLimits, recordOverheadBytes, rejectionHeaders, rejectionMessage } from '../../../processors/runtime/outputs';

/**
 * A rejection always fits the rejections topic `topology apply` creates, whatever the refused
 * record holds: a rejection the broker refuses would stop its partition (issue 10, defect 1).
 */
describe('rejection records', () => {
  const maxRecordBytes = 1_000_000;
  const topicMax = recordBytesFor('rejections', maxRecordBytes) as number;
  const limits = outputLimits(maxRecordBytes, { diffs: 1_048_588, rejections: topicMax });
  /** A rejections topic graphfold did not create, at Kafka's default max.message.bytes. */
  const defaultMax = 1_048_588;
  const defaultLimits = outputLimits(maxRecordBytes, { diffs: defaultMax, rejections: defaultMax });
  const source = { topic: 'orders-instructions', partition: 3, offset: 42 };
  const big = (bytes: number, char = 'g'): string => char.repeat(Math.ceil(bytes / Buffer.byteLength(char)));

  function size(message: ReturnType<typeof rejectionMessage>): number {
    const bytes = (v: unknown): number => (Array.isArray(v) ? v.reduce((n: number, p: unknown) => n + bytes(p), 0) : typeof v === 'string' ? Buffer.byteLength(v) : Buffer.isBuffer(v) ? v.length : 0);
    return bytes(message.key) + bytes(message.value) + Object.entries(message.headers ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + bytes(v), 0);
  }

  const cases: [string, TerminalError, { key: Buffer | null; value: Buffer | null }, Record<string, string | Buffer | (string | Buffer)[]>][] = [
    ['a 600 KB graph id in a 650 KB value', new TerminalError('INVALID_INSTRUCTION', 'the graph id is too long', { graph: big(600_000), txId: 't1' }), { key: Buffer.from(big(600_000)), value: Buffer.alloc(650_000, 1) }],
    ['a 600 KB txId and a message of 100,000 four-byte characters', new TerminalError('INVALID_INSTRUCTION', big(400_000, '😀'), { graph: 'g', txId: big(600_000, 'é') }), { key: Buffer.from('g'), value: Buffer.alloc(900_000, 2) }],
    ['a value of 2 MiB', new TerminalError('TOO_LARGE', 'record value is too large'), { key: Buffer.from('g'), value: Buffer.alloc(2 * 1024 * 1024, 3) }],
    ['a 1 MiB key and no value', new TerminalError('DECODE_ERROR', 'record has no value'), { key: Buffer.alloc(1024 * 1024, 4), value: null }],
  ].map(([name, error, record]) => [name as string, error as TerminalError, record as { key: Buffer | null; value: Buffer | null }, {}]);
  cases.push(['every field at once, from a topic with the longest name Kafka allows', new TerminalError('INVALID_INSTRUCTION', big(50_000, '€'), { graph: big(50_000), txId: big(50_000, 'ü') }, { instructionIndex: 2 ** 31 - 1 }), { key: Buffer.alloc(100_000, 7), value: Buffer.alloc(3 * 1024 * 1024, 8) }, { traceparent: big(15_000), tracestate: big(15_000), baggage: big(1_000) }]);
  cases.push(['carried headers of 1.5 MB', new TerminalError('TOO_LARGE', 'its diff would be too large', { graph: 'g', txId: 't' }), { key: Buffer.from('g'), value: Buffer.alloc(1_000_000, 5) }, { traceparent: big(500_000), tracestate: Array.from({ length: 20 }, () => Buffer.alloc(50_000, 6)) }]);

  test.each(cases)('%s: fits the rejections topic', (name, error, record, carried) => {
    const from = name.startsWith('every field') ? { ...source, topic: 't'.repeat(249), offset: Number.MAX_SAFE_INTEGER } : source;
    const message = rejectionMessage(error, from, record, 7, 0, limits, 1_700_000_000_000, carried);
    expect(size(message)).toBeLessThanOrEqual(topicMax - recordOverheadBytes);
    expect(size(rejectionMessage(error, from, record, 7, 0, defaultLimits, 1_700_000_000_000, carried))).toBeLessThanOrEqual(defaultMax - recordOverheadBytes);
    const decoded = avroTypes().rejection.fromBuffer((message.value as Buffer).subarray(5)) as { graph: string | null; txId: string | null; message: string; code: string };
    expect(decoded.code).toBe(error.code);
    expect(Buffer.byteLength(decoded.graph ?? '')).toBeLessThanOrEqual(2048);
    expect(Buffer.byteLength(decoded.txId ?? '')).toBeLessThanOrEqual(2048);
    // A cut text is valid text: it still encodes and decodes the same.
    expect(Buffer.from(decoded.message, 'utf8').toString('utf8')).toBe(decoded.message);
  });

  test('headers that do not fit are left out and counted; the origin headers are always there', () => {
    const carried = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: big(100_000) };
    const message = rejectionMessage(new TerminalError('TOO_LARGE', 'x'), source, { key: null, value: Buffer.from('v') }, 7, 0, limits, 0, carried);
    expect(message.headers?.['traceparent']).toBe(carried.traceparent);
    expect(message.headers?.['tracestate']).toBeUndefined();
    expect(message.headers?.[rejectionHeaders.headersDropped]).toBe('1');
    expect(message.headers?.[rejectionHeaders.offset]).toBe('42');
  });

  test('a record under maxRecordBytes is embedded whole', () => {
    const value = Buffer.alloc(maxRecordBytes, 9);
    const message = rejectionMessage(new TerminalError('INVALID_INSTRUCTION', 'no'), source, { key: Buffer.from('g'), value }, 7, 0, limits, 0);
    const decoded = avroTypes().rejection.fromBuffer((message.value as Buffer).subarray(5)) as { payload: Buffer };
    expect(decoded.payload.equals(value)).toBe(true);
    expect(message.headers?.[rejectionHeaders.payloadTruncated]).toBeUndefined();
  });
});
