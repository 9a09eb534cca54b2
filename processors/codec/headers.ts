import { TerminalError } from '../errors';

/** Kafka record headers as clients hand them over (kafkajs' `IHeaders`, with no Kafka types). */
export type RecordHeaders = Readonly<Record<string, Buffer | string | readonly (Buffer | string)[] | undefined>>;

/** The first value of a header, its name matched case-insensitively (as HTTP matches names), as text. */
export function headerText(headers: RecordHeaders | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) return first.toString();
  }
  return undefined;
}

/**
 * The headers of `headers` that are in `names` (matched case-insensitively), written under the
 * configured name, every value kept: what an input record hands on to its diff or rejection
 * (W3C trace context by default, so a trace runs from producer to consumer).
 */
export function carriedHeaders(headers: RecordHeaders | undefined, names: readonly string[]): Record<string, Buffer | string | (Buffer | string)[]> {
  const carried: Record<string, Buffer | string | (Buffer | string)[]> = {};
  if (headers === undefined || names.length === 0) return carried;
  const byLower = new Map(names.map((name) => [name.toLowerCase(), name]));
  for (const [key, value] of Object.entries(headers)) {
    const name = byLower.get(key.toLowerCase());
    if (name === undefined || value === undefined) continue;
    carried[name] = Array.isArray(value) ? [...value] : (value as Buffer | string);
  }
  return carried;
}

/** The media type graphfold reads as the JSON form of a transaction. */
export const jsonContentType = 'application/json';

/**
 * What a `content-type` header says a record holds, matched as media types are (RFC 9110): type
 * and subtype case-insensitive, parameters allowed. `application/json` (a `charset` parameter,
 * if any, must be UTF-8) is the JSON form; no header, or any other media type, is the Confluent
 * Avro wire format. A JSON content type with another charset is refused (DECODE_ERROR).
 */
export function contentKind(contentType: string | undefined): 'json' | 'avro' {
  if (contentType === undefined) return 'avro';
  const [essence = '', ...parameters] = contentType.split(';');
  if (essence.trim().toLowerCase() !== jsonContentType) return 'avro';
  for (const parameter of parameters) {
    const at = parameter.indexOf('=');
    if (at < 0 || parameter.slice(0, at).trim().toLowerCase() !== 'charset') continue;
    const charset = parameter.slice(at + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      throw new TerminalError('DECODE_ERROR', `content-type '${contentType}': graphfold reads JSON in UTF-8 only; send it as UTF-8 (charset=utf-8, or no charset)`);
    }
  }
  return 'json';
}
