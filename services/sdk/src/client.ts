import {
  CloseCode,
  closeClass,
  closeCodeName,
  ERRORS,
  shouldReconnect,
  type AuthMessage,
  type ErrorCodeName,
  type NotificationEnvelope,
  type ServerMessage,
} from '@herald/protocol';
import { Backoff, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { httpRefusalCode, openSse, type FetchLike } from './transports/sse.js';
import type { Transport, TransportKind } from './transports/transport.js';

/** WebSocket attempts that must fail before opening, in a row, before the client falls back to SSE. */
const WS_FAILURES_BEFORE_SSE = 2;
import { openWebSocket, type WebSocketConstructor } from './transports/ws.js';

export type TokenReason = 'connect' | 'expired' | 'reauth';

export interface HeraldClientOptions {
  /** The edge: `https://notify.example.com` (or `http://127.0.0.1:8080`); `ws(s)://` works too. */
  readonly url: string;
  /**
   * Returns a valid access token. Called for the first connection, after the server
   * closed with TOKEN_EXPIRED, and when the server asks to re-authenticate (`reauth`)
   * or the token is about to expire.
   */
  readonly getToken: (reason: TokenReason) => string | Promise<string>;
  /** WebSocket constructor; default `globalThis.WebSocket`. Node 20 has none: pass `ws`'s. */
  readonly WebSocket?: WebSocketConstructor | undefined;
  /** fetch for SSE and tickets; default `globalThis.fetch`. */
  readonly fetch?: FetchLike | undefined;
  /** Transports in order of preference. Default `['ws', 'sse']`: SSE when WebSocket is refused. */
  readonly transports?: readonly TransportKind[];
  /**
   * How SSE authenticates: `ticket` = one-time ticket from `POST /v1/tickets` in the URL,
   * `header` = `Authorization: Bearer`. `auto` (default) tries tickets and falls back to the
   * header when the edge has no ticket endpoint.
   */
  readonly sseAuth?: 'auto' | 'ticket' | 'header';
  /** Reconnect schedule: full jitter, `[0, min(capMs, baseMs·2^n)]`. Defaults 500 ms and 30 s. */
  readonly backoff?: BackoffOptions;
  /** Resume cursor to start from (a `seq` the app stored earlier). */
  readonly resume?: number | undefined;
  /** Named rooms (`room:<name>`) to join on every connection. */
  readonly rooms?: readonly string[];
  /** Fetch a new token this long before it expires and re-authenticate in place. Default 30 s; 0 disables. */
  readonly refreshBeforeMs?: number;
  /** A connection that shows no welcome within this time is abandoned and retried. Default 15 s. */
  readonly connectTimeoutMs?: number;
  /** Connect in the constructor. Default true. */
  readonly autoConnect?: boolean;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ConnectedEvent {
  readonly transport: TransportKind;
  readonly conn: string;
  readonly rooms: readonly string[];
  /** Token expiry, seconds since the epoch. */
  readonly expiresAt: number;
  /** The cursor sent to the server (undefined on a fresh start). */
  readonly resumedFrom: number | undefined;
}

export interface DisconnectedEvent {
  readonly code: number;
  /** The protocol's name for the code (`SHUTDOWN`, `AUTH_FAILED`…) when it has one. */
  readonly name: string | undefined;
  readonly reason: string;
  readonly transport: TransportKind;
  readonly willRetry: boolean;
  /** When willRetry: the delay before the next attempt, ms. */
  readonly retryInMs: number | undefined;
}

export interface GapEvent {
  /** The cursor the client asked to resume from; notifications after it were lost. */
  readonly cursor: number | undefined;
}

export interface HeraldErrorEvent {
  /** Protocol error code (`FORBIDDEN`, `AUTH_FAILED`…) or `TOKEN_PROVIDER` when getToken failed. */
  readonly code: ErrorCodeName | 'TOKEN_PROVIDER';
  readonly message: string;
  /** True when the client stopped for good (needs new credentials or a fixed client). */
  readonly fatal: boolean;
  readonly cause?: unknown;
}

export interface HeraldEvents {
  notification: NotificationEnvelope;
  connected: ConnectedEvent;
  disconnected: DisconnectedEvent;
  gap: GapEvent;
  error: HeraldErrorEvent;
  state: ConnectionState;
}

type Timer = ReturnType<typeof setTimeout>;

/**
 * A Herald connection that stays up: WebSocket first, SSE when WebSocket is refused,
 * reconnect with capped full-jitter backoff on 4000–4499 and network failures, stop on
 * 4500–4999, resume from the last `seq`, refresh tokens in place.
 */
export class HeraldClient extends Emitter<HeraldEvents> {
  private readonly opts: HeraldClientOptions;
  private readonly backoff: Backoff;
  private readonly rooms: Set<string>;
  private readonly httpBase: string;
  private readonly wsUrl: string;
  private transport: Transport | undefined;
  private current: TransportKind = 'ws';
  private token: string | undefined;
  private seq: number | undefined;
  private stateValue: ConnectionState = 'idle';
  private retryTimer: Timer | undefined;
  private welcomeTimer: Timer | undefined;
  private refreshTimer: Timer | undefined;
  /**
   * WebSocket attempts in a row that never opened (reset when one opens). Once at the
   * threshold, each later refusal falls back to SSE at once; every reconnect still tries
   * WebSocket first, so a client that fell back during a restart returns to it.
   */
  private wsOpenFailures = 0;
  private tickets: boolean | undefined;
  private generation = 0;
  private refreshing = false;

  constructor(opts: HeraldClientOptions) {
    super();
    this.opts = opts;
    this.backoff = new Backoff(opts.backoff);
    this.rooms = new Set(opts.rooms ?? []);
    this.seq = opts.resume;
    const u = new URL(opts.url);
    const secure = u.protocol === 'https:' || u.protocol === 'wss:';
    const host = u.host;
    const path = u.pathname.replace(/\/+$/, '').replace(/\/(ws|sse)$/, '');
    this.httpBase = `${secure ? 'https' : 'http'}://${host}${path}/`;
    this.wsUrl = `${secure ? 'wss' : 'ws'}://${host}${path}/ws`;
    if (opts.autoConnect ?? true) this.connect();
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The resume cursor: the `seq` of the last notification received. Store it to resume after a page reload. */
  get cursor(): number | undefined {
    return this.seq;
  }

  /** The transport in use (or last used). */
  get transportKind(): TransportKind {
    return this.current;
  }

  /** Start (or restart after close()). */
  connect(): void {
    if (this.stateValue === 'connecting' || this.stateValue === 'connected' || this.stateValue === 'reconnecting') return;
    this.backoff.reset();
    // A fresh start asks getToken(): the client may have stopped because its token was refused.
    this.token = undefined;
    this.setState('connecting');
    void this.attempt('connect');
  }

  /** Join a named room granted by the token; kept across reconnects. */
  subscribe(room: string): void {
    if (this.rooms.has(room)) return;
    this.rooms.add(room);
    this.roomsChanged({ type: 'subscribe', room });
  }

  unsubscribe(room: string): void {
    if (!this.rooms.delete(room)) return;
    this.roomsChanged({ type: 'unsubscribe', room });
  }

  /** Close for good (until connect() is called again). */
  close(): void {
    const t = this.transport;
    const wasUp = this.stateValue === 'connected';
    this.stop();
    this.setState('closed');
    if (t && wasUp) this.emitDisconnected(CloseCode.NORMAL, 'closed by client', t.kind, false, undefined);
  }

  private stop(): void {
    this.generation++;
    this.transport?.close();
    this.transport = undefined;
    for (const t of [this.retryTimer, this.welcomeTimer, this.refreshTimer]) if (t) clearTimeout(t);
    this.retryTimer = this.welcomeTimer = this.refreshTimer = undefined;
  }

  private setState(s: ConnectionState): void {
    if (this.stateValue === s) return;
    this.stateValue = s;
    this.emit('state', s);
  }

  private roomsChanged(msg: { type: 'subscribe' | 'unsubscribe'; room: string }): void {
    const t = this.transport;
    if (!t || this.stateValue !== 'connected') return; // sent with the next connection
    if (t.kind === 'ws') {
      t.send(msg);
      return;
    }
    // SSE rooms are fixed per request: reopen with the cursor, nothing is lost.
    this.restart('rooms changed');
  }

  /** Reconnect now without backoff (SSE room change or token refresh); the cursor makes it lossless. */
  private restart(reason: string): void {
    const kind = this.transport?.kind ?? this.current;
    this.stop();
    this.emitDisconnected(CloseCode.NORMAL, reason, kind, true, 0);
    this.setState('reconnecting');
    void this.attempt('connect');
  }

  private async fetchToken(reason: TokenReason): Promise<string | undefined> {
    try {
      const token = await this.opts.getToken(reason);
      if (typeof token !== 'string' || token === '') throw new Error('getToken returned no token');
      this.token = token;
      return token;
    } catch (cause) {
      this.emit('error', { code: 'TOKEN_PROVIDER', message: 'Could not get a token.', fatal: false, cause });
      return undefined;
    }
  }

  private async attempt(reason: TokenReason): Promise<void> {
    const gen = ++this.generation;
    const token = this.token !== undefined && reason === 'connect' ? this.token : await this.fetchToken(reason);
    if (gen !== this.generation) return;
    if (token === undefined) return this.scheduleRetry(1006, 'no token', this.current);
    const kinds = this.opts.transports ?? ['ws', 'sse'];
    const WS = this.opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    const useWs = kinds.includes('ws') && WS !== undefined;
    if (useWs) this.openWs(WS, token, gen);
    else if (kinds.includes('sse')) await this.openSse(token, gen);
    else {
      this.stop();
      this.setState('closed');
      this.emit('error', { code: 'UNAVAILABLE', message: 'No usable transport (no WebSocket implementation and SSE disabled).', fatal: true });
    }
  }

  private openWs(WS: WebSocketConstructor, token: string, gen: number): void {
    this.current = 'ws';
    const auth: AuthMessage = this.seq === undefined ? { type: 'auth', token } : { type: 'auth', token, resume: this.seq };
    this.transport = openWebSocket(WS, this.wsUrl, auth, {
      open: () => {
        this.wsOpenFailures = 0;
      },
      message: (m) => this.onMessage(m, gen),
      close: (code, why, opened) => {
        if (gen !== this.generation) return;
        this.transport = undefined;
        // Refused before opening twice in a row (proxy without WebSocket, blocked upgrade):
        // try SSE at once. A single refusal is more often a server restarting, which the
        // normal backoff handles without leaving WebSocket.
        const kinds = this.opts.transports ?? ['ws', 'sse'];
        if (!opened && ++this.wsOpenFailures >= WS_FAILURES_BEFORE_SSE && kinds.includes('sse')) {
          void this.openSse(token, gen, true);
          return;
        }
        this.onClose(code, why, 'ws');
      },
    });
    this.armWelcomeTimer(gen);
  }

  private async openSse(token: string, gen: number, afterWsFailure = false): Promise<void> {
    this.current = 'sse';
    const fetchFn = this.opts.fetch ?? (globalThis.fetch?.bind(globalThis) as FetchLike | undefined);
    if (!fetchFn) return this.onClose(1006, 'no fetch', 'sse');
    let ticket: string | undefined;
    const mode = this.opts.sseAuth ?? 'auto';
    if (mode === 'ticket' || (mode === 'auto' && this.tickets !== false)) {
      const t = await this.fetchTicket(fetchFn, token);
      if (gen !== this.generation) return;
      if (typeof t === 'string') ticket = t;
      // Refused for a reason a header would not fix (bad token, origin), tickets are required,
      // or the endpoint is known to work and failed for now (edge restarting): back off and
      // retry rather than quietly move the token into a header.
      else if (t !== undefined && (closeClass(t) === 'fatal' || mode === 'ticket' || this.tickets === true)) return this.onClose(t, 'ticket refused', 'sse');
      else if (mode === 'ticket') return this.onClose(1002, 'no ticket endpoint', 'sse');
    }
    this.transport = openSse(
      { baseUrl: this.httpBase, token, ticket, resume: this.seq, rooms: [...this.rooms], fetch: fetchFn },
      {
        open: () => undefined,
        message: (m) => this.onMessage(m, gen),
        close: (code, why) => {
          if (gen !== this.generation) return;
          this.transport = undefined;
          this.onClose(code, why, 'sse');
        },
      },
    );
    if (!afterWsFailure) this.armWelcomeTimer(gen);
  }

  /**
   * A one-time ticket; undefined when the edge has no ticket endpoint (404/405: remembered)
   * or could not issue one now; a close code when the request was refused.
   */
  private async fetchTicket(fetchFn: FetchLike, token: string): Promise<string | undefined | number> {
    let res: Response;
    try {
      res = await fetchFn(new URL('v1/tickets', this.httpBase).toString(), { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    } catch {
      return 1006;
    }
    if (res.status === 404 || res.status === 405) {
      this.tickets = false;
      return undefined;
    }
    let body: { ticket?: unknown; code?: string } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      // not JSON
    }
    if (res.ok && typeof body.ticket === 'string') {
      this.tickets = true;
      return body.ticket;
    }
    return httpRefusalCode(res.status, body.code);
  }

  private armWelcomeTimer(gen: number): void {
    if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
    this.welcomeTimer = setTimeout(() => {
      this.welcomeTimer = undefined;
      if (gen !== this.generation || this.stateValue === 'connected') return;
      const kind = this.transport?.kind ?? this.current;
      this.transport?.close();
      this.transport = undefined;
      this.generation++;
      this.onClose(1006, 'no welcome in time', kind);
    }, this.opts.connectTimeoutMs ?? 15_000);
  }

  private onMessage(m: ServerMessage, gen: number): void {
    if (gen !== this.generation) return;
    switch (m.type) {
      case 'notification':
        // Never deliver twice: a replay overlapping what this client saw is dropped here.
        if (m.seq !== undefined) {
          if (this.seq !== undefined && m.seq <= this.seq) return;
          this.seq = m.seq;
        }
        this.emit('notification', m);
        return;
      case 'welcome': {
        if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
        this.welcomeTimer = undefined;
        this.scheduleRefresh(m.expires_at, gen);
        if (this.stateValue === 'connected') return; // acknowledgement of an in-place re-auth
        this.backoff.reset();
        this.setState('connected');
        const kind = this.transport?.kind ?? this.current;
        // Rooms joined while disconnected (or before a reconnect) go out again now.
        if (kind === 'ws') for (const room of this.rooms) this.transport?.send({ type: 'subscribe', room });
        this.emit('connected', { transport: kind, conn: m.conn, rooms: m.rooms, expiresAt: m.expires_at, resumedFrom: this.seq });
        return;
      }
      case 'gap':
        this.emit('gap', { cursor: this.seq });
        return;
      case 'reauth':
        void this.reauthenticate(gen);
        return;
      case 'error':
        this.emit('error', { code: m.code, message: m.message, fatal: false });
        return;
      default:
        return;
    }
  }

  private scheduleRefresh(expiresAt: number, gen: number): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    const before = this.opts.refreshBeforeMs ?? 30_000;
    if (before <= 0 || !expiresAt) return;
    const inMs = Math.max(0, expiresAt * 1000 - Date.now() - before);
    // Timers beyond ~24.8 days overflow; a token that long-lived needs no refresh timer.
    if (inMs > 2 ** 31 - 1) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.reauthenticate(gen);
    }, inMs);
  }

  /** New token in place: an `auth` message on the open WebSocket; SSE reopens with its cursor. */
  private async reauthenticate(gen: number): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const token = await this.fetchToken('reauth');
      if (gen !== this.generation || token === undefined) return;
      const t = this.transport;
      if (t?.kind === 'ws' && t.send({ type: 'auth', token })) return;
      this.restart('token refresh');
    } finally {
      this.refreshing = false;
    }
  }

  private onClose(code: number, why: string, kind: TransportKind): void {
    if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.welcomeTimer = this.refreshTimer = undefined;
    if (code === CloseCode.TOKEN_EXPIRED) {
      // A fresh token is needed: forget the old one so the next attempt asks getToken().
      this.token = undefined;
      return this.scheduleRetry(code, why, kind, 'expired');
    }
    if (shouldReconnect(code)) {
      if (code === CloseCode.RATE_LIMITED || code === CloseCode.OVER_CAPACITY) this.backoff.atLeast(3);
      return this.scheduleRetry(code, why, kind);
    }
    this.stop();
    this.setState('closed');
    this.emitDisconnected(code, why, kind, false, undefined);
    if (closeClass(code) === 'fatal') {
      const name = closeCodeName(code) as ErrorCodeName | undefined;
      const info = name ? ERRORS[name] : undefined;
      this.emit('error', { code: name ?? 'AUTH_FAILED', message: info?.message ?? why, fatal: true });
    }
  }

  private scheduleRetry(code: number, why: string, kind: TransportKind, tokenReason: TokenReason = 'connect'): void {
    const delay = this.backoff.next();
    const gen = ++this.generation;
    this.setState('reconnecting');
    this.emitDisconnected(code, why, kind, true, delay);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (gen !== this.generation) return;
      void this.attempt(tokenReason);
    }, delay);
  }

  private emitDisconnected(code: number, reason: string, transport: TransportKind, willRetry: boolean, retryInMs: number | undefined): void {
    this.emit('disconnected', { code, name: closeCodeName(code), reason, transport, willRetry, retryInMs });
  }
}
