import type { Value } from '../engine/model';
import type { AvroValue } from './avro-wire.generated';

export function valueToAvro(value: Value): AvroValue {
  switch (value.type) {
    case 'String':
      return { value: { string: value.value } };
    case 'Int':
      return { value: { long: value.value } };
    case 'Float':
      return { value: { double: value.value } };
    case 'Bool':
      return { value: { boolean: value.value } };
    case 'Bytes':
      return { value: { 'graphfold.BytesValue': { bytes: Buffer.from(value.value.buffer, value.value.byteOffset, value.value.byteLength) } } };
    case 'Time':
      return { value: { 'graphfold.TimeValue': { micros: value.value } } };
    case 'Enum':
      return { value: { 'graphfold.EnumValue': { enum: value.enum, symbol: value.value } } };
    case 'Quantity':
      return { value: { 'graphfold.QuantityValue': { unit: value.unit, amount: value.value } } };
  }
}

export function valueFromAvro(avro: AvroValue): Value {
  const branch = avro.value;
  if ('string' in branch) return { type: 'String', value: branch.string };
  if ('long' in branch) return { type: 'Int', value: branch.long };
  if ('double' in branch) return { type: 'Float', value: branch.double };
  if ('boolean' in branch) return { type: 'Bool', value: branch.boolean };
  if ('graphfold.BytesValue' in branch) return { type: 'Bytes', value: branch['graphfold.BytesValue'].bytes };
  if ('graphfold.TimeValue' in branch) return { type: 'Time', value: branch['graphfold.TimeValue'].micros };
  if ('graphfold.EnumValue' in branch) return { type: 'Enum', enum: branch['graphfold.EnumValue'].enum, value: branch['graphfold.EnumValue'].symbol };
  return { type: 'Quantity', unit: branch['graphfold.QuantityValue'].unit, value: branch['graphfold.QuantityValue'].amount };
}
