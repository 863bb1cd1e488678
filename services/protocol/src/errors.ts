import { CloseCode, type CloseCodeName } from './close-codes.js';

/**
 * Error codes sent to clients, each with a fixed, generic, client-safe text.
 * Detail about the cause goes to the server log only, never to the client.
 */
export const ErrorCode = {
  SHUTDOWN: 'SHUTDOWN',
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  RATE_LIMITED: 'RATE_LIMITED',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  OVER_CAPACITY: 'OVER_CAPACITY',
  AUTH_FAILED: 'AUTH_FAILED',
  AUTH_TIMEOUT: 'AUTH_TIMEOUT',
  FORBIDDEN: 'FORBIDDEN',
  REVOKED: 'REVOKED',
  BAD_MESSAGE: 'BAD_MESSAGE',
  MESSAGE_TOO_BIG: 'MESSAGE_TOO_BIG',
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  NOT_FOUND: 'NOT_FOUND',
  UNAVAILABLE: 'UNAVAILABLE',
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;

export interface ErrorInfo {
  /** Text safe to show to any client. */
  readonly message: string;
  /** HTTP status used when the error ends an HTTP request (SSE, tickets). */
  readonly status: number;
  /** WebSocket close code used when the error ends a connection, if it does. */
  readonly close?: number;
}

export const ERRORS: Readonly<Record<ErrorCodeName, ErrorInfo>> = Object.freeze({
  SHUTDOWN: { message: 'Server is restarting; reconnect.', status: 503, close: CloseCode.SHUTDOWN },
  SLOW_CONSUMER: { message: 'Connection could not keep up; reconnect and resume.', status: 503, close: CloseCode.SLOW_CONSUMER },
  RATE_LIMITED: { message: 'Too many requests; slow down and retry later.', status: 429, close: CloseCode.RATE_LIMITED },
  TOKEN_EXPIRED: { message: 'Token expired; reconnect with a fresh token.', status: 401, close: CloseCode.TOKEN_EXPIRED },
  OVER_CAPACITY: { message: 'Server is at capacity; retry later.', status: 503, close: CloseCode.OVER_CAPACITY },
  AUTH_FAILED: { message: 'Authentication failed.', status: 401, close: CloseCode.AUTH_FAILED },
  AUTH_TIMEOUT: { message: 'Authentication timed out.', status: 401, close: CloseCode.AUTH_TIMEOUT },
  FORBIDDEN: { message: 'Not allowed.', status: 403, close: CloseCode.FORBIDDEN },
  REVOKED: { message: 'Session revoked.', status: 401, close: CloseCode.REVOKED },
  BAD_MESSAGE: { message: 'Malformed or unknown message.', status: 400, close: CloseCode.BAD_MESSAGE },
  MESSAGE_TOO_BIG: { message: 'Message too large.', status: 413, close: CloseCode.MESSAGE_TOO_BIG },
  ORIGIN_NOT_ALLOWED: { message: 'Origin not allowed.', status: 403 },
  NOT_FOUND: { message: 'Not found.', status: 404 },
  UNAVAILABLE: { message: 'Service unavailable; retry later.', status: 503 },
});

/** Close code names double as error codes: each close carries the matching text. */
export function errorForClose(name: CloseCodeName): ErrorInfo | undefined {
  return (ERRORS as Record<string, ErrorInfo>)[name];
}
