import { createHash, randomBytes } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { isValidId } from '@herald/protocol';
import type { Identity } from './auth.js';
import { openBucket } from './revocations.js';

/**
 * One-time tickets: a browser cannot put a bearer token on an EventSource or a
 * WebSocket without putting it in the URL, so it trades the token for a ticket that
 * is valid for a few seconds and for exactly one connection, cluster-wide.
 */
export interface TicketStore {
  /** A fresh ticket for this identity. */
  issue(identity: Identity): Promise<string>;
  /** The identity behind a ticket, consuming it; why not otherwise (for the log only). */
  consume(ticket: string): Promise<{ identity: Identity } | { reason: 'unknown' | 'expired' | 'used' | 'malformed' }>;
}

/** 32 random bytes, base64url: 43 characters. */
const TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newTicket(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The KV key is a hash of the ticket, so whoever can read the bucket (operators,
 * other edges) cannot use what they see.
 */
export function ticketKey(ticket: string): string {
  return createHash('sha256').update(ticket).digest('hex');
}

interface StoredIdentity {
  sub: string;
  tenant: string;
  roles: string[];
  rooms: string[];
  exp: number;
  jti?: string;
  iat?: number;
  /** Ticket expiry, ms since the epoch. */
  until: number;
}

function toStored(id: Identity, until: number): StoredIdentity {
  return {
    sub: id.sub,
    tenant: id.tenant,
    roles: [...id.roles],
    rooms: [...id.grantedRooms],
    exp: id.exp,
    ...(id.jti !== undefined ? { jti: id.jti } : {}),
    ...(id.iat !== undefined ? { iat: id.iat } : {}),
    until,
  };
}

function fromStored(s: StoredIdentity): Identity | undefined {
  if (!isValidId(s.sub) || !isValidId(s.tenant) || typeof s.exp !== 'number' || !Array.isArray(s.roles) || !Array.isArray(s.rooms)) return undefined;
  return { sub: s.sub, tenant: s.tenant, roles: s.roles, grantedRooms: new Set(s.rooms), exp: s.exp, jti: s.jti, iat: s.iat };
}

/**
 * Tickets in a NATS KV bucket whose TTL is the ticket lifetime. Issue is a
 * create-if-absent; consume reads the entry and deletes it only if it is still the
 * revision read (`previousSeq`), so when two edges race for one ticket exactly one
 * delete succeeds and only that edge admits the connection.
 */
export class KvTicketStore implements TicketStore {
  private constructor(
    private readonly kv: KV,
    private readonly ttlMs: number,
  ) {}

  /** Undefined when the bucket is missing and cannot be created with these credentials. */
  static async open(nc: NatsConnection, bucket: string, ttlS: number): Promise<KvTicketStore | undefined> {
    const kv = await openBucket(nc, bucket, ttlS * 1000);
    return kv ? new KvTicketStore(kv, ttlS * 1000) : undefined;
  }

  async issue(identity: Identity): Promise<string> {
    const ticket = newTicket();
    await this.kv.create(ticketKey(ticket), JSON.stringify(toStored(identity, Date.now() + this.ttlMs)));
    return ticket;
  }

  async consume(ticket: string): Promise<{ identity: Identity } | { reason: 'unknown' | 'expired' | 'used' | 'malformed' }> {
    if (!TICKET_PATTERN.test(ticket)) return { reason: 'malformed' };
    const key = ticketKey(ticket);
    const e = await this.kv.get(key);
    if (!e) return { reason: 'unknown' };
    if (e.operation !== 'PUT') return { reason: 'used' };
    let stored: StoredIdentity;
    try {
      stored = JSON.parse(new TextDecoder().decode(e.value)) as StoredIdentity;
    } catch {
      return { reason: 'malformed' };
    }
    // Expired but not yet removed by the bucket's TTL: refuse without spending it.
    if (typeof stored.until !== 'number' || stored.until <= Date.now()) return { reason: 'expired' };
    try {
      await this.kv.delete(key, { previousSeq: e.revision });
    } catch {
      // Another edge deleted it first (wrong last sequence): it was used there.
      return { reason: 'used' };
    }
    const identity = fromStored(stored);
    return identity ? { identity } : { reason: 'malformed' };
  }
}

/** Tickets for a single process (standalone mode, tests without NATS). */
export class MemoryTicketStore implements TicketStore {
  private readonly tickets = new Map<string, StoredIdentity>();
  constructor(private readonly ttlMs: number) {}

  async issue(identity: Identity): Promise<string> {
    const now = Date.now();
    for (const [k, v] of this.tickets) if (v.until <= now) this.tickets.delete(k);
    const ticket = newTicket();
    this.tickets.set(ticketKey(ticket), toStored(identity, now + this.ttlMs));
    return ticket;
  }

  async consume(ticket: string): Promise<{ identity: Identity } | { reason: 'unknown' | 'expired' | 'used' | 'malformed' }> {
    if (!TICKET_PATTERN.test(ticket)) return { reason: 'malformed' };
    const key = ticketKey(ticket);
    const s = this.tickets.get(key);
    if (!s) return { reason: 'unknown' };
    this.tickets.delete(key);
    if (s.until <= Date.now()) return { reason: 'expired' };
    const identity = fromStored(s);
    return identity ? { identity } : { reason: 'malformed' };
  }
}

/**
 * Opens the KV ticket store on first use and again after a failure (at most every 5 s),
 * so an edge starts even when the bucket is not there yet; meanwhile tickets are
 * refused (503 on issue, 401 on use), never accepted without the cluster-wide check.
 */
export class LazyTicketStore implements TicketStore {
  private store: KvTicketStore | undefined;
  private opening: Promise<KvTicketStore | undefined> | undefined;
  private lastTry = 0;

  constructor(private readonly open: () => Promise<KvTicketStore | undefined>) {}

  private async get(): Promise<KvTicketStore> {
    if (this.store) return this.store;
    if (!this.opening && Date.now() - this.lastTry >= 5_000) {
      this.lastTry = Date.now();
      this.opening = this.open().finally(() => (this.opening = undefined));
    }
    this.store = await (this.opening ?? Promise.resolve(undefined));
    if (!this.store) throw new Error('tickets bucket unavailable');
    return this.store;
  }

  async issue(identity: Identity): Promise<string> {
    return (await this.get()).issue(identity);
  }

  async consume(ticket: string): ReturnType<TicketStore['consume']> {
    return (await this.get()).consume(ticket);
  }
}
