const units: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** What a duration may look like, for messages. */
export const durationForms = 'a number of milliseconds, or a number with a unit: ms, s, m, h (e.g. "10m")';

/** Milliseconds of `10m`, `30s`, `1h`, `500ms` or `60000`; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*([0-9]+)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (match === null) return undefined;
  const ms = Number(match[1]) * (units[match[2] ?? 'ms'] as number);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
