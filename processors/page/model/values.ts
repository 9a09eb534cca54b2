import type { JsonValue } from './api-types';

/** A value as the page shows it: strings and enum symbols as they are, quantities with their unit, times in UTC. */
export function valueText(value: JsonValue | undefined): string {
  if (value === undefined) return '(no value)';
  switch (value.type) {
    case 'String':
    case 'Enum':
      return String(value.value);
    case 'Quantity':
      return `${formatNumber(Number(value.value))} ${value.unit ?? ''}`.trim();
    case 'Time':
      return timeText(Number(value.value));
    case 'Bool':
      return value.value === true ? 'true' : 'false';
    case 'Bytes':
      return `${Math.floor((String(value.value).length * 3) / 4)} bytes`;
    default:
      return String(value.value);
  }
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : String(n);
}

/** Microseconds since the epoch as `YYYY-MM-DD HH:MM:SS` UTC (`.mmm` when not on a whole second). */
export function timeText(micros: number): string {
  const date = new Date(Math.floor(micros / 1000));
  if (Number.isNaN(date.getTime())) return String(micros);
  const iso = date.toISOString();
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms === '000' ? '' : `.${ms}`} UTC`;
}

/** The value of a `datetime-local` input (`YYYY-MM-DDTHH:MM[:SS]`, read as UTC) in microseconds; undefined when not a time. */
export function microsOfInput(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(text)) return undefined;
  const millis = Date.parse(`${text}Z`);
  return Number.isFinite(millis) ? millis * 1000 : undefined;
}

/** Microseconds as a `datetime-local` value (UTC, to the second). */
export function inputOfMicros(micros: number): string {
  return new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
}

/** A uid cut to its first 8 characters, for labels. */
export function shortUid(uid: string): string {
  return uid.slice(0, 8);
}
