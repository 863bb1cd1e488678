/**
 * The metric names fixed in the shared contract (helpers' COMMON.md "Interfaces already fixed").
 * Dashboards and rules may only read these, so a typo or a renamed metric fails a test instead of
 * an operator's panel showing "No data".
 */
export const EDGE_METRICS = [
  'herald_edge_connections',
  'herald_edge_connection_attempts_total',
  'herald_edge_connections_opened_total',
  'herald_edge_connections_closed_total',
  'herald_edge_connection_failures_total',
  'herald_edge_messages_delivered_total',
  'herald_edge_messages_dropped_total',
  'herald_edge_delivery_latency_seconds',
  'herald_edge_nats_subscriptions',
  'herald_edge_nats_connected',
  'herald_edge_ready',
  'herald_edge_draining',
  'herald_edge_drains_total',
  'herald_edge_security_events_total',
  'herald_edge_resumes_total',
  'herald_edge_tenant_connections',
  'herald_edge_tenant_messages_delivered_total',
] as const;

export const PUBLISHER_METRICS = [
  'herald_publisher_requests_total',
  'herald_publisher_publish_duration_seconds',
  'herald_publisher_rejected_total',
  'herald_publisher_sanitized_values_total',
  'herald_publisher_rate_limited_total',
  'herald_publisher_nats_connected',
  'herald_publisher_ready',
  'herald_publisher_security_events_total',
] as const;

/** prom-client default metrics the dashboards use. */
export const DEFAULT_METRICS = ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_p99_seconds'] as const;

const HISTOGRAMS = ['herald_edge_delivery_latency_seconds', 'herald_publisher_publish_duration_seconds'];

/** True when `name` is a contract metric or one of a histogram's series. */
export function isKnownMetric(name: string): boolean {
  const all: readonly string[] = [...EDGE_METRICS, ...PUBLISHER_METRICS, ...DEFAULT_METRICS];
  if (all.includes(name)) return true;
  return HISTOGRAMS.some((h) => name === `${h}_bucket` || name === `${h}_count` || name === `${h}_sum`);
}
