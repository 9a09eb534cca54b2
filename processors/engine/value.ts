import type { Value } from './model';

/** The plain value types; `Enum:<Name>` and `Quantity:<unit>` carry a parameter. */
export const plainValueTypes = ['String', 'Int', 'Float', 'Bool', 'Time', 'Bytes'] as const;

const parameterPattern = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

/** True for `String`, `Int`, ..., `Enum:<Name>`, `Quantity:<unit>`. */
export function isValueType(valueType: string): boolean {
  if ((plainValueTypes as readonly string[]).includes(valueType)) return true;
  const colon = valueType.indexOf(':');
  if (colon < 0) return false;
  const family = valueType.slice(0, colon);
  const parameter = valueType.slice(colon + 1);
  return (family === 'Enum' || family === 'Quantity') && parameterPattern.test(parameter);
}

/** The value type a value belongs to, e.g. `Int` or `Enum:Color`. */
export function valueTypeOf(value: Value): string {
  switch (value.type) {
    case 'Enum':
      return `Enum:${value.enum}`;
    case 'Quantity':
      return `Quantity:${value.unit}`;
    default:
      return value.type;
  }
}

const int64Min = -(1n << 63n);
const int64Max = (1n << 63n) - 1n;

/** Why a value is not well-formed (an Int beyond 64 bits, an empty enum symbol), or undefined. */
export function valueProblem(value: Value): string | undefined {
  switch (value.type) {
    case 'Int':
    case 'Time':
      return value.value < int64Min || value.value > int64Max ? `${value.type} value ${value.value} does not fit in 64 bits` : undefined;
    case 'Enum':
      if (!parameterPattern.test(value.enum)) return `enum name '${value.enum}' is not a valid name`;
      return value.value.length === 0 ? `Enum:${value.enum} value is an empty symbol` : undefined;
    case 'Quantity':
      return parameterPattern.test(value.unit) ? undefined : `quantity unit '${value.unit}' is not a valid unit`;
    default:
      return undefined;
  }
}

/**
 * Value identity: equal when their encodings are equal. Floats compare with `Object.is`, so NaN
 * equals NaN and 0 differs from -0, as their bytes do.
 */
export function sameValue(a: Value, b: Value): boolean {
  switch (a.type) {
    case 'String':
    case 'Int':
    case 'Bool':
    case 'Time':
      return a.type === b.type && a.value === b.value;
    case 'Float':
      return b.type === 'Float' && Object.is(a.value, b.value);
    case 'Bytes':
      return b.type === 'Bytes' && Buffer.compare(a.value, b.value) === 0;
    case 'Enum':
      return b.type === 'Enum' && a.enum === b.enum && a.value === b.value;
    case 'Quantity':
      return b.type === 'Quantity' && a.unit === b.unit && Object.is(a.value, b.value);
  }
}

/** A Time as an ISO 8601 instant with microseconds, or as microseconds when beyond what a date can show. */
function showTime(micros: bigint): string {
  const millis = Number(micros / 1000n);
  if (!Number.isSafeInteger(millis) || Math.abs(millis) > 8.64e15) return `${micros}µs`;
  const remainder = Number(((micros % 1000n) + 1000n) % 1000n);
  const floorMillis = micros < 0n && remainder !== 0 ? millis - 1 : millis;
  return new Date(floorMillis).toISOString().replace('Z', `${String(remainder).padStart(3, '0')}Z`);
}

/** A short human rendering, for messages and the CLI: `"Ada"`, `42`, `red (Color)`, `3.5 kg`, `2026-11-24T12:00:00.000000Z`. */
export function showValue(value: Value): string {
  switch (value.type) {
    case 'String':
      return JSON.stringify(value.value);
    case 'Bytes':
      return `0x${Buffer.from(value.value).toString('hex')}`;
    case 'Time':
      return showTime(value.value);
    case 'Enum':
      return `${value.value} (${value.enum})`;
    case 'Quantity':
      return `${value.value} ${value.unit}`;
    default:
      return String(value.value);
  }
}
