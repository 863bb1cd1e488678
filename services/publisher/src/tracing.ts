import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

import { startTracing as start, type Tracing } from '@herald/telemetry';

export type { Tracing };

/** The publisher's tracing (service name `herald-publisher`); see @herald/telemetry. */
export function startTracing(env: Record<string, string | undefined>): Promise<Tracing | undefined> {
  return start(env, 'herald-publisher');
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
