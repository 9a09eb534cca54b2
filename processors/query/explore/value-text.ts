import type { Value } from '../../engine/model';

/**
 * The texts a value is searched by: a string as itself, an enum by its symbol, a number in
 * decimal, a quantity as its number and `<number> <unit>`, a boolean as `true`/`false`, a time as
 * RFC 3339 (UTC) and as its microseconds. Bytes are not searched.
 */
export function searchTexts(value: Value): readonly string[] {
  switch (value.type) {
    case 'String':
    case 'Enum':
      return [value.value];
    case 'Int':
    case 'Float':
      return [String(value.value)];
    case 'Quantity':
      return [String(value.value), `${value.value} ${value.unit}`];
    case 'Bool':
      return [value.value ? 'true' : 'false'];
    case 'Time':
      return [timeText(value.value), String(value.value)];
    case 'Bytes':
      return [];
  }
}

/** True when one of the value's texts contains `needle` (already lower-cased). */
export function valueMatches(value: Value, needle: string): boolean {
  return searchTexts(value).some((text) => text.toLowerCase().includes(needle));
}

/** Microseconds since the epoch in RFC 3339 (UTC, milliseconds), or the number when out of Date's range. */
function timeText(micros: bigint): string {
  const millis = Number(micros / 1000n);
  const date = new Date(millis);
  return Number.isNaN(date.getTime()) ? String(micros) : date.toISOString();
}
