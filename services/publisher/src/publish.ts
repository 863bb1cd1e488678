import { formatRoom, parseRoom, roomSubject, type StoredNotification } from '@herald/protocol';
import { requireScope, requireTenant, SCOPES, type ServicePrincipal } from './auth.js';
import { UnavailableError, type PublishBus } from './bus/bus.js';
import type { PublisherConfig } from './config.js';
import { ProblemError } from './errors.js';
import { newId } from './ids.js';
import type { PublisherMetrics } from './metrics.js';
import type { TenantRateLimiter } from './ratelimit.js';
import type { DataSanitizer } from './sanitize.js';
import { withPublishSpan } from './tracing.js';
import type { NotificationBody } from './routes/schemas.js';

export interface PublishOutcome {
  readonly id: string | null;
  readonly seq: number;
  readonly sanitized: number;
  readonly duplicate: boolean;
}

export interface PublishDeps {
  readonly config: PublisherConfig;
  readonly bus: PublishBus;
  readonly sanitize: DataSanitizer;
  readonly limiter: TenantRateLimiter;
  readonly metrics: PublisherMetrics;
}

/**
 * Authorise, sanitise, rate-limit and store one notification (already schema-valid).
 * Resolves only after the stream acknowledged it; every refusal is a ProblemError.
 */
export async function publishNotification(
  deps: PublishDeps,
  principal: ServicePrincipal,
  n: NotificationBody,
  msgId: string | undefined,
  pointer = '',
): Promise<PublishOutcome> {
  const { config, bus, metrics } = deps;
  const room = parseRoom(n.room);
  if (!room) throw new ProblemError('validation_failed', { pointer: `${pointer}/room` });
  requireScope(principal, SCOPES.publish);
  if (room.kind === 'global') requireScope(principal, SCOPES.global);
  requireTenant(principal, n.tenant);
  if (n.ttl_s !== undefined && n.ttl_s > config.stream.maxAgeS) throw new ProblemError('ttl_too_long', { pointer: `${pointer}/ttl_s` });
  const clean = deps.sanitize(n.data, `${pointer}/data`);
  const take = deps.limiter.take(n.tenant);
  if (!take.ok) {
    metrics.rateLimited.inc();
    throw new ProblemError('rate_limited', { retryAfterS: take.retryAfterS });
  }
  if (!bus.ready) throw new ProblemError('unavailable', { retryAfterS: config.retryAfterS });

  const stored: StoredNotification = { type: 'notification', id: newId(), room: formatRoom(room), event: n.event, data: clean.data, ts: Date.now() };
  const subject = roomSubject(config.subjectPrefix, 'n', n.tenant, room);
  const body = JSON.stringify(stored);
  // Scope the key by tenant so two tenants' keys can never collide in the stream.
  const id = msgId === undefined ? undefined : `${n.tenant}:${msgId}`;

  const store = async (headers?: Map<string, string>) => {
    try {
      return await bus.publish({ subject, body, ...(id !== undefined ? { msgId: id } : {}), ...(n.ttl_s !== undefined ? { ttlS: n.ttl_s } : {}), ...(headers ? { headers } : {}) });
    } catch (err) {
      if (err instanceof UnavailableError) throw new ProblemError('unavailable', { cause: err, retryAfterS: config.retryAfterS });
      throw err;
    }
  };
  const ack = config.tracing
    ? await withPublishSpan({ 'herald.tenant': n.tenant, 'herald.room_kind': room.kind, 'herald.event': n.event, 'herald.id': stored.id }, async (h) => {
        const headers = new Map<string, string>();
        h.inject((k, v) => headers.set(k, v));
        const a = await store(headers);
        h.span.setAttribute('messaging.message.sequence', a.seq);
        return a;
      })
    : await store();

  if (clean.changed > 0) metrics.sanitized.inc(clean.changed);
  if (!ack.duplicate) {
    metrics.published.inc({ result: 'stored' });
    return { id: stored.id, seq: ack.seq, sanitized: clean.changed, duplicate: false };
  }
  // A retry: the PubAck carries the original sequence; the original id is in its body.
  metrics.published.inc({ result: 'duplicate' });
  let original: StoredNotification | undefined;
  try {
    original = await bus.stored(ack.seq);
  } catch (err) {
    throw new ProblemError('unavailable', { cause: err, retryAfterS: config.retryAfterS });
  }
  return { id: original?.id ?? null, seq: ack.seq, sanitized: clean.changed, duplicate: true };
}
