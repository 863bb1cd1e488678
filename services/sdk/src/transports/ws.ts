import type { AuthMessage, ClientMessage } from '@herald/protocol';
import { parseServerMessage, type Transport, type TransportEvents } from './transport.js';

// Method-style signature: assignable from both the DOM WebSocket and the `ws` package.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the WebSocket API the client uses: the browser's, or `ws`'s in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;
const noop = () => undefined;

/** Open a WebSocket and authenticate with the first message (tokens never go in the URL). */
export function openWebSocket(Ctor: WebSocketConstructor, url: string, auth: AuthMessage, ev: TransportEvents): Transport {
  let opened = false;
  let done = false;
  const ws = new Ctor(url);
  ws.onopen = () => {
    if (done) return;
    opened = true;
    ws.send(JSON.stringify(auth));
    ev.open();
  };
  ws.onmessage = (e) => {
    if (done || typeof e.data !== 'string') return;
    const msg = parseServerMessage(e.data);
    if (msg) ev.message(msg);
  };
  ws.onerror = noop; // a close event always follows
  ws.onclose = (e) => {
    if (done) return;
    done = true;
    ev.close(e.code, e.reason, opened);
  };
  return {
    kind: 'ws',
    send(msg: ClientMessage): boolean {
      if (done || ws.readyState !== OPEN) return false;
      ws.send(JSON.stringify(msg));
      return true;
    },
    close(): void {
      if (done) return;
      done = true;
      ws.onopen = ws.onmessage = ws.onclose = noop;
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
    },
  };
}
