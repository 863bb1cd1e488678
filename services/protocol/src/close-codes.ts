/**
 * WebSocket close codes shared by edge and SDK.
 * 4000–4499: reconnect with backoff and resume. 4500–4999: do not reconnect
 * without new credentials or a fixed client.
 */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  SHUTDOWN: 4000,
  SLOW_CONSUMER: 4001,
  RATE_LIMITED: 4002,
  TOKEN_EXPIRED: 4003,
  OVER_CAPACITY: 4004,
  AUTH_FAILED: 4500,
  AUTH_TIMEOUT: 4501,
  FORBIDDEN: 4502,
  REVOKED: 4503,
  BAD_MESSAGE: 4504,
  MESSAGE_TOO_BIG: 4505,
} as const;

export type CloseCodeName = keyof typeof CloseCode;
export type CloseCodeValue = (typeof CloseCode)[CloseCodeName];

const byValue = new Map<number, CloseCodeName>(
  Object.entries(CloseCode).map(([name, value]) => [value, name as CloseCodeName]),
);

/** The symbolic name of a close code, or undefined for codes Herald does not define. */
export function closeCodeName(code: number): CloseCodeName | undefined {
  return byValue.get(code);
}

export type CloseClass = 'normal' | 'reconnect' | 'fatal' | 'unknown';

/** How a client must react to a close code. */
export function closeClass(code: number): CloseClass {
  if (code >= 4000 && code <= 4499) return 'reconnect';
  if (code >= 4500 && code <= 4999) return 'fatal';
  if (code >= 1000 && code <= 1999) return 'normal';
  return 'unknown';
}

/** True when the client should reconnect (with backoff) after this close code. */
export function shouldReconnect(code: number): boolean {
  const cls = closeClass(code);
  // 1000 is a deliberate close by the server only when it has no reason to give;
  // abnormal closes (1006 etc.) are network failures and are retried.
  return cls === 'reconnect' || (cls === 'normal' && code !== CloseCode.NORMAL) || cls === 'unknown';
}
