import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { ERRORS, type ErrorCodeName } from '@herald/protocol';

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  413: '413 Payload Too Large',
  429: '429 Too Many Requests',
  503: '503 Service Unavailable',
};

export function statusLine(status: number): string {
  return STATUS_TEXT[status] ?? `${status} Error`;
}

/** Request fields copied synchronously: uWS invalidates `req` at the first await. */
export interface RequestInfo {
  readonly ip: string;
  readonly origin: string;
  readonly authorization: string;
  readonly query: string;
  readonly lastEventId: string;
}

const decoder = new TextDecoder();

export function readRequest(res: HttpResponse, req: HttpRequest, trustProxy: boolean): RequestInfo {
  const xff = trustProxy ? req.getHeader('x-forwarded-for') : '';
  const ip = xff ? xff.split(',')[0]!.trim() : decoder.decode(res.getRemoteAddressAsText());
  return {
    ip,
    origin: req.getHeader('origin'),
    authorization: req.getHeader('authorization'),
    query: req.getQuery() ?? '',
    lastEventId: req.getHeader('last-event-id'),
  };
}

/** A bearer token from an Authorization header, or undefined. */
export function bearer(header: string): string | undefined {
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header);
  return m?.[1];
}

/** Answer with the fixed JSON error body for a code. Only call inside a cork or a uWS handler. */
export function writeError(res: HttpResponse, code: ErrorCodeName, status = ERRORS[code].status, headers: Record<string, string> = {}): void {
  res.writeStatus(statusLine(status));
  res.writeHeader('Content-Type', 'application/json');
  res.writeHeader('Cache-Control', 'no-store');
  for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
  res.end(JSON.stringify({ type: 'error', code, message: ERRORS[code].message }));
}

/** CORS headers for an allowed browser origin (exact echo, never `*`). */
export function corsHeaders(origin: string): Record<string, string> {
  return origin ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : {};
}
