import type { ApiErrorBody, Diff } from '../model/api-types';
import { EventStreamParser } from '../model/sse';

/** How the query API is answering, as the banner shows it. */
export type Health =
  | { readonly state: 'ok' }
  | { readonly state: 'restoring' | 'unavailable' | 'offline'; readonly message: string; readonly retryAt: number; readonly restore?: ApiErrorBody['restore'] }
  | { readonly state: 'unauthorized'; readonly message: string };

/** An answer that is an error the page cannot wait out (400, 404, 409, 504, 500). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
    this.name = 'ApiError';
  }
}

const tokenKey = 'graphfold.token';

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }, { once: true });
  });
}

/**
 * The page's client of the query API, on the instance that served the page (any instance routes
 * to a graph's owner). A 503 (a partition restoring or moving, an owner that does not answer) is
 * waited out for its Retry-After and asked again, a lost connection likewise, a 401 until the user
 * gives a token; meanwhile `onHealth` listeners hear why, for the banner. Other errors are thrown.
 */
export class Api {
  /** The instance that answered last (`graphfold-served-by`). */
  servedBy: string | undefined;
  private token: string | undefined;
  private readonly listeners = new Set<(health: Health) => void>();
  private readonly troubles = new Map<number, Health>();
  private tokenWaiters: (() => void)[] = [];
  private nextId = 0;

  constructor(private readonly base = '') {
    this.token = sessionStorage.getItem(tokenKey) ?? undefined;
  }

  /** Uses this token from now on (kept for this browser tab only); requests waiting for one go on. */
  setToken(token: string): void {
    this.token = token === '' ? undefined : token;
    if (this.token === undefined) sessionStorage.removeItem(tokenKey);
    else sessionStorage.setItem(tokenKey, this.token);
    const waiters = this.tokenWaiters;
    this.tokenWaiters = [];
    for (const wake of waiters) wake();
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  onHealth(listener: (health: Health) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** GETs a path of the API; waits out 503s, lost connections and a missing token. */
  async get<T>(path: string, params: Readonly<Record<string, string | number | undefined>> = {}, signal?: AbortSignal): Promise<T> {
    const id = this.nextId++;
    try {
      let backoffMs = 500;
      for (;;) {
        let answer: Response;
        try {
          answer = await fetch(this.url(path, params), { headers: this.headers(), ...(signal === undefined ? {} : { signal }) });
        } catch (error) {
          if (signal?.aborted === true) throw error;
          backoffMs = Math.min(backoffMs * 2, 10_000);
          this.trouble(id, { state: 'offline', message: `the query server does not answer (${(error as Error).message})`, retryAt: Date.now() + backoffMs });
          await sleep(backoffMs, signal);
          continue;
        }
        this.servedBy = answer.headers.get('graphfold-served-by') ?? this.servedBy;
        if (answer.ok) {
          const body = (await answer.json()) as T;
          this.trouble(id, undefined);
          return body;
        }
        const body = await errorBody(answer);
        if (await this.waitOut(id, answer, body, signal)) continue;
        this.trouble(id, undefined);
        throw new ApiError(answer.status, body);
      }
    } finally {
      this.trouble(id, undefined);
    }
  }

  /**
   * Follows a graph's changes from `fromSlice` (server-sent events, read with fetch so the token
   * goes with them), calling `onDiff` for each slice in order; reconnects with Last-Event-ID when
   * the stream ends or breaks (the partition moved, the instance stopped), so no slice is missed
   * or repeated. Returns when `signal` aborts; throws an ApiError the stream cannot wait out.
   */
  async follow(graph: string, options: { readonly processor?: string; readonly fromSlice: number; readonly signal: AbortSignal; readonly onDiff: (diff: Diff) => void; readonly onOpen?: (servedBy: string | undefined) => void }): Promise<void> {
    const id = this.nextId++;
    const { signal } = options;
    let lastId = options.fromSlice - 1;
    let retryMs = 1_000;
    const path = `/v1/graphs/${encodeURIComponent(graph)}/changes`;
    try {
      while (!signal.aborted) {
        let answer: Response;
        try {
          const headers: Record<string, string> = { ...this.headers(), accept: 'text/event-stream', 'last-event-id': String(lastId) };
          answer = await fetch(this.url(path, { processor: options.processor }), { headers, signal, cache: 'no-store' });
        } catch (error) {
          if (signal.aborted) return;
          this.trouble(id, { state: 'offline', message: `live changes: the query server does not answer (${(error as Error).message})`, retryAt: Date.now() + retryMs });
          await sleep(retryMs, signal).catch(() => undefined);
          continue;
        }
        if (!answer.ok || answer.body === null) {
          const body = await errorBody(answer);
          if (await this.waitOut(id, answer, body, signal).catch(() => false)) continue;
          if (signal.aborted) return;
          throw new ApiError(answer.status, body);
        }
        this.trouble(id, undefined);
        options.onOpen?.(answer.headers.get('graphfold-served-by') ?? undefined);
        const parser = new EventStreamParser();
        const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
        let why = 'the change stream ended';
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            for (const event of parser.push(value)) {
              if (event.event === 'diff') {
                const diff = JSON.parse(event.data) as Diff;
                if (diff.slice <= lastId) continue;
                lastId = diff.slice;
                options.onDiff(diff);
              } else if (event.event === 'moved') {
                why = `${(JSON.parse(event.data) as { message?: string }).message ?? 'the graph moved'}`;
              }
            }
            retryMs = parser.retryMs ?? retryMs;
          }
        } catch (error) {
          if (signal.aborted) return;
          why = `the change stream broke (${(error as Error).message})`;
        }
        if (signal.aborted) return;
        this.trouble(id, { state: 'unavailable', message: `live changes: ${why}; reconnecting from slice ${lastId + 1}`, retryAt: Date.now() + retryMs });
        await sleep(retryMs, signal).catch(() => undefined);
      }
    } finally {
      this.trouble(id, undefined);
    }
  }

  /** For a 503 or 401: reports it, waits (Retry-After, or for a token) and says to ask again. */
  private async waitOut(id: number, answer: Response, body: ApiErrorBody, signal: AbortSignal | undefined): Promise<boolean> {
    if (answer.status === 503) {
      const seconds = Number(answer.headers.get('retry-after'));
      const waitMs = (Number.isFinite(seconds) && seconds > 0 ? seconds : 2) * 1000;
      const state = body.error === 'restoring' ? 'restoring' : 'unavailable';
      this.trouble(id, { state, message: body.message, retryAt: Date.now() + waitMs, ...(body.restore === undefined ? {} : { restore: body.restore }) });
      await sleep(waitMs, signal);
      return true;
    }
    if (answer.status === 401) {
      this.trouble(id, { state: 'unauthorized', message: this.token === undefined ? 'this query server needs a token' : 'the token was refused' });
      await new Promise<void>((resolve, reject) => {
        this.tokenWaiters.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
      return true;
    }
    return false;
  }

  /** Records (or clears) why request `id` is waiting; listeners hear the latest trouble, or ok. */
  private trouble(id: number, health: Health | undefined): void {
    const had = this.troubles.size;
    if (health === undefined) this.troubles.delete(id);
    else this.troubles.set(id, health);
    if (health === undefined && had === this.troubles.size) return;
    const latest = [...this.troubles.values()].at(-1) ?? { state: 'ok' as const };
    for (const listener of this.listeners) listener(latest);
  }

  private url(path: string, params: Readonly<Record<string, string | number | undefined>>): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, String(value));
    const query = search.toString();
    return `${this.base}${path}${query === '' ? '' : `?${query}`}`;
  }

  private headers(): Record<string, string> {
    return this.token === undefined ? {} : { authorization: `Bearer ${this.token}` };
  }
}

async function errorBody(answer: Response): Promise<ApiErrorBody> {
  const text = await answer.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<ApiErrorBody>;
    return { ...body, error: body.error ?? `http_${answer.status}`, message: body.message ?? `HTTP ${answer.status}` } as ApiErrorBody;
  } catch {
    return { error: `http_${answer.status}`, message: `HTTP ${answer.status}: ${text.slice(0, 200)}` };
  }
}
