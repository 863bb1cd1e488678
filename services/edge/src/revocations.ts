import { createHash } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { controlSubject, isValidId } from '@herald/protocol';
import type { Identity } from './auth.js';
import type { Bus, BusSubscription } from './bus/bus.js';
import type { Logger } from './logger.js';

/**
 * A revocation as the publisher stores it (KV value) and broadcasts it (control
 * subject). Tokens it matches that were issued at or before `at` are refused until
 * `until`; a token issued later (a fresh login) is not affected, except by `jti`.
 */
export interface Revocation {
  readonly kind: 'sub' | 'jti' | 'tenant';
  readonly tenant?: string;
  readonly sub?: string;
  readonly jti?: string;
  /** Seconds since the epoch: when it was revoked. */
  readonly at: number;
  /** Seconds since the epoch: when the revocation may be forgotten (every matching token has expired). */
  readonly until: number;
}

/** KV key of a revocation. jti values are arbitrary strings, so they are hashed into a key. */
export function revocationKey(r: Pick<Revocation, 'kind' | 'tenant' | 'sub' | 'jti'>): string {
  switch (r.kind) {
    case 'sub':
      return `sub.${r.tenant}.${r.sub}`;
    case 'tenant':
      return `tenant.${r.tenant}`;
    case 'jti':
      return `jti.${jtiHash(r.jti!)}`;
  }
}

export function jtiHash(jti: string): string {
  return createHash('sha256').update(jti).digest('base64url');
}

/** Parse an untrusted revocation body (KV value or broadcast); undefined when malformed. */
export function parseRevocation(text: string): Revocation | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.at !== 'number' || typeof r.until !== 'number') return undefined;
  const base = { at: r.at, until: r.until };
  switch (r.kind) {
    case 'sub':
      if (!isValidId(r.tenant) || !isValidId(r.sub)) return undefined;
      return { kind: 'sub', tenant: r.tenant, sub: r.sub, ...base };
    case 'tenant':
      if (!isValidId(r.tenant)) return undefined;
      return { kind: 'tenant', tenant: r.tenant, ...base };
    case 'jti':
      if (typeof r.jti !== 'string' || r.jti.length === 0 || r.jti.length > 256) return undefined;
      if (r.tenant !== undefined && !isValidId(r.tenant)) return undefined;
      return { kind: 'jti', jti: r.jti, ...(typeof r.tenant === 'string' ? { tenant: r.tenant } : {}), ...base };
    default:
      return undefined;
  }
}

/** True when `r` revokes the token behind `id` (at `nowS`). */
export function revokes(r: Revocation, id: Identity, nowS: number): boolean {
  if (r.until <= nowS) return false;
  switch (r.kind) {
    case 'jti':
      return id.jti === r.jti && (r.tenant === undefined || r.tenant === id.tenant);
    case 'sub':
      return id.tenant === r.tenant && id.sub === r.sub && (id.iat === undefined || id.iat <= r.at);
    case 'tenant':
      return id.tenant === r.tenant && (id.iat === undefined || id.iat <= r.at);
  }
}

/**
 * Every edge's copy of the revocation list: loaded from the KV bucket at start (so an
 * edge started after a revocation refuses the token too), kept current by a KV watch
 * and by the core-NATS broadcast (whichever arrives first; applying twice is harmless).
 * Lookups at connect are three map reads.
 */
export class RevocationList {
  private readonly byKey = new Map<string, Revocation>();
  private readonly listeners: Array<(r: Revocation) => void> = [];
  private sub: BusSubscription | undefined;
  private kv: KV | undefined;
  private stopWatch: (() => void) | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger) {}

  get size(): number {
    return this.byKey.size;
  }

  /** Called for every newly applied revocation (the gateway closes matching connections). */
  onRevoke(fn: (r: Revocation) => void): void {
    this.listeners.push(fn);
  }

  apply(r: Revocation): void {
    if (r.until <= Date.now() / 1000) return;
    const key = revocationKey(r);
    const prev = this.byKey.get(key);
    if (prev && prev.at >= r.at && prev.until >= r.until) return;
    this.byKey.set(key, r);
    for (const l of this.listeners) l(r);
  }

  /** The revocation that refuses this identity, if any. */
  find(id: Identity, nowS = Date.now() / 1000): Revocation | undefined {
    const keys = [`tenant.${id.tenant}`, `sub.${id.tenant}.${id.sub}`];
    if (id.jti !== undefined) keys.push(`jti.${jtiHash(id.jti)}`);
    for (const k of keys) {
      const r = this.byKey.get(k);
      if (r && revokes(r, id, nowS)) return r;
    }
    return undefined;
  }

  /** Listen on the broadcast subject (works on any bus). */
  listen(bus: Bus, prefix: string): void {
    const decoder = new TextDecoder();
    this.sub = bus.subscribe(controlSubject(prefix, 'revocations'), (m) => {
      const r = parseRevocation(decoder.decode(m.data));
      if (!r) {
        this.log.warn({ bytes: m.data.length }, 'ignored a malformed revocation broadcast');
        return;
      }
      this.apply(r);
    });
    this.pruneTimer = setInterval(() => this.prune(), 60_000);
    this.pruneTimer.unref();
  }

  /**
   * Load the KV bucket and watch it. Opens the bucket, creating it when it does not
   * exist yet (a fresh installation where no revocation was ever made).
   */
  async load(nc: NatsConnection, bucket: string, ttlMs: number): Promise<void> {
    const kv = await openBucket(nc, bucket, ttlMs);
    if (!kv) {
      // The bucket does not exist and these credentials may not create it: no revocation
      // was ever stored, so start with an empty list (broadcasts still apply) and look again.
      this.log.warn({ bucket }, 'revocations bucket missing and cannot be created; retrying every 5 s');
      this.retryTimer = setTimeout(() => void this.load(nc, bucket, ttlMs).catch((err: unknown) => this.log.error({ err: String(err) }, 'cannot load revocations')), 5_000);
      this.retryTimer.unref();
      return;
    }
    this.kv = kv;
    const decoder = new TextDecoder();
    const watch = await kv.watch({ include: 'updates' });
    this.stopWatch = () => watch.stop();
    void (async () => {
      for await (const e of watch) {
        if (e.operation !== 'PUT') continue;
        const r = parseRevocation(decoder.decode(e.value));
        if (r) this.apply(r);
      }
    })().catch((err: unknown) => this.log.warn({ err: String(err) }, 'revocation watch ended'));
    let n = 0;
    for await (const key of await kv.keys()) {
      const e = await kv.get(key);
      if (!e || e.operation !== 'PUT') continue;
      const r = parseRevocation(decoder.decode(e.value));
      if (r) {
        this.apply(r);
        n++;
      }
    }
    this.log.info({ bucket, loaded: n }, 'revocations loaded');
  }

  private prune(): void {
    const now = Date.now() / 1000;
    for (const [k, r] of this.byKey) if (r.until <= now) this.byKey.delete(k);
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.stopWatch?.();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.kv = undefined;
  }
}

/**
 * Open a KV bucket, creating it when it does not exist. Undefined when it does not exist
 * and cannot be created (least-privilege credentials); any other failure (the bucket
 * exists but cannot be read) is thrown, so a misconfiguration is loud.
 */
export async function openBucket(nc: NatsConnection, bucket: string, ttlMs: number): Promise<KV | undefined> {
  const kvm = new Kvm(nc);
  try {
    const kv = await kvm.open(bucket);
    await kv.status();
    return kv;
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  try {
    return await kvm.create(bucket, { history: 1, ttl: ttlMs });
  } catch {
    return undefined;
  }
}

function isMissing(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 10059 || /not found/i.test(String(err));
}
