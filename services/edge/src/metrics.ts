import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Transport = 'ws' | 'sse';

const TRANSPORTS: readonly Transport[] = ['ws', 'sse'];
/** The label values the edge uses; listed so every series starts at 0. */
export const FAILURE_REASONS = ['auth_failed', 'auth_timeout', 'origin', 'rate_limited', 'over_capacity', 'bad_message', 'message_too_big'] as const;
export const CLOSE_REASONS = ['client', 'abnormal', 'shutdown', 'slow_consumer', 'rate_limited', 'token_expired', 'revoked', 'forbidden', 'bad_message', 'message_too_big'] as const;
export const DROP_REASONS = ['slow_consumer', 'no_members', 'malformed'] as const;
export const RESUME_RESULTS = ['ok', 'gap', 'limit', 'bad_cursor', 'error', 'rejected', 'aborted', 'unavailable'] as const;
export const SECURITY_KINDS = ['auth_failed', 'auth_timeout', 'origin_rejected', 'rate_limited', 'over_capacity', 'forbidden', 'bad_message', 'message_too_big', 'slow_consumer', 'revoked'] as const;

/** Every edge metric, registered in one place on a registry of its own. */
export function createMetrics(opts: { tenantMetrics: boolean; tenantMetricsMax: number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const m = {
    registry,
    connections: new Gauge({ name: 'herald_edge_connections', help: 'Open authenticated client connections', labelNames: ['transport'], registers: [registry] }),
    attempts: new Counter({ name: 'herald_edge_connection_attempts_total', help: 'Connection attempts (upgrade or SSE request)', labelNames: ['transport'], registers: [registry] }),
    opened: new Counter({ name: 'herald_edge_connections_opened_total', help: 'Connections authenticated and admitted', labelNames: ['transport'], registers: [registry] }),
    closed: new Counter({ name: 'herald_edge_connections_closed_total', help: 'Admitted connections closed, by reason', labelNames: ['transport', 'reason'], registers: [registry] }),
    failures: new Counter({ name: 'herald_edge_connection_failures_total', help: 'Connection attempts that failed before admission, by reason', labelNames: ['transport', 'reason'], registers: [registry] }),
    delivered: new Counter({ name: 'herald_edge_messages_delivered_total', help: 'Notifications handed to client sockets', labelNames: ['transport'], registers: [registry] }),
    dropped: new Counter({ name: 'herald_edge_messages_dropped_total', help: 'Notifications not delivered, by reason', labelNames: ['reason'], registers: [registry] }),
    latency: new Histogram({
      name: 'herald_edge_delivery_latency_seconds',
      help: 'Time from publish (envelope ts) to hand-off to client sockets, once per room message',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    natsSubscriptions: new Gauge({ name: 'herald_edge_nats_subscriptions', help: 'NATS subscriptions held (one per room subject with local members)', registers: [registry] }),
    natsConnected: new Gauge({ name: 'herald_edge_nats_connected', help: '1 when the bus is connected', registers: [registry] }),
    ready: new Gauge({ name: 'herald_edge_ready', help: '1 when /readyz answers 200', registers: [registry] }),
    draining: new Gauge({ name: 'herald_edge_draining', help: '1 while the pod drains', registers: [registry] }),
    drains: new Counter({ name: 'herald_edge_drains_total', help: 'Drain sequences started', registers: [registry] }),
    security: new Counter({ name: 'herald_edge_security_events_total', help: 'Security events, by kind', labelNames: ['kind'], registers: [registry] }),
    inbound: new Counter({ name: 'herald_edge_inbound_messages_total', help: 'Client messages received, by type', labelNames: ['type'], registers: [registry] }),
    resumes: new Counter({ name: 'herald_edge_resumes_total', help: 'Resume requests, by result', labelNames: ['result'], registers: [registry] }),
    tenant: opts.tenantMetrics ? tenantSeries(registry, opts.tenantMetricsMax) : undefined,
  };
  // Series exist from the start at 0: Prometheus cannot see the increment that creates a
  // series, so without this the first failures after a restart would never alert.
  for (const transport of TRANSPORTS) {
    m.connections.set({ transport }, 0);
    m.attempts.inc({ transport }, 0);
    m.opened.inc({ transport }, 0);
    m.delivered.inc({ transport }, 0);
    for (const reason of FAILURE_REASONS) m.failures.inc({ transport, reason }, 0);
    for (const reason of CLOSE_REASONS) m.closed.inc({ transport, reason }, 0);
  }
  for (const reason of DROP_REASONS) m.dropped.inc({ reason }, 0);
  for (const kind of SECURITY_KINDS) m.security.inc({ kind }, 0);
  for (const result of RESUME_RESULTS) m.resumes.inc({ result }, 0);
  m.ready.set(0);
  m.draining.set(0);
  m.natsConnected.set(0);
  return m;
}

/**
 * Per-tenant series, only behind HERALD_TENANT_METRICS, for at most `max` tenants;
 * the rest share the label `other` so cardinality stays bounded.
 */
function tenantSeries(registry: Registry, max: number) {
  const known = new Set<string>();
  const label = (tenant: string): string => {
    if (known.has(tenant)) return tenant;
    if (known.size < max) {
      known.add(tenant);
      return tenant;
    }
    return 'other';
  };
  return {
    label,
    connections: new Gauge({ name: 'herald_edge_tenant_connections', help: 'Open connections per tenant (capped)', labelNames: ['tenant'], registers: [registry] }),
    delivered: new Counter({ name: 'herald_edge_tenant_messages_delivered_total', help: 'Notifications delivered per tenant (capped)', labelNames: ['tenant'], registers: [registry] }),
  };
}

export type EdgeMetrics = ReturnType<typeof createMetrics>;
