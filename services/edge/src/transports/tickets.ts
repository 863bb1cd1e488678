import type { TemplatedApp } from 'uWebSockets.js';
import type { Gateway } from '../gateway.js';
import { isIdentity, newConnId, type Conn } from '../gateway.js';
import { KeyedRateLimiter } from '../limits.js';
import { bearer, corsHeaders, readRequest, statusLine, writeError } from './http.js';

/**
 * `POST /v1/tickets` with `Authorization: Bearer <token>` → `{"ticket":…,"expires_in_s":30}`.
 * Same origin allow-list and per-IP rate as connections; the token is verified and
 * checked against revocations exactly as at connect. The ticket is never logged.
 */
export function registerTicketRoute(app: TemplatedApp, gw: Gateway): void {
  const limiter = new KeyedRateLimiter(gw.config.connectRatePerIp, gw.config.connectBurstPerIp);
  const origins = new Set(gw.config.allowedOrigins);

  app.options('/v1/tickets', (res, req) => {
    const origin = req.getHeader('origin');
    res.cork(() => {
      if (origin && !origins.has(origin)) return writeError(res, 'ORIGIN_NOT_ALLOWED');
      res.writeStatus(statusLine(204));
      for (const [k, v] of Object.entries(corsHeaders(origin))) res.writeHeader(k, v);
      res.writeHeader('Access-Control-Allow-Methods', 'POST');
      res.writeHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.writeHeader('Access-Control-Max-Age', '600');
      res.end();
    });
  });

  app.post('/v1/tickets', (res, req) => {
    const info = readRequest(res, req, gw.config.trustProxy);
    const cors = corsHeaders(info.origin);
    let aborted = false;
    res.onAborted(() => (aborted = true));
    // The body is not used; read it to the end so the connection stays usable.
    res.onData(() => undefined);
    if (info.origin ? !origins.has(info.origin) : gw.config.requireOrigin) {
      gw.security('origin_rejected', 'ticket request from a disallowed origin', { ip: info.ip });
      res.cork(() => writeError(res, 'ORIGIN_NOT_ALLOWED'));
      return;
    }
    if (!limiter.take(info.ip)) {
      gw.security('rate_limited', 'ticket requests per IP exceeded', { ip: info.ip });
      res.cork(() => writeError(res, 'RATE_LIMITED', 429, cors));
      return;
    }
    if (gw.draining || !gw.tickets) {
      res.cork(() => writeError(res, 'UNAVAILABLE', 503, cors));
      return;
    }
    const token = bearer(info.authorization);
    // A stand-in connection only for logging and counting through the gateway.
    const probe = { id: newConnId(), transport: 'sse', ip: info.ip, identity: undefined } as unknown as Conn;
    if (!token) {
      gw.security('auth_failed', info.authorization ? 'malformed Authorization header' : 'ticket request without a token', { ip: info.ip });
      res.cork(() => writeError(res, 'AUTH_FAILED', 401, cors));
      return;
    }
    const tickets = gw.tickets;
    void (async () => {
      const identity = await gw.authenticate(probe, token);
      if (!isIdentity(identity)) return { code: identity } as const;
      try {
        return { ticket: await tickets.issue(identity), identity } as const;
      } catch (err) {
        gw.log.error({ err: String(err) }, 'cannot store a ticket');
        return { code: 'UNAVAILABLE' } as const;
      }
    })().then((out) => {
      if (aborted) return;
      res.cork(() => {
        if ('code' in out && out.code) return writeError(res, out.code, undefined, cors);
        if (!('ticket' in out)) return;
        res.writeStatus(statusLine(200));
        res.writeHeader('Content-Type', 'application/json');
        res.writeHeader('Cache-Control', 'no-store');
        for (const [k, v] of Object.entries(cors)) res.writeHeader(k, v);
        res.end(JSON.stringify({ ticket: out.ticket, expires_in_s: gw.config.ticketTtlS }));
      });
    });
  });
}
