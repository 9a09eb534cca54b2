import { setTimeout as sleep } from 'node:timers/promises';

/** An answer of the query API. */
export interface QueryAnswer {
  readonly status: number;
  readonly servedBy: string | null;
  readonly retryAfter: number | null;
  readonly body: Record<string, unknown>;
}

/** One server-sent event. */
export interface ChangeEvent {
  readonly id: number | undefined;
  readonly event: string;
  readonly data: unknown;
}

/**
 * A client of the query API (for `graphfold query`, the demo and tests): GETs with parameters,
 * and a follower of a changes stream that reconnects with Last-Event-ID (through the same base
 * URL: any instance routes to the owner) until told to stop.
 */
export class QueryClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  async get(path: string, params: Readonly<Record<string, string | number | boolean | undefined>> = {}, options: { readonly timeoutMs?: number } = {}): Promise<QueryAnswer> {
    const answer = await fetch(this.url(path, params), { headers: this.headers(), signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) });
    const text = await answer.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { error: 'not_json', message: text.slice(0, 500) };
    }
    const retryAfter = answer.headers.get('retry-after');
    return { status: answer.status, servedBy: answer.headers.get('graphfold-served-by'), retryAfter: retryAfter === null ? null : Number(retryAfter), body };
  }

  /**
   * Follows `/v1/graphs/{graph}/changes`: calls `onEvent` for each event, in order; when the
   * stream ends or breaks (the owner moved or died), waits and reconnects from the last id seen,
   * so every slice comes once. Ends when `signal` aborts, or when `onEvent` returns false.
   */
  async follow(
    graph: string,
    options: { readonly fromSlice?: number; readonly processor?: string; readonly signal: AbortSignal; readonly onEvent: (event: ChangeEvent) => boolean | void; readonly onReconnect?: (why: string) => void },
  ): Promise<void> {
    let lastId: number | undefined = options.fromSlice === undefined ? undefined : options.fromSlice - 1;
    let retryMs = 1_000;
    const path = `/v1/graphs/${encodeURIComponent(graph)}/changes`;
    while (!options.signal.aborted) {
      let why = 'the stream ended';
      try {
        const headers = { ...this.headers(), accept: 'text/event-stream', ...(lastId === undefined ? {} : { 'last-event-id': String(lastId) }) };
        const answer = await fetch(this.url(path, options.processor === undefined ? {} : { processor: options.processor }), { headers, signal: options.signal });
        if (answer.status !== 200 || answer.body === null) {
          why = `HTTP ${answer.status}: ${(await answer.text()).slice(0, 300)}`;
          const after = Number(answer.headers.get('retry-after'));
          if (answer.status < 500) throw new Error(why);
          if (after > 0) retryMs = after * 1000;
        } else {
          const decoder = new TextDecoder();
          let pending = '';
          for await (const chunk of answer.body as unknown as AsyncIterable<Uint8Array>) {
            pending += decoder.decode(chunk, { stream: true });
            let end: number;
            while ((end = pending.indexOf('\n\n')) >= 0) {
              const block = pending.slice(0, end);
              pending = pending.slice(end + 2);
              const parsed = parseEvent(block);
              if (parsed.retry !== undefined) retryMs = parsed.retry;
              if (parsed.event === undefined) continue;
              if (parsed.event.id !== undefined) lastId = parsed.event.id;
              if (options.onEvent(parsed.event) === false) return;
            }
          }
        }
      } catch (error) {
        if (options.signal.aborted) return;
        if (error instanceof Error && /^HTTP 4/.test(error.message)) throw error;
        why = (error as Error).message;
      }
      if (options.signal.aborted) return;
      options.onReconnect?.(why);
      await sleep(retryMs, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }

  private url(path: string, params: Readonly<Record<string, string | number | boolean | undefined>>): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, String(value));
    const query = search.toString();
    return `${this.baseUrl.replace(/\/+$/, '')}${path}${query === '' ? '' : `?${query}`}`;
  }

  private headers(): Record<string, string> {
    return this.token === undefined ? {} : { authorization: `Bearer ${this.token}` };
  }
}

function parseEvent(block: string): { readonly event?: ChangeEvent; readonly retry?: number } {
  let id: number | undefined;
  let name = 'message';
  const data: string[] = [];
  let retry: number | undefined;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = Number(value);
    else if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry') retry = Number(value);
  }
  if (data.length === 0) return retry === undefined ? {} : { retry };
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.join('\n'));
  } catch {
    parsed = data.join('\n');
  }
  return { event: { id, event: name, data: parsed }, ...(retry === undefined ? {} : { retry }) };
}
