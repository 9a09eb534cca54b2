/** The variables `${VAR}` reads: the process environment, or what a caller passes instead. */
export type Environment = Readonly<Record<string, string | undefined>>;

export type Interpolation =
  | { readonly ok: true; readonly value: string; /** True when the text held a `${...}`. */ readonly substituted: boolean }
  | { readonly ok: false; readonly message: string };

const namePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Substitutes environment variables in one string value of a topology file:
 * - `${VAR}`: the value of VAR; an error when VAR is not set (an empty value is kept).
 * - `${VAR:-default}`: the value of VAR, or `default` when VAR is unset or empty.
 * - `$$`: a literal `$` (so `$${VAR}` is the text `${VAR}`); any other `$` is itself.
 */
export function interpolate(text: string, env: Environment): Interpolation {
  if (!text.includes('$')) return { ok: true, value: text, substituted: false };
  let value = '';
  let substituted = false;
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      value += text.slice(i);
      break;
    }
    value += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      value += '$';
      i = dollar + 2;
      continue;
    }
    if (next !== '{') {
      value += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) return { ok: false, message: `'${text}' has a '\${' without its closing '}'; write \${VAR} or \${VAR:-default}, or $$ for a literal $` };
    const body = text.slice(dollar + 2, close);
    const separator = body.indexOf(':-');
    const name = separator < 0 ? body : body.slice(0, separator);
    if (!namePattern.test(name)) {
      return { ok: false, message: `'\${${body}}' does not name an environment variable (letters, digits and _, not starting with a digit); write \${VAR} or \${VAR:-default}` };
    }
    const set = env[name];
    if (separator >= 0) {
      value += set === undefined || set === '' ? body.slice(separator + 2) : set;
    } else if (set === undefined) {
      return { ok: false, message: `environment variable ${name} is not set: set it, or write \${${name}:-<default>} in the topology` };
    } else {
      value += set;
    }
    substituted = true;
    i = close + 1;
  }
  return { ok: true, value, substituted };
}
