import { readFileSync } from 'node:fs';
import { generatedFile, generateWireTypes } from '../../../processors/codec/avro-typegen';

test('the generated wire types match schemas/*.avsc (run `npm run schemas:types` after changing a schema)', () => {
  expect(readFileSync(generatedFile, 'utf8')).toBe(generateWireTypes());
});
