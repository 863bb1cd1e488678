import uWS, { type TemplatedApp, type WebSocket } from 'uWebSockets.js';
import { CloseCode, ERRORS, parseClientMessage, type CloseCodeName, type ErrorCodeName } from '@herald/protocol';
import type { Conn, ConnOps, Gateway } from '../gateway.js';
import { isIdentity, newConnId } from '../gateway.js';
import type { Identity } from '../auth.js';
import { BadCursorError } from '../resume.js';
import { takeToken } from '../limits.js';
import { bearer, readRequest, writeError } from './http.js';

interface WsConn extends Conn {
  ws: WebSocket<UserData> | undefined;
  authTimer: NodeJS.Timeout | undefined;
  authPending: boolean;
  /** Resume cursor from the upgrade (`Last-Event-ID` header or `?resume=`), for header/ticket auth. */
  cursor: number | undefined;
  /** Named rooms from `?rooms=`, joined at admission so that a resume covers them too. */
  requestedRooms: string[];
}

/** A resume cursor from a header or query value: undefined when absent, NaN when malformed. */
export function parseCursor(v: string | null | undefined): number | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  if (!/^\d{1,16}$/.test(v)) return Number.NaN;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

/**
 * uWS copies user data onto the socket object itself, where its keys would shadow the
 * socket's own methods (`end`, `send`…). So the socket carries one reference only.
 */
interface UserData {
  readonly c: WsConn;
}

const decoder = new TextDecoder();
const HARD_LIMIT_FACTOR = 8;

/**
 * WebSocket transport on uWS: authentication by first message (or Authorization on
 * the upgrade), rooms as uWS topics so a room message is one `app.publish`, limits on
 * frame size, inbound rate and send-buffer backpressure.
 */
export class WsTransport implements ConnOps {
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly app: TemplatedApp,
    private readonly gw: Gateway,
  ) {
    const c = gw.config;
    app.ws<UserData>('/ws', {
      compression: uWS.DISABLED,
      // Frames up to 2× the limit reach us and get the protocol's MESSAGE_TOO_BIG;
      // larger ones are cut off by uWS itself (close 1009) before they are buffered.
      maxPayloadLength: c.maxPayload * 2,
      idleTimeout: c.idleTimeoutS,
      sendPingsAutomatically: true,
      // Hard ceiling: past it uWS stops sending to the socket and shuts it down, so no
      // message is ever skipped silently (the client resumes). The sweep closes with
      // SLOW_CONSUMER long before: the margin covers a burst between two sweeps.
      maxBackpressure: c.maxBackpressure * HARD_LIMIT_FACTOR,
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.open(ws),
      message: (ws, message, isBinary) => this.message(ws, message, isBinary),
      drain: (ws) => this.checkBackpressure(ws.getUserData().c),
      close: (ws, code) => this.closed(ws, code),
    });
    this.sweepTimer = setInterval(() => this.sweep(), c.slowConsumerCheckMs);
    this.sweepTimer.unref();
  }

  publish(subject: string, text: string): number {
    const n = this.app.numSubscribers(subject);
    if (n > 0) this.app.publish(subject, text, false, false);
    return n;
  }

  private upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    const info = readRequest(res, req, this.gw.config.trustProxy);
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const refusal = this.gw.precheck('ws', info.ip, info.origin);
    if (refusal) {
      writeError(res, refusal.code, refusal.status);
      return;
    }
    const conn: WsConn = {
      id: newConnId(),
      transport: 'ws',
      ip: info.ip,
      identity: undefined,
      subjects: [],
      rooms: [],
      closed: false,
      closeReason: undefined,
      expSlot: 0,
      tokens: this.gw.config.msgBurst,
      last: Date.now(),
      ws: undefined,
      authTimer: undefined,
      authPending: false,
      cursor: undefined,
      requestedRooms: [],
      ops: this,
    };
    const params = new URLSearchParams(info.query);
    const ticket = params.get('ticket');
    conn.requestedRooms = (params.get('rooms') ?? '').split(',').filter(Boolean).slice(0, 64);
    if (!info.authorization && ticket === null) {
      res.upgrade<UserData>({ c: conn }, key, protocol, extensions, context);
      return;
    }
    conn.cursor = parseCursor(info.lastEventId || params.get('resume'));
    if (Number.isNaN(conn.cursor)) {
      this.gw.security('bad_message', 'malformed resume cursor on the upgrade', { ip: info.ip, transport: 'ws' });
      this.gw.failure(conn, 'bad_request');
      writeError(res, 'BAD_MESSAGE');
      return;
    }
    // Non-browser clients may authenticate on the upgrade itself; browsers with a one-time ticket.
    const token = info.authorization ? bearer(info.authorization) : undefined;
    let aborted = false;
    res.onAborted(() => (aborted = true));
    let verified: Promise<Identity | 'AUTH_FAILED' | 'REVOKED'>;
    if (ticket !== null && !info.authorization) verified = this.gw.redeemTicket(conn, ticket);
    else if (token) verified = this.gw.authenticate(conn, token);
    else {
      this.gw.security('auth_failed', 'malformed Authorization header', { ip: info.ip, transport: 'ws' });
      this.gw.failure(conn, 'auth_failed');
      verified = Promise.resolve('AUTH_FAILED');
    }
    void verified.then((identity) => {
      if (aborted) return;
      res.cork(() => {
        if (!isIdentity(identity)) {
          writeError(res, identity);
          return;
        }
        conn.identity = identity;
        res.upgrade<UserData>({ c: conn }, key, protocol, extensions, context);
      });
    });
  }

  private open(ws: WebSocket<UserData>): void {
    const conn = ws.getUserData().c;
    conn.ws = ws;
    this.gw.conns.add(conn);
    const identity = conn.identity;
    if (identity) {
      conn.identity = undefined;
      this.admit(conn, identity, conn.cursor);
      return;
    }
    conn.authTimer = setTimeout(() => {
      conn.authTimer = undefined;
      if (conn.closed || conn.identity) return;
      this.gw.security('auth_timeout', `no auth message within ${this.gw.config.authTimeoutMs} ms`, { ip: conn.ip, conn: conn.id, transport: 'ws' });
      this.gw.failure(conn, 'auth_timeout');
      this.end(conn, 'AUTH_TIMEOUT');
    }, this.gw.config.authTimeoutMs);
  }

  private admit(conn: WsConn, identity: Identity, cursor: number | undefined): void {
    const ws = conn.ws!;
    const resuming = cursor !== undefined;
    // A resuming connection joins the hub (live messages are buffered for it) but not
    // the uWS topics: it is attached to them once the replay has caught up.
    const join = resuming ? () => undefined : (s: string) => ws.subscribe(s);
    const refusal = this.gw.admit(conn, identity, join);
    if (refusal) {
      this.end(conn, refusal.code as CloseCodeName);
      return;
    }
    for (const name of conn.requestedRooms) {
      const err = this.gw.changeRoom(conn, 'subscribe', name, join, (s) => ws.unsubscribe(s));
      if (err) return this.end(conn, err as CloseCodeName);
    }
    const welcome = () =>
      ws.send(
        JSON.stringify({
          type: 'welcome',
          conn: conn.id,
          rooms: conn.rooms,
          heartbeat_s: this.gw.config.idleTimeoutS,
          expires_at: identity.exp,
        }),
      );
    if (!resuming) return void welcome();
    conn.resuming = true;
    const live = () => conn.ws;
    void this.gw
      .resumer!.resume({
        conn,
        subjects: [...conn.subjects],
        cursor,
        ready: () => live()?.cork(welcome),
        send: (text) => live()?.send(text),
        gap: () => live()?.send('{"type":"gap"}'),
        goLive: () => {
          conn.resuming = false;
          const w = live();
          if (w) for (const s of conn.subjects) w.subscribe(s);
        },
      })
      .then(
        (result) => {
          if (result === 'rejected') {
            this.gw.security('rate_limited', 'resume queue full', { ip: conn.ip, identity, conn: conn.id, transport: 'ws' });
            this.end(conn, 'RATE_LIMITED');
          } else if (result === 'error') {
            conn.closeReason = 'resume_failed';
            this.end(conn, 'SHUTDOWN');
          }
        },
        (err: unknown) => {
          if (err instanceof BadCursorError) {
            this.gw.security('bad_message', err.message, { ip: conn.ip, identity, conn: conn.id, transport: 'ws' });
            this.end(conn, 'BAD_MESSAGE');
          } else {
            this.gw.log.error({ err }, 'resume crashed');
            conn.closeReason = 'resume_failed';
            this.end(conn, 'SHUTDOWN');
          }
        },
      );
  }

  private message(ws: WebSocket<UserData>, message: ArrayBuffer, isBinary: boolean): void {
    const conn = ws.getUserData().c;
    if (conn.closed) return;
    const ctx = { ip: conn.ip, identity: conn.identity, conn: conn.id, transport: 'ws' as const };
    if (message.byteLength > this.gw.config.maxPayload) {
      this.gw.security('message_too_big', `frame of ${message.byteLength} bytes`, ctx);
      return this.reject(conn, 'MESSAGE_TOO_BIG');
    }
    if (!takeToken(conn, this.gw.config.msgRate, this.gw.config.msgBurst, Date.now())) {
      this.gw.security('rate_limited', 'inbound message rate exceeded', ctx);
      return this.reject(conn, 'RATE_LIMITED');
    }
    const msg = isBinary ? undefined : parseClientMessage(decoder.decode(message));
    this.gw.metrics.inbound.inc({ type: msg?.type ?? 'invalid' });
    if (!msg) {
      this.gw.security('bad_message', isBinary ? 'binary frame' : 'malformed or unknown message', ctx);
      return this.reject(conn, 'BAD_MESSAGE');
    }
    if (msg.type === 'auth') {
      if (conn.authPending) {
        this.gw.security('bad_message', 'auth while another auth is pending', ctx);
        return this.reject(conn, 'BAD_MESSAGE');
      }
      conn.authPending = true;
      void this.gw.authenticate(conn, msg.token).then((identity) => {
        conn.authPending = false;
        if (conn.closed) return;
        // A cursor only means something on the first auth; on a re-auth it is ignored.
        ws.cork(() => this.authenticated(conn, identity, msg.resume));
      });
      return;
    }
    if (!conn.identity) {
      this.gw.security('auth_failed', `${msg.type} before auth`, ctx);
      return this.reject(conn, 'AUTH_FAILED');
    }
    const err = this.gw.changeRoom(
      conn,
      msg.type,
      msg.room,
      (s) => ws.subscribe(s),
      (s) => ws.unsubscribe(s),
    );
    if (err === 'BAD_MESSAGE') return this.reject(conn, err);
    ws.send(JSON.stringify(err ? { type: 'error', code: err, message: ERRORS[err].message } : { type: msg.type === 'subscribe' ? 'subscribed' : 'unsubscribed', room: msg.room }));
  }

  private authenticated(conn: WsConn, identity: Identity | 'AUTH_FAILED' | 'REVOKED', cursor: number | undefined): void {
    // A refused token was already counted and logged by authenticate().
    if (!isIdentity(identity)) return this.end(conn, identity);
    if (!conn.identity) {
      if (conn.authTimer) clearTimeout(conn.authTimer);
      conn.authTimer = undefined;
      this.admit(conn, identity, cursor);
      return;
    }
    // Re-authentication on an open connection: same user and tenant only.
    const prev = conn.identity;
    if (identity.sub !== prev.sub || identity.tenant !== prev.tenant) {
      this.gw.security('forbidden', 're-auth with another sub or tenant', { ip: conn.ip, identity: prev, conn: conn.id, transport: 'ws' });
      return this.end(conn, 'FORBIDDEN');
    }
    this.gw.reauth(conn, identity);
    conn.ws!.send(JSON.stringify({ type: 'welcome', conn: conn.id, rooms: conn.rooms, heartbeat_s: this.gw.config.idleTimeoutS, expires_at: identity.exp }));
  }

  /** Close for a protocol violation; counted as a failure when the client never got in. */
  private reject(conn: WsConn, code: ErrorCodeName & CloseCodeName): void {
    if (!conn.identity) this.gw.failure(conn, code.toLowerCase());
    this.end(conn, code);
  }

  reauth(conn: Conn, expiresInS: number): void {
    (conn as WsConn).ws?.send(JSON.stringify({ type: 'reauth', expires_in_s: expiresInS }));
  }

  end(c: Conn, code: CloseCodeName): void {
    const conn = c as WsConn;
    if (conn.closed || !conn.ws) return;
    conn.closeReason ??= code.toLowerCase();
    const text = (ERRORS as Record<string, { message: string }>)[code]?.message ?? '';
    conn.ws.end(CloseCode[code], text);
  }

  private checkBackpressure(conn: WsConn): void {
    if (conn.closed || !conn.ws || !conn.identity) return;
    if (conn.ws.getBufferedAmount() > this.gw.config.maxBackpressure) {
      this.gw.metrics.dropped.inc({ reason: 'slow_consumer' });
      this.gw.security('slow_consumer', `send buffer over ${this.gw.config.maxBackpressure} bytes`, { ip: conn.ip, identity: conn.identity, conn: conn.id, transport: 'ws' });
      this.end(conn, 'SLOW_CONSUMER');
    }
  }

  /** A paused reader never triggers `drain`; a cheap periodic look at every socket's buffer catches it. */
  private sweep(): void {
    for (const conn of this.gw.conns) if (conn.transport === 'ws') this.checkBackpressure(conn as WsConn);
  }

  private closed(ws: WebSocket<UserData>, code: number): void {
    const conn = ws.getUserData().c;
    if (conn.authTimer) clearTimeout(conn.authTimer);
    conn.authTimer = undefined;
    let reason = conn.closeReason;
    if (!reason) {
      reason = code === 1000 || code === 1001 ? 'client' : code === 1009 ? 'message_too_big' : 'abnormal';
      if (code === 1009) this.gw.security('message_too_big', 'frame over the hard limit', { ip: conn.ip, identity: conn.identity, conn: conn.id, transport: 'ws' });
    }
    if (!conn.identity && !conn.closeReason) this.gw.failure(conn, reason === 'client' ? 'client_closed' : reason);
    conn.ws = undefined;
    this.gw.release(conn, reason);
    conn.closed = true;
  }

  /** Close every WebSocket with SHUTDOWN, in paced batches (see lifecycle). */
  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }
}
