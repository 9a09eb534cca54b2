const units: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1_000,
  MB: 1_000_000,
  GB: 1_000_000_000,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

/** What a size may look like, for messages. */
export const byteSizeForms = 'a number of bytes, or a number with a unit: B, KB, MB, GB, KiB, MiB, GiB (e.g. "64 MiB")';

/** Bytes of `64 MiB`, `1.5 GB`, `512KiB` or `1048576`; undefined when the text is not a size or not whole bytes. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  if (match === null) return undefined;
  const factor = units[match[2] === '' ? 'B' : (match[2] as string)];
  if (factor === undefined) return undefined;
  const bytes = Number(match[1]) * factor;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
