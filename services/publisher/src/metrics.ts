import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every publisher metric, registered in one place (a fresh registry per publisher instance). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'herald_publisher_requests_total',
      help: 'HTTP requests by route template and status code',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    publishDuration: new Histogram({
      name: 'herald_publisher_publish_duration_seconds',
      help: 'Time from JetStream publish to PubAck, per notification',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'herald_publisher_rejected_total',
      help: 'Refused requests or batch items by problem code',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    sanitized: new Counter({
      name: 'herald_publisher_sanitized_values_total',
      help: 'String values and keys changed by sanitisation',
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'herald_publisher_rate_limited_total',
      help: 'Notifications refused by a tenant rate limit',
      registers: [registry],
    }),
    natsConnected: new Gauge({
      name: 'herald_publisher_nats_connected',
      help: '1 while connected to NATS',
      registers: [registry],
    }),
    ready: new Gauge({
      name: 'herald_publisher_ready',
      help: '1 while the publisher can store notifications (NATS connected, stream ensured, not draining)',
      registers: [registry],
    }),
    securityEvents: new Counter({
      name: 'herald_publisher_security_events_total',
      help: 'Security log events by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    published: new Counter({
      name: 'herald_publisher_notifications_total',
      help: 'Notifications stored, by result (stored or duplicate)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}

export type PublisherMetrics = ReturnType<typeof createMetrics>;
