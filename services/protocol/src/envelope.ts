import type { ErrorCodeName } from './errors.js';

/** A notification as delivered to clients. `seq` is the stream sequence and the resume cursor. */
export interface NotificationEnvelope {
  readonly type: 'notification';
  readonly id: string;
  readonly room: string;
  readonly event: string;
  readonly data: Record<string, unknown>;
  /** Publish time, ms since the epoch. */
  readonly ts: number;
  readonly seq?: number;
}

/** Body the publisher stores in the stream: the envelope without `seq` (the stream assigns it). */
export type StoredNotification = Omit<NotificationEnvelope, 'seq'>;

export interface WelcomeMessage {
  readonly type: 'welcome';
  readonly conn: string;
  readonly rooms: readonly string[];
  readonly heartbeat_s: number;
  readonly expires_at: number;
}

export interface GapMessage {
  readonly type: 'gap';
}

export interface ReauthMessage {
  readonly type: 'reauth';
  readonly expires_in_s: number;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly code: ErrorCodeName;
  readonly message: string;
}

export interface SubscribedMessage {
  readonly type: 'subscribed' | 'unsubscribed';
  readonly room: string;
}

export type ServerMessage =
  | NotificationEnvelope
  | WelcomeMessage
  | GapMessage
  | ReauthMessage
  | ErrorMessage
  | SubscribedMessage;

export interface AuthMessage {
  readonly type: 'auth';
  readonly token: string;
  readonly resume?: number;
}

export interface SubscribeMessage {
  readonly type: 'subscribe' | 'unsubscribe';
  readonly room: string;
}

export type ClientMessage = AuthMessage | SubscribeMessage;

export const MAX_TOKEN_LENGTH = 8192;

/**
 * Parse one client text frame into a typed message. Returns undefined for anything
 * malformed or unknown; callers answer with BAD_MESSAGE.
 */
export function parseClientMessage(text: string): ClientMessage | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'auth': {
      if (typeof m.token !== 'string' || m.token.length === 0 || m.token.length > MAX_TOKEN_LENGTH) return undefined;
      if (m.resume === undefined) return { type: 'auth', token: m.token };
      if (!isSeq(m.resume)) return undefined;
      return { type: 'auth', token: m.token, resume: m.resume };
    }
    case 'subscribe':
    case 'unsubscribe':
      if (typeof m.room !== 'string' || m.room.length > 140) return undefined;
      return { type: m.type, room: m.room };
    default:
      return undefined;
  }
}

/** A stream sequence: a non-negative safe integer. */
export function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
