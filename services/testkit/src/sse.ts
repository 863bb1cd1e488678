import { request, type IncomingMessage } from 'node:http';
import { waitFor } from './util.js';

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** A Server-Sent Events client over node:http that records every event and heartbeat comment. */
export class SseClient {
  readonly events: SseEvent[] = [];
  status: number | undefined;
  headers: IncomingMessage['headers'] = {};
  /** True once the stream (or the error response) has ended. */
  closed = false;
  /** Comment lines seen (heartbeats). */
  comments = 0;
  /** Body of a non-stream (error) response. */
  body = '';
  readonly done: Promise<void>;
  private buf = '';
  private readonly req;

  constructor(url: string, headers: Record<string, string> = {}) {
    let finish: () => void = () => undefined;
    this.done = new Promise((r) => (finish = r));
    const end = () => {
      this.closed = true;
      finish();
    };
    this.req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      this.status = res.statusCode;
      this.headers = res.headers;
      res.setEncoding('utf8');
      const isStream = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
      res.on('data', (chunk: string) => (isStream ? this.feed(chunk) : (this.body += chunk)));
      res.on('end', end);
      res.on('error', end);
      res.on('close', end);
    });
    this.req.on('error', end);
    this.req.end();
  }

  /** Kept for readability in tests: the stream has ended. */
  get ended(): boolean {
    return this.closed;
  }

  private feed(chunk: string): void {
    this.buf += chunk.replace(/\r\n/g, '\n');
    let i: number;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '') continue;
        if (line.startsWith(':')) {
          this.comments++;
          continue;
        }
        const c = line.indexOf(':');
        const field = c < 0 ? line : line.slice(0, c);
        const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'id') id = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0 || id !== undefined) this.events.push({ event, ...(id !== undefined ? { id } : {}), data: data.join('\n') });
    }
  }

  /** Parsed `data` of events whose JSON has `type === type` (or whose event name is `type`). */
  json(type: string): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const e of this.events) {
      try {
        const v = JSON.parse(e.data) as Record<string, unknown>;
        if (v.type === type || e.event === type) out.push({ ...v, _sseId: e.id });
      } catch {
        /* not JSON */
      }
    }
    return out;
  }

  async waitFor(type: string, n = 1, timeoutMs = 5_000): Promise<Array<Record<string, unknown>>> {
    await waitFor(() => this.json(type).length >= n, { timeoutMs, what: `${n} SSE ${type} events (status ${this.status})` });
    return this.json(type);
  }

  /** Events with this `event:` name. */
  of(event: string): SseEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  async next(event: string, timeoutMs = 5_000): Promise<SseEvent> {
    return waitFor(() => this.of(event)[0], { timeoutMs, what: `SSE ${event} (status ${this.status})` });
  }

  async waitEvents(event: string, n: number, timeoutMs = 5_000): Promise<SseEvent[]> {
    await waitFor(() => this.of(event).length >= n, { timeoutMs, what: `${n} SSE ${event} events` });
    return this.of(event);
  }

  /** The response status, once headers have arrived. */
  async response(timeoutMs = 5_000): Promise<number> {
    return waitFor(() => this.status, { timeoutMs, what: 'SSE response' });
  }

  close(): void {
    this.req.destroy();
  }
}
