/** One server-sent event: its id (a slice, on the changes stream), name and parsed data. */
export interface ServerEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/**
 * An incremental parser of a `text/event-stream` body (the HTML standard's rules, for what the
 * changes stream sends): feed it chunks of text as they arrive; it returns the complete events.
 * Comments are dropped; `retry:` is kept for the caller's reconnection delay. The page reads the
 * stream with fetch (EventSource cannot send the bearer token), hence a parser of its own.
 */
export class EventStreamParser {
  private pending = '';
  private id: string | undefined;
  private event = '';
  private data: string[] = [];
  /** The last `retry:` the stream sent, in milliseconds. */
  retryMs: number | undefined;

  push(chunk: string): ServerEvent[] {
    this.pending += chunk;
    const out: ServerEvent[] = [];
    for (;;) {
      const end = this.pending.search(/\r\n|\r|\n/);
      if (end < 0) break;
      const line = this.pending.slice(0, end);
      this.pending = this.pending.slice(this.pending.startsWith('\r\n', end) ? end + 2 : end + 1);
      if (line === '') {
        if (this.data.length > 0) out.push({ id: this.id, event: this.event === '' ? 'message' : this.event, data: this.data.join('\n') });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id' && !value.includes('\0')) this.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    }
    return out;
  }

  /** The id of the last event: where a reconnection resumes (Last-Event-ID). */
  get lastEventId(): string | undefined {
    return this.id;
  }
}
