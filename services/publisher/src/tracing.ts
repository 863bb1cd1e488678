import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Start the OpenTelemetry SDK when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set. The
 * exporter, protocol (http/json, http/protobuf, grpc) and batching come from the
 * standard OTEL_* variables. Call before building the publisher; returns undefined
 * (tracing off, zero cost) otherwise.
 */
export async function startTracing(env: Record<string, string | undefined>): Promise<Tracing | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  // Loaded only when enabled: the SDK is large and costs start-up time and memory.
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({ serviceName: env.OTEL_SERVICE_NAME ?? 'herald-publisher', instrumentations: [], resourceDetectors: [] });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

const tracer = trace.getTracer('herald-publisher');

export interface SpanHandle {
  /** Inject the span's context (W3C `traceparent`) through `set`. */
  inject(set: (key: string, value: string) => void): void;
  span: Span;
}

/** Run `fn` inside a producer span named `publish <room kind>`; records errors. */
export async function withPublishSpan<T>(
  attributes: Record<string, string | number | boolean>,
  fn: (h: SpanHandle) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan('herald.publish', { kind: SpanKind.PRODUCER, attributes }, async (span) => {
    const handle: SpanHandle = {
      span,
      inject(set) {
        propagation.inject(context.active(), undefined, { set: (_c, k, v) => set(k, v) });
      },
    };
    try {
      return await fn(handle);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
      throw err;
    } finally {
      span.end();
    }
  });
}
