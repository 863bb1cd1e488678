import { afterAll, beforeAll, expect, it } from 'vitest';
import { NatsServer, OtlpReceiver, ServiceProcess, freePort, mintServiceToken, uniquePrefix, waitFor } from '@herald/testkit';
import { baseEnv, LiveTap } from './harness.js';

let nats: NatsServer;
let otlp: OtlpReceiver;
let proc: ServiceProcess | undefined;
beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
  otlp = await OtlpReceiver.start();
});
afterAll(async () => {
  await proc?.stop();
  await otlp?.close();
  await nats?.dispose();
});

it('exports a span per publish and injects a matching traceparent into the NATS headers', async () => {
  const prefix = uniquePrefix();
  const [port, internal] = [await freePort(), await freePort()];
  proc = new ServiceProcess('services/publisher/src/main.ts', {
    ...baseEnv(nats, prefix),
    HERALD_STREAM_MAX_BYTES: String(16 * 1024 * 1024),
    HERALD_PORT: String(port),
    HERALD_INTERNAL_PORT: String(internal),
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${internal}/readyz`).catch(() => undefined))?.status === 200, {
    // Loading the OpenTelemetry SDK is the slow part of this start; allow for a busy machine.
    timeoutMs: 45_000,
    what: `publisher ready: ${proc.output.slice(-500)}`,
  });
  const tap = await LiveTap.start(nats.url, prefix);
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await mintServiceToken({ tenants: ['acme'] })}` },
      body: JSON.stringify({ tenant: 'acme', room: 'user:9', event: 'traced', data: {} }),
    });
    expect(res.status).toBe(202);
    const { id, seq } = (await res.json()) as { id: string; seq: number };
    const live = await waitFor(() => tap.msgs.find((m) => m.seq === seq), { what: 'live copy' });
    const tp = live.headers.traceparent;
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, traceId, spanId] = tp!.split('-');
    const span = await waitFor(() => otlp.spans.find((s) => s.name === 'herald.publish'), { timeoutMs: 10_000, what: 'exported span' });
    expect(span.traceId).toBe(traceId);
    expect(span.spanId).toBe(spanId);
    expect(span.service).toBe('herald-publisher');
    expect(span.attributes).toMatchObject({ 'herald.tenant': 'acme', 'herald.room_kind': 'user', 'herald.id': id });
  } finally {
    await tap.close();
  }
  await proc.stop('SIGTERM');
  expect(proc.exitCode).toBe(0);
}, 90_000);
