import { randomBytes } from 'node:crypto';
import { ERRORS, formatRoom, parseRoom, roomSubject, type CloseCodeName, type ErrorCodeName, type Room } from '@herald/protocol';
import type { Authenticator, Identity } from './auth.js';
import { AuthError } from './auth.js';
import type { EdgeConfig } from './config.js';
import type { Hub } from './hub.js';
import { Counter, KeyedRateLimiter, type BucketState } from './limits.js';
import { logSecurity, type Logger } from './logger.js';
import type { EdgeMetrics, Transport } from './metrics.js';
import type { Resumer } from './resume.js';
import { revokes, type Revocation, type RevocationList } from './revocations.js';
import type { TicketStore } from './tickets.js';

/** One client connection, whatever its transport. Kept small: it exists 100,000 times per pod. */
export interface Conn extends BucketState {
  readonly id: string;
  readonly transport: Transport;
  readonly ip: string;
  identity: Identity | undefined;
  /** Subjects joined through the hub, parallel to `rooms`. */
  subjects: string[];
  rooms: string[];
  closed: boolean;
  /** Set when the server decides to close, so the close handler can label it. */
  closeReason: string | undefined;
  /** Second (epoch) of the expiry bucket this connection is filed under. */
  expSlot: number;
  /** Second (epoch) of the reauth-notice bucket (0 when none is due). */
  reauthSlot?: number;
  /** True while a resume replays: live fan-out is not attached yet. */
  resuming?: boolean;
  /**
   * The transport's operations on this connection. A shared object per transport, not
   * closures per connection: at 100,000 connections per pod, closures cost megabytes.
   */
  readonly ops: ConnOps;
}

export interface ConnOps {
  /** Close with the code/text the protocol defines. */
  end(conn: Conn, code: CloseCodeName): void;
  /** Send `{"type":"reauth","expires_in_s":…}` (WS message, SSE event). */
  reauth(conn: Conn, expiresInS: number): void;
}

/** What token verification gave: an identity, or the code to refuse with. */
export type AuthOutcome = Identity | 'AUTH_FAILED' | 'REVOKED';

export function isIdentity(o: AuthOutcome | undefined): o is Identity {
  return typeof o === 'object' && o !== null;
}

export interface Refusal {
  readonly code: ErrorCodeName;
  readonly status: number;
}

const podTag = randomBytes(3).toString('hex');
let counter = 0;

export function newConnId(): string {
  return `${podTag}-${(++counter).toString(36)}`;
}

/**
 * Admission and membership shared by the WebSocket and SSE transports: the origin
 * allow-list, connect-rate and capacity limits, rooms from claims, token expiry.
 * Every refusal is a metric and a structured security event; clients get only the
 * fixed text for the code.
 */
export class Gateway {
  readonly conns = new Set<Conn>();
  private readonly ipLimiter: KeyedRateLimiter;
  private readonly perUser: Counter;
  private readonly perTenant: Counter;
  private readonly origins: ReadonlySet<string>;
  private readonly expiry = new Map<number, Set<Conn>>();
  private readonly reauthDue = new Map<number, Set<Conn>>();
  private expiryTimer: NodeJS.Timeout | undefined;
  draining = false;
  /** Set by createEdge: resume (replay) and one-time tickets. */
  resumer: Resumer | undefined;
  tickets: TicketStore | undefined;

  constructor(
    readonly config: EdgeConfig,
    readonly auth: Authenticator,
    readonly hub: Hub,
    readonly metrics: EdgeMetrics,
    readonly log: Logger,
    readonly revocations?: RevocationList,
  ) {
    revocations?.onRevoke((r) => this.revoke(r));
    this.ipLimiter = new KeyedRateLimiter(config.connectRatePerIp, config.connectBurstPerIp);
    this.perUser = new Counter(config.maxConnectionsPerUser);
    this.perTenant = new Counter(config.maxConnectionsPerTenant);
    this.origins = new Set(config.allowedOrigins);
    this.expiryTimer = setInterval(() => this.expire(Math.floor(Date.now() / 1000)), 1000);
    this.expiryTimer.unref();
  }

  security(kind: string, reason: string, ctx: { ip?: string; identity?: Identity | undefined; conn?: string; transport?: Transport }): void {
    this.metrics.security.inc({ kind });
    logSecurity(this.log, {
      kind,
      reason,
      ip: ctx.ip,
      tenant: ctx.identity?.tenant,
      sub: ctx.identity?.sub,
      conn: ctx.conn,
      transport: ctx.transport,
    });
  }

  /** Checks before any authentication work: draining, origin, connect rate, pod capacity. */
  precheck(transport: Transport, ip: string, origin: string): Refusal | undefined {
    this.metrics.attempts.inc({ transport });
    if (this.draining) return this.fail(transport, 'shutdown', 'SHUTDOWN', 503);
    if (origin ? !this.origins.has(origin) : this.config.requireOrigin) {
      this.security('origin_rejected', origin ? `origin not allowed: ${origin.slice(0, 200)}` : 'origin required', { ip, transport });
      return this.fail(transport, 'origin', 'ORIGIN_NOT_ALLOWED', 403);
    }
    if (!this.ipLimiter.take(ip)) {
      this.security('rate_limited', 'connect rate per IP exceeded', { ip, transport });
      return this.fail(transport, 'rate_limited', 'RATE_LIMITED', 429);
    }
    if (this.conns.size >= this.config.maxConnections) {
      this.security('over_capacity', 'pod connection limit reached', { ip, transport });
      return this.fail(transport, 'over_capacity', 'OVER_CAPACITY', 503);
    }
    return undefined;
  }

  private fail(transport: Transport, reason: string, code: ErrorCodeName, status: number): Refusal {
    this.metrics.failures.inc({ transport, reason });
    return { code, status };
  }

  private verifying = 0;
  private readonly verifyQueue: Array<() => void> = [];

  /**
   * Verify a token and check it against the revocation list; failures are logged with
   * their real reason and counted. At most AUTH_CONCURRENCY verifications run at once,
   * the next one starting from a fresh turn of the event loop: in a reconnect storm,
   * thousands of signature checks completing together would otherwise hold up live
   * fan-out for seconds (docs/benchmarks.md, Resume).
   */
  async authenticate(conn: Conn, token: string): Promise<AuthOutcome> {
    let identity: Identity;
    // A waiter is handed the slot of the verification that finishes (never over the limit).
    if (this.verifying >= this.config.authConcurrency) await new Promise<void>((r) => this.verifyQueue.push(r));
    else this.verifying++;
    try {
      identity = await this.auth.verify(token);
    } catch (err) {
      const reason = err instanceof AuthError ? `${err.reason}: ${err.message}` : 'verification error';
      this.security('auth_failed', reason, { ip: conn.ip, conn: conn.id, transport: conn.transport });
      if (!(err instanceof AuthError)) this.log.error({ err }, 'unexpected token verification error');
      this.metrics.failures.inc({ transport: conn.transport, reason: 'auth_failed' });
      return 'AUTH_FAILED';
    } finally {
      const next = this.verifyQueue.shift();
      if (next) setImmediate(next);
      else this.verifying--;
    }
    return this.checkRevoked(conn, identity);
  }

  /** Trade a one-time ticket for the identity it was issued to; refusals are logged (never the ticket). */
  async redeemTicket(conn: Conn, ticket: string): Promise<AuthOutcome> {
    let out: Awaited<ReturnType<TicketStore['consume']>>;
    try {
      if (!this.tickets) throw new Error('no ticket store');
      out = await this.tickets.consume(ticket);
    } catch (err) {
      this.log.error({ err: String(err) }, 'ticket store unavailable');
      out = { reason: 'unknown' };
    }
    if ('reason' in out) {
      this.security('auth_failed', `ticket refused: ${out.reason}`, { ip: conn.ip, conn: conn.id, transport: conn.transport });
      this.metrics.failures.inc({ transport: conn.transport, reason: 'auth_failed' });
      return 'AUTH_FAILED';
    }
    if (out.identity.exp <= Date.now() / 1000) {
      this.security('auth_failed', 'ticket for an expired token', { ip: conn.ip, identity: out.identity, conn: conn.id, transport: conn.transport });
      this.metrics.failures.inc({ transport: conn.transport, reason: 'auth_failed' });
      return 'AUTH_FAILED';
    }
    return this.checkRevoked(conn, out.identity);
  }

  /** Refuse an identity that a revocation covers (at connect, re-auth, or ticket use). */
  checkRevoked(conn: Conn, identity: Identity): AuthOutcome {
    const r = this.revocations?.find(identity);
    if (!r) return identity;
    this.security('revoked', `token refused: revoked by ${r.kind}`, { ip: conn.ip, identity, conn: conn.id, transport: conn.transport });
    if (!conn.identity) this.metrics.failures.inc({ transport: conn.transport, reason: 'revoked' });
    return 'REVOKED';
  }

  /** Close every connection a new revocation covers, on this pod. */
  revoke(r: Revocation): void {
    const now = Date.now() / 1000;
    let n = 0;
    for (const conn of this.conns) {
      const id = conn.identity;
      if (conn.closed || !id || !revokes(r, id, now)) continue;
      this.security('revoked', `connection closed: revoked by ${r.kind}`, { ip: conn.ip, identity: id, conn: conn.id, transport: conn.transport });
      conn.closeReason = 'revoked';
      conn.ops.end(conn, 'REVOKED');
      n++;
    }
    this.log.info({ kind: r.kind, tenant: r.tenant, closed: n }, 'revocation applied');
  }

  /** Count a failure that ends an unadmitted connection (auth timeout, bad first message). */
  failure(conn: Conn, reason: string): void {
    this.metrics.failures.inc({ transport: conn.transport, reason });
  }

  /** Rooms the identity joins at connect: its user room, and tenant/global when its roles allow. */
  initialRooms(id: Identity): Room[] {
    const rooms: Room[] = [{ kind: 'user', id: id.sub }];
    const tr = this.config.tenantRoomRoles;
    if (tr.includes('*') || id.roles.some((r) => tr.includes(r))) rooms.push({ kind: 'tenant' });
    if (id.roles.some((r) => this.config.globalRoomRoles.includes(r))) rooms.push({ kind: 'global' });
    return rooms;
  }

  /**
   * Admit an authenticated connection: per-user and per-tenant limits, then rooms.
   * `join` is the transport's way of attaching a subject (uWS topic or SSE member list).
   */
  admit(conn: Conn, identity: Identity, join: (subject: string) => void): Refusal | undefined {
    const userKey = `${identity.tenant}\u0000${identity.sub}`;
    if (!this.perTenant.acquire(identity.tenant)) {
      this.security('over_capacity', 'tenant connection limit reached', { ip: conn.ip, identity, conn: conn.id, transport: conn.transport });
      return this.fail(conn.transport, 'over_capacity', 'OVER_CAPACITY', 503);
    }
    if (!this.perUser.acquire(userKey)) {
      this.perTenant.release(identity.tenant);
      this.security('over_capacity', 'user connection limit reached', { ip: conn.ip, identity, conn: conn.id, transport: conn.transport });
      return this.fail(conn.transport, 'over_capacity', 'OVER_CAPACITY', 503);
    }
    conn.identity = identity;
    for (const room of this.initialRooms(identity)) this.addRoom(conn, room, join);
    this.fileExpiry(conn, identity.exp);
    this.metrics.opened.inc({ transport: conn.transport });
    this.metrics.connections.inc({ transport: conn.transport });
    if (this.metrics.tenant) this.metrics.tenant.connections.inc({ tenant: this.metrics.tenant.label(identity.tenant) });
    return undefined;
  }

  private addRoom(conn: Conn, room: Room, join: (subject: string) => void): void {
    const subject = roomSubject(this.config.subjectPrefix, 'live', conn.identity!.tenant, room);
    conn.subjects.push(subject);
    conn.rooms.push(formatRoom(room));
    this.hub.join(subject);
    join(subject);
  }

  /**
   * A client asks to join or leave a named room. Only `room:<name>` rooms granted by
   * the token can be joined this way; user/tenant/global come from claims alone.
   */
  changeRoom(conn: Conn, op: 'subscribe' | 'unsubscribe', name: string, join: (s: string) => void, leave: (s: string) => void): ErrorCodeName | undefined {
    const identity = conn.identity!;
    const room = parseRoom(name);
    if (!room) return 'BAD_MESSAGE';
    if (room.kind !== 'room' || !identity.grantedRooms.has(room.id)) {
      this.security('forbidden', `${op} to a room the token does not grant`, { ip: conn.ip, identity, conn: conn.id, transport: conn.transport });
      return 'FORBIDDEN';
    }
    const idx = conn.rooms.indexOf(name);
    if (op === 'subscribe') {
      if (idx < 0) this.addRoom(conn, room, join);
      return undefined;
    }
    if (idx >= 0) {
      const subject = conn.subjects[idx]!;
      conn.rooms.splice(idx, 1);
      conn.subjects.splice(idx, 1);
      leave(subject);
      this.hub.leave(subject);
    }
    return undefined;
  }

  /** A fresh token for the same user on an open connection: new expiry, same rooms. */
  reauth(conn: Conn, identity: Identity): void {
    this.unfileExpiry(conn);
    conn.identity = identity;
    this.fileExpiry(conn, identity.exp);
  }

  /** Forget a closed connection: rooms, counters, metrics. Idempotent. */
  release(conn: Conn, reason: string): void {
    if (!this.conns.delete(conn)) return;
    conn.closed = true;
    const identity = conn.identity;
    if (!identity) return;
    for (const s of conn.subjects) this.hub.leave(s);
    conn.subjects = [];
    this.perTenant.release(identity.tenant);
    this.perUser.release(`${identity.tenant}\u0000${identity.sub}`);
    this.unfileExpiry(conn);
    this.metrics.connections.dec({ transport: conn.transport });
    this.metrics.closed.inc({ transport: conn.transport, reason });
    if (this.metrics.tenant) this.metrics.tenant.connections.dec({ tenant: this.metrics.tenant.label(identity.tenant) });
  }

  /** Client text for an error code. */
  text(code: ErrorCodeName): string {
    return ERRORS[code].message;
  }

  private fileExpiry(conn: Conn, exp: number): void {
    conn.expSlot = exp;
    let set = this.expiry.get(exp);
    if (!set) this.expiry.set(exp, (set = new Set()));
    set.add(conn);
    // The reauth notice: REAUTH_BEFORE_S before expiry, but at most 10 % of the lifetime left.
    const nowS = Math.floor(Date.now() / 1000);
    const lead = Math.min(this.config.reauthBeforeS, Math.max(1, Math.floor((exp - nowS) / 10)));
    const at = exp - lead;
    if (at <= nowS) return;
    conn.reauthSlot = at;
    let due = this.reauthDue.get(at);
    if (!due) this.reauthDue.set(at, (due = new Set()));
    due.add(conn);
  }

  private unfileExpiry(conn: Conn): void {
    const set = this.expiry.get(conn.expSlot);
    if (set) {
      set.delete(conn);
      if (set.size === 0) this.expiry.delete(conn.expSlot);
    }
    if (conn.reauthSlot) {
      const due = this.reauthDue.get(conn.reauthSlot);
      due?.delete(conn);
      if (due?.size === 0) this.reauthDue.delete(conn.reauthSlot);
      conn.reauthSlot = 0;
    }
  }

  /** Close connections whose token has expired, after telling them shortly before. One timer for the pod, buckets by second. */
  expire(nowS: number): void {
    for (const [slot, set] of this.reauthDue) {
      if (slot > nowS) continue;
      this.reauthDue.delete(slot);
      for (const conn of set) {
        conn.reauthSlot = 0;
        if (conn.closed || !conn.identity) continue;
        conn.ops.reauth(conn, Math.max(0, conn.identity.exp - nowS));
      }
    }
    for (const [slot, set] of this.expiry) {
      if (slot > nowS) continue;
      this.expiry.delete(slot);
      for (const conn of set) {
        if (conn.closed) continue;
        conn.closeReason = 'token_expired';
        conn.ops.end(conn, 'TOKEN_EXPIRED');
      }
    }
  }

  stop(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
    this.revocations?.stop();
  }
}
