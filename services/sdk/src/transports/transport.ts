import type { ClientMessage, ServerMessage } from '@herald/protocol';

export type TransportKind = 'ws' | 'sse';

/** What a transport reports to the client. After `close()` it reports nothing more. */
export interface TransportEvents {
  /** The server accepted the connection (WS open, SSE 200). Authentication may still be pending. */
  open(): void;
  message(msg: ServerMessage): void;
  /** The connection ended. `opened` tells a refused connection from a dropped one. */
  close(code: number, reason: string, opened: boolean): void;
}

export interface Transport {
  readonly kind: TransportKind;
  /** Send a client message; false when this transport cannot (SSE) or is not open. */
  send(msg: ClientMessage): boolean;
  /** Stop, silently: no further events. */
  close(): void;
}

/** Parse one server frame; anything that is not a JSON object with a string `type` is dropped. */
export function parseServerMessage(text: string): ServerMessage | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { type?: unknown }).type === 'string') {
      return v as ServerMessage;
    }
  } catch {
    // fall through
  }
  return undefined;
}
