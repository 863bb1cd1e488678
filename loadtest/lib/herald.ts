// The parts of Herald's wire protocol (docs/protocol.md) and publish API (docs/publishing.md) the
// scripts use. k6 cannot import services/protocol (Node module resolution, no bundler), so the few
// shapes needed are restated here.
import http from 'k6/http';
import type { RefinedResponse, ResponseType } from 'k6/http';
import { WebSocket } from 'k6/websockets';
import { PUBLISHER_URL, WS_URL } from './config.ts';

export interface Welcome {
  type: 'welcome';
  conn: string;
  rooms: string[];
  heartbeat_s: number;
  expires_at: number;
}

export interface Notification {
  type: 'notification';
  id: string;
  room: string;
  event: string;
  data: Record<string, unknown>;
  /** Publish time, ms since the epoch (set by the publisher). */
  ts: number;
  seq: number;
}

export interface ServerError {
  type: 'error';
  code: string;
  message: string;
}

export type ServerMessage = Welcome | Notification | ServerError | { type: 'gap' | 'reauth' | 'subscribed' | 'unsubscribed' };

/** Parses one text frame; null for anything that is not a JSON object with a string `type`. */
export function parseServerMessage(data: unknown): ServerMessage | null {
  if (typeof data !== 'string') return null;
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || typeof (v as { type?: unknown }).type !== 'string') return null;
  return v as ServerMessage;
}

/** Opens /ws and sends the auth message as soon as the socket is open. */
export function connect(token: string, tags: Record<string, string> = {}): WebSocket {
  const ws = new WebSocket(WS_URL, null, { tags });
  ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
  return ws;
}

export interface PublishRequest {
  tenant: string;
  room: string;
  event: string;
  data: Record<string, unknown>;
}

/** POST /v1/notifications; 202 means stored (after the JetStream PubAck). */
export function publish(serviceToken: string, body: PublishRequest): RefinedResponse<ResponseType | undefined> {
  return http.post(`${PUBLISHER_URL}/v1/notifications`, JSON.stringify(body), {
    headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
    tags: { name: 'POST /v1/notifications' },
  });
}
