export { HeraldClient } from './client.js';
export type {
  ConnectedEvent,
  ConnectionState,
  DisconnectedEvent,
  GapEvent,
  HeraldClientOptions,
  HeraldErrorEvent,
  HeraldEvents,
  TokenReason,
} from './client.js';
export { Backoff, backoffCeiling, fullJitter, DEFAULT_BASE_MS, DEFAULT_CAP_MS, type BackoffOptions } from './backoff.js';
export { Emitter } from './emitter.js';
export { EventStreamParser, type FetchLike } from './transports/sse.js';
export type { TransportKind } from './transports/transport.js';
export type { WebSocketConstructor, WebSocketLike } from './transports/ws.js';
export { CloseCode, closeClass, shouldReconnect, type NotificationEnvelope } from '@herald/protocol';
