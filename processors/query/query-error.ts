/** The error codes of the query API, each with its HTTP status. */
export const queryErrors = {
  bad_parameter: 400,
  unauthorized: 401,
  not_found: 404,
  rejected: 409,
  stale: 409,
  too_many_streams: 503,
  restoring: 503,
  unavailable: 503,
  timeout: 504,
} as const;

export type QueryErrorCode = keyof typeof queryErrors;

/**
 * A request the query API answers with an error: `{ error: <code>, message, parameter?, ...body }`
 * and the code's status. Terminal for the request (the client must change it or wait), never a
 * bug: anything else thrown while answering is a bug, logged and answered 500 without details.
 */
export class QueryError extends Error {
  readonly status: number;

  constructor(
    readonly code: QueryErrorCode,
    message: string,
    readonly details: { readonly parameter?: string; readonly body?: Readonly<Record<string, unknown>>; readonly retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'QueryError';
    this.status = queryErrors[code];
  }

  /** The answer's body. */
  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...(this.details.parameter === undefined ? {} : { parameter: this.details.parameter }), ...this.details.body };
  }
}

/** A 400 naming the parameter and what is allowed. */
export function badParameter(parameter: string, message: string): QueryError {
  return new QueryError('bad_parameter', message, { parameter });
}
