/**
 * A colour per type name, the same on every page and every load (the name is hashed, not the
 * order in which types are met). Colours from Tableau's palettes; greens, reds and yellows are
 * left out, since they mark created, terminated and changed atoms.
 */
const colours = ['#4e79a7', '#76b7b2', '#b07aa1', '#9c755f', '#f28e2b', '#bab0ac', '#a0cbe8', '#d4a6c8', '#86bcb6'];

export function colourOf(type: string): string {
  let h = 2166136261;
  for (let i = 0; i < type.length; i += 1) h = Math.imul(h ^ type.charCodeAt(i), 16777619);
  return colours[(h >>> 0) % colours.length] as string;
}

/** The highlight colours of a comparison. */
export const highlight = { created: '#2ca02c', terminated: '#d62728', changed: '#f0b400' } as const;
