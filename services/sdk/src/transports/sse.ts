import { ERRORS, type ClientMessage, type ErrorCodeName, type ServerMessage } from '@herald/protocol';
import { parseServerMessage, type Transport, type TransportEvents } from './transport.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface SseOptions {
  /** `http(s)://host:port` of the edge. */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer` (Node, or browsers without tickets). */
  readonly token?: string | undefined;
  /** One-time ticket from `POST /v1/tickets`, sent as `?ticket=` instead of the header. */
  readonly ticket?: string | undefined;
  /** Resume cursor, sent as `Last-Event-ID`. */
  readonly resume: number | undefined;
  /** Named rooms (`room:<name>`) to join, as `?rooms=`. */
  readonly rooms: readonly string[];
  readonly fetch: FetchLike;
}

/** Close codes for the events an edge ends an SSE stream with. */
const END_EVENTS: Readonly<Record<string, number>> = { shutdown: 4000, reauth: 4003 };

/** The close code equivalent to an HTTP refusal of `/sse` (same classes as WebSocket closes). */
export function httpRefusalCode(status: number, code: string | undefined): number {
  const info = code ? (ERRORS as Record<string, { close?: number }>)[code as ErrorCodeName] : undefined;
  if (info?.close !== undefined) return info.close;
  if (code === 'ORIGIN_NOT_ALLOWED' || status === 403) return 4502;
  if (status === 401) return 4500;
  if (status === 429) return 4002;
  if (status >= 500) return 4000;
  return 1002; // unexpected answer (e.g. 404 from a proxy): retried with backoff
}

/**
 * Server-Sent Events over `fetch` streaming (not EventSource: it cannot send headers or
 * `Last-Event-ID` on the first request, and it reconnects on its own schedule). Works in
 * browsers and in Node 20.
 */
export function openSse(opts: SseOptions, ev: TransportEvents): Transport {
  const controller = new AbortController();
  let done = false;
  let opened = false;
  const finish = (code: number, reason: string) => {
    if (done) return;
    done = true;
    controller.abort();
    ev.close(code, reason, opened);
  };

  const url = new URL('/sse', opts.baseUrl);
  if (opts.rooms.length) url.searchParams.set('rooms', opts.rooms.join(','));
  if (opts.ticket) url.searchParams.set('ticket', opts.ticket);
  const headers: Record<string, string> = { Accept: 'text/event-stream' };
  if (opts.token && !opts.ticket) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.resume !== undefined) headers['Last-Event-ID'] = String(opts.resume);

  void (async () => {
    let res: Response;
    try {
      res = await opts.fetch(url.toString(), { headers, signal: controller.signal, cache: 'no-store' });
    } catch {
      return finish(1006, 'network error');
    }
    if (done) return;
    if (!res.ok || !res.body) {
      let code: string | undefined;
      try {
        code = ((await res.json()) as { code?: string }).code;
      } catch {
        // not the edge's JSON error body
      }
      return finish(httpRefusalCode(res.status, code), code ?? `HTTP ${res.status}`);
    }
    opened = true;
    ev.open();
    let endCode = 1006;
    let endReason = 'stream ended';
    const parser = new EventStreamParser((type, data, id) => {
      if (done) return;
      const msg = toMessage(type, data, id);
      if (type in END_EVENTS) {
        endCode = END_EVENTS[type]!;
        endReason = type;
      } else if (type === 'error' && msg?.type === 'error') {
        endCode = (ERRORS as Record<string, { close?: number }>)[msg.code]?.close ?? 1011;
        endReason = msg.code;
      }
      // An end-of-stream `reauth` (expires_in_s 0) is a close, not a request to re-authenticate.
      if (msg && !(type === 'reauth' && msg.type === 'reauth' && msg.expires_in_s <= 0)) ev.message(msg);
    });
    try {
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done: eof } = await reader.read();
        if (eof || done) break;
        parser.push(value);
      }
    } catch {
      // aborted or the connection dropped
    }
    finish(endCode, endReason);
  })();

  return {
    kind: 'sse',
    send(_msg: ClientMessage): boolean {
      return false;
    },
    close(): void {
      done = true;
      controller.abort();
    },
  };
}

function toMessage(type: string, data: string, id: string | undefined): ServerMessage | undefined {
  if (type === 'gap') return { type: 'gap' };
  const msg = parseServerMessage(data);
  if (!msg) return undefined;
  if (msg.type === 'notification' && msg.seq === undefined && id !== undefined && /^\d+$/.test(id)) {
    return { ...msg, seq: Number(id) };
  }
  return msg;
}

/** Incremental `text/event-stream` parser (WHATWG HTML, "Parsing an event stream"). */
export class EventStreamParser {
  private buf = '';
  private type = '';
  private data: string[] = [];
  private id: string | undefined;

  constructor(private readonly dispatch: (type: string, data: string, id: string | undefined) => void) {}

  push(chunk: string): void {
    this.buf += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) return;
      // A trailing \r may be the first half of \r\n: wait for the next chunk.
      if (m[0] === '\r' && m.index === this.buf.length - 1) return;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length || this.type) this.dispatch(this.type || 'message', this.data.join('\n'), this.id);
      this.type = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return; // comment (heartbeat)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }
}
