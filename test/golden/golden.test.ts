import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffFromJsonValue } from '../../processors/codec/json';
import { rejectionCodes } from '../../processors/errors';
import { diffMessage, rejectionHeaders } from '../../processors/task/outputs';
import { runGolden, type GoldenFile } from './golden-runner';

const dir = join(__dirname, '../fixtures/golden');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const golden = files.map((name) => ({ name, file: JSON.parse(readFileSync(join(dir, name), 'utf8')) as GoldenFile }));

/** The id the in-memory registry gives GraphDiff in the golden runner. */
const diffSchemaId = 2;

describe('golden fixtures (records in, diffs and rejections out, through the TopologyTestDriver)', () => {
  test.each(golden.map((g) => [g.name, g.file] as const))('%s', async (_name, file) => {
    const outcomes = await runGolden(file);
    expect(outcomes.map((o) => o.outcome)).toEqual(file.steps.map((step) => step.expect));
    for (const { outcome, input, written } of outcomes) {
      if (written?.kind === 'diff') {
        // The changelog record is exactly the expected diff as the processor encodes it.
        const expected = diffMessage(diffFromJsonValue((outcome as { applied: unknown }).applied), diffSchemaId, input.partition);
        expect(Buffer.compare(written.value, expected.value)).toBe(0);
        expect(written.key).toBe(expected.key);
        expect(written.partition).toBe(input.partition);
      } else if (written?.kind === 'rejection') {
        // A rejection keeps the refused record's key and bytes (their first bytes, and says so, when they would not fit its topic), and says where it came from in its headers.
        const value = (input.value as Buffer | null) ?? Buffer.alloc(0);
        if (written.headers[rejectionHeaders.payloadTruncated] === 'true') {
          expect(Buffer.compare(written.rejection.payload, value.subarray(0, written.rejection.payload.length))).toBe(0);
          expect(written.headers[rejectionHeaders.payloadBytes]).toBe(String(value.length));
          expect(written.headers[rejectionHeaders.payloadSha256]).toBe(createHash('sha256').update(value).digest('hex'));
        } else {
          expect(Buffer.compare(written.rejection.payload, value)).toBe(0);
        }
        expect(written.key).toEqual(input.key);
        expect(written.headers[rejectionHeaders.code]).toBe(written.rejection.code);
        expect(written.headers[rejectionHeaders.topic]).toBe('instructions');
        expect(written.headers[rejectionHeaders.partition]).toBe(String(input.partition));
        expect(Number(written.headers[rejectionHeaders.offset])).toBe(written.rejection.source.offset);
        expect(written.timestamp).toBe(input.timestamp);
      }
    }
  });

  test('cover every instruction and every rejection code', () => {
    const text = golden.map((g) => JSON.stringify(g.file)).join('\n');
    for (const op of ['CreateEntity', 'CreateAttribute', 'CreateRelation', 'Assign', 'SetField', 'Terminate', 'Merge']) expect(text).toContain(`"op":"${op}"`);
    for (const code of rejectionCodes) expect(text).toContain(`"code":"${code}"`);
  });
});
