/**
 * A JSON text for deep comparison of engine values: bigints, bytes, NaN and -0 written out, keys
 * sorted and undefined fields dropped, so equal values give equal text and different ones
 * different text.
 */
export function canonical(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : Object.is(v, -0) ? '-0' : String(v);
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof Error) return { error: v.name, message: v.message, ...normalizeObject(v as unknown as Record<string, unknown>) };
  if (v !== null && typeof v === 'object') return normalizeObject(v as Record<string, unknown>);
  return v;
}

function normalizeObject(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, x]) => [k, normalize(x)]),
  );
}
