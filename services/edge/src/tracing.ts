import { ROOT_CONTEXT, SpanKind, propagation, trace, type TextMapGetter } from '@opentelemetry/api';
import type { BusMessage } from './bus/bus.js';

const tracer = trace.getTracer('herald-edge');

const getter: TextMapGetter<ReadonlyMap<string, string>> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key),
};

/**
 * Continue the publisher's trace for one room message: a consumer span, child of the
 * `traceparent` the publisher put in the NATS headers, covering the hand-off to this
 * pod's sockets. Called only when tracing is enabled, once per room message per pod.
 */
export function traceDelivery(m: BusMessage, recipients: number, prefix: string): void {
  if (!m.headers?.has('traceparent')) return;
  const parent = propagation.extract(ROOT_CONTEXT, m.headers, getter);
  const span = tracer.startSpan(
    'herald.deliver',
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': m.subject.startsWith(`${prefix}.`) ? m.subject.slice(prefix.length + 1) : m.subject,
        ...(m.seq !== undefined ? { 'messaging.message.sequence': m.seq } : {}),
        'herald.recipients': recipients,
      },
    },
    parent,
  );
  span.end();
}
