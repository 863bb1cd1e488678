import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ERRORS, type CloseCodeName, type ErrorCodeName } from '@herald/protocol';
import type { Identity } from '../auth.js';
import type { Conn, ConnOps, Gateway } from '../gateway.js';
import { isIdentity, newConnId } from '../gateway.js';
import { BadCursorError } from '../resume.js';
import { bearer, corsHeaders, readRequest, statusLine, writeError } from './http.js';
import { parseCursor } from './ws.js';

interface SseConn extends Conn {
  res: HttpResponse;
  /** Bytes written while the socket reported backpressure, since it last drained. */
  pending: number;
  congested: boolean;
  /** True once the 200 and the event-stream headers went out. */
  started: boolean;
}

/**
 * Server-Sent Events: `GET /sse` with `Authorization: Bearer`. Proxy-safe headers,
 * comment heartbeats, `id:` = stream sequence on every notification.
 */
export class SseTransport implements ConnOps {
  /** Subject → SSE members (WebSocket members live in uWS topics instead). */
  private readonly members = new Map<string, Set<SseConn>>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    app: TemplatedApp,
    private readonly gw: Gateway,
  ) {
    app.get('/sse', (res, req) => this.request(res, req));
    app.options('/sse', (res, req) => {
      const origin = req.getHeader('origin');
      res.cork(() => {
        if (origin && !gw.config.allowedOrigins.includes(origin)) {
          writeError(res, 'ORIGIN_NOT_ALLOWED');
          return;
        }
        res.writeStatus(statusLine(204));
        for (const [k, v] of Object.entries(corsHeaders(origin))) res.writeHeader(k, v);
        res.writeHeader('Access-Control-Allow-Methods', 'GET');
        res.writeHeader('Access-Control-Allow-Headers', 'Authorization, Last-Event-ID');
        res.writeHeader('Access-Control-Max-Age', '600');
        res.end();
      });
    });
    this.heartbeat = setInterval(() => this.beat(), gw.config.sseHeartbeatS * 1000);
    this.heartbeat.unref();
  }

  private request(res: HttpResponse, req: import('uWebSockets.js').HttpRequest): void {
    const info = readRequest(res, req, this.gw.config.trustProxy);
    const refusal = this.gw.precheck('sse', info.ip, info.origin);
    const cors = corsHeaders(info.origin);
    if (refusal) {
      writeError(res, refusal.code, refusal.status, refusal.code === 'ORIGIN_NOT_ALLOWED' ? {} : cors);
      return;
    }
    const params = new URLSearchParams(info.query);
    const requested = params.get('rooms');
    const ticket = params.get('ticket');
    // EventSource sends Last-Event-ID itself on its reconnects; a client that opens a new
    // EventSource (a new ticket) passes the cursor as ?last_event_id=.
    const cursor = parseCursor(info.lastEventId || params.get('last_event_id'));
    const conn: SseConn = {
      id: newConnId(),
      transport: 'sse',
      ip: info.ip,
      identity: undefined,
      subjects: [],
      rooms: [],
      closed: false,
      closeReason: undefined,
      expSlot: 0,
      tokens: 0,
      last: 0,
      res,
      pending: 0,
      congested: false,
      started: false,
      ops: this,
    };
    this.gw.conns.add(conn);
    res.onAborted(() => {
      const wasAdmitted = conn.identity !== undefined;
      conn.closed = true;
      this.leaveAll(conn);
      if (!wasAdmitted) this.gw.failure(conn, 'client_closed');
      this.gw.release(conn, conn.closeReason ?? 'client');
    });
    if (Number.isNaN(cursor)) {
      this.gw.security('bad_message', 'malformed Last-Event-ID', { ip: info.ip, transport: 'sse' });
      this.gw.failure(conn, 'bad_request');
      return this.refuse(conn, 'BAD_MESSAGE', cors);
    }
    let verified: Promise<Identity | 'AUTH_FAILED' | 'REVOKED'>;
    const token = bearer(info.authorization);
    if (ticket !== null && !info.authorization) verified = this.gw.redeemTicket(conn, ticket);
    else if (token) verified = this.gw.authenticate(conn, token);
    else {
      this.gw.security('auth_failed', info.authorization ? 'malformed Authorization header' : 'no credentials', { ip: info.ip, transport: 'sse' });
      this.gw.failure(conn, 'auth_failed');
      return this.refuse(conn, 'AUTH_FAILED', cors);
    }
    void verified.then((identity) => {
      if (conn.closed) return;
      res.cork(() => {
        if (!isIdentity(identity)) return this.refuse(conn, identity, cors);
        const resuming = cursor !== undefined;
        // A resuming stream joins the hub (live messages are buffered for it) but not the
        // member sets: it is attached to them once the replay has caught up.
        const join = resuming ? () => undefined : (s: string) => this.join(conn, s);
        const refused = this.gw.admit(conn, identity, join);
        if (refused) return this.refuse(conn, refused.code, cors);
        for (const name of requested ? requested.split(',') : []) {
          const err = this.gw.changeRoom(conn, 'subscribe', name, join, (s) => this.leave(conn, s));
          if (err) return this.endWith(conn, err, err === 'FORBIDDEN' ? 403 : 400, cors);
        }
        if (!resuming) return this.start(conn, identity, cors);
        this.resume(conn, identity, cursor, cors);
      });
    });
  }

  private start(conn: SseConn, identity: Identity, cors: Record<string, string>): void {
    const res = conn.res;
    conn.started = true;
    res.writeStatus(statusLine(200));
    res.writeHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.writeHeader('Cache-Control', 'no-store');
    res.writeHeader('X-Accel-Buffering', 'no');
    res.writeHeader('Connection', 'keep-alive');
    for (const [k, v] of Object.entries(cors)) res.writeHeader(k, v);
    const welcome = { type: 'welcome', conn: conn.id, rooms: conn.rooms, heartbeat_s: this.gw.config.sseHeartbeatS, expires_at: identity.exp };
    res.write(`retry: 2000\nevent: welcome\ndata: ${JSON.stringify(welcome)}\n\n`);
  }

  private resume(conn: SseConn, identity: Identity, cursor: number, cors: Record<string, string>): void {
    conn.resuming = true;
    const notStarted = (code: 'RATE_LIMITED' | 'UNAVAILABLE' | 'BAD_MESSAGE') => {
      const status = code === 'BAD_MESSAGE' ? 400 : code === 'RATE_LIMITED' ? 429 : 503;
      conn.res.cork(() => this.endWith(conn, code, status, cors));
    };
    void this.gw
      .resumer!.resume({
        conn,
        subjects: [...conn.subjects],
        cursor,
        ready: () => conn.res.cork(() => this.start(conn, identity, cors)),
        send: (text, seq) => this.write(conn, `id: ${seq}\nevent: notification\ndata: ${text}\n\n`),
        gap: () => this.write(conn, 'event: gap\ndata: {"type":"gap"}\n\n'),
        goLive: () => {
          conn.resuming = false;
          for (const s of conn.subjects) this.join(conn, s);
        },
      })
      .then(
        (result) => {
          if (conn.closed) return;
          if (result === 'rejected') {
            this.gw.security('rate_limited', 'resume queue full', { ip: conn.ip, identity, conn: conn.id, transport: 'sse' });
            if (!conn.started) notStarted('RATE_LIMITED');
            else this.end(conn, 'RATE_LIMITED');
          } else if (result === 'error') {
            conn.closeReason = 'resume_failed';
            if (!conn.started) notStarted('UNAVAILABLE');
            else this.end(conn, 'SHUTDOWN');
          }
        },
        (err: unknown) => {
          if (conn.closed) return;
          if (err instanceof BadCursorError) {
            this.gw.security('bad_message', err.message, { ip: conn.ip, identity, conn: conn.id, transport: 'sse' });
            if (!conn.started) notStarted('BAD_MESSAGE');
            else this.end(conn, 'BAD_MESSAGE');
          } else {
            this.gw.log.error({ err }, 'resume crashed');
            conn.closeReason = 'resume_failed';
            if (!conn.started) notStarted('UNAVAILABLE');
            else this.end(conn, 'SHUTDOWN');
          }
        },
      );
  }

  /** Refuse before the stream started: an HTTP error, counted as a failure. */
  private refuse(conn: SseConn, code: ErrorCodeName, headers: Record<string, string>): void {
    if (conn.closed) return;
    conn.closed = true;
    this.gw.conns.delete(conn);
    writeError(conn.res, code, ERRORS[code].status, headers);
  }

  /** Refuse after admission (a forbidden room): undo admission, then answer with the error. */
  private endWith(conn: SseConn, code: ErrorCodeName, status: number, headers: Record<string, string>): void {
    this.leaveAll(conn);
    conn.closeReason ??= code.toLowerCase();
    this.gw.release(conn, conn.closeReason);
    conn.closed = true;
    writeError(conn.res, code, status, headers);
  }

  private join(conn: SseConn, subject: string): void {
    let set = this.members.get(subject);
    if (!set) this.members.set(subject, (set = new Set()));
    set.add(conn);
  }

  private leave(conn: SseConn, subject: string): void {
    const set = this.members.get(subject);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) this.members.delete(subject);
  }

  private leaveAll(conn: SseConn): void {
    for (const s of conn.subjects) this.leave(conn, s);
  }

  publish(subject: string, text: string, seq: number | undefined): number {
    const set = this.members.get(subject);
    if (!set) return 0;
    const frame = `${seq === undefined ? '' : `id: ${seq}\n`}event: notification\ndata: ${text}\n\n`;
    let n = 0;
    for (const conn of set) if (this.write(conn, frame)) n++;
    return n;
  }

  private write(conn: SseConn, frame: string): boolean {
    if (conn.closed) return false;
    if (conn.congested && conn.pending > this.gw.config.maxBackpressure) {
      this.gw.metrics.dropped.inc({ reason: 'slow_consumer' });
      this.gw.security('slow_consumer', 'SSE send buffer over limit', { ip: conn.ip, identity: conn.identity, conn: conn.id, transport: 'sse' });
      this.end(conn, 'SLOW_CONSUMER');
      return false;
    }
    let ok = true;
    conn.res.cork(() => {
      ok = conn.res.write(frame);
    });
    if (!ok) {
      conn.pending += frame.length;
      if (!conn.congested) {
        conn.congested = true;
        conn.res.onWritable(() => {
          conn.congested = false;
          conn.pending = 0;
          return true;
        });
      }
    }
    return true;
  }

  private beat(): void {
    for (const conn of this.gw.conns) {
      if (conn.transport !== 'sse' || conn.closed || !conn.identity) continue;
      const c = conn as SseConn;
      if (!c.congested && c.started) c.res.cork(() => c.res.write(': hb\n\n'));
    }
  }

  /** End a stream with a final event naming why. */
  reauth(c: Conn, expiresInS: number): void {
    const conn = c as SseConn;
    if (conn.started) this.write(conn, `event: reauth\ndata: ${JSON.stringify({ type: 'reauth', expires_in_s: expiresInS })}\n\n`);
  }

  end(c: Conn, code: CloseCodeName): void {
    const conn = c as SseConn;
    if (conn.closed) return;
    conn.closeReason ??= code.toLowerCase();
    const info = (ERRORS as Record<string, { message: string }>)[code];
    const event = code === 'TOKEN_EXPIRED' ? 'reauth' : code === 'SHUTDOWN' ? 'shutdown' : 'error';
    const payload = code === 'TOKEN_EXPIRED' ? { type: 'reauth', expires_in_s: 0 } : { type: 'error', code, message: info?.message ?? '' };
    conn.closed = true;
    this.leaveAll(conn);
    this.gw.release(conn, conn.closeReason);
    conn.res.cork(() => {
      // Still waiting to resume (no stream yet): an HTTP error instead of an event.
      if (!conn.started) return writeError(conn.res, (info ? code : 'UNAVAILABLE') as ErrorCodeName);
      conn.res.write(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
      conn.res.end();
    });
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }
}
