import { request, type IncomingMessage } from 'node:http';
import { waitFor } from './util.js';

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** A minimal Server-Sent Events client over node:http that records every event. */
export class SseClient {
  readonly events: SseEvent[] = [];
  status: number | undefined;
  headers: IncomingMessage['headers'] = {};
  closed = false;
  private buf = '';
  private readonly req;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      this.status = res.statusCode;
      this.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => this.feed(chunk));
      res.on('end', () => (this.closed = true));
      res.on('error', () => (this.closed = true));
    });
    this.req.on('error', () => (this.closed = true));
    this.req.end();
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
        if (line.startsWith(':') || line === '') continue;
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

  close(): void {
    this.req.destroy();
  }
}
