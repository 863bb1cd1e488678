import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  NatsServer,
  OtlpReceiver,
  ServiceProcess,
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_SECRET,
  TestClient,
  freePort,
  mintServiceToken,
  mintToken,
  uniquePrefix,
  waitFor,
} from '@herald/testkit';

let nats: NatsServer;
let otlp: OtlpReceiver;
const procs: ServiceProcess[] = [];

beforeAll(async () => {
  nats = await NatsServer.start();
  otlp = await OtlpReceiver.start();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  await otlp?.close();
  await nats?.dispose();
});

const ready = (port: number) => async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;

/** One notification's trace: publisher HTTP → NATS publish → edge delivery, linked by traceparent. */
it('continues the publisher trace on the edge: herald.deliver is a child of herald.publish', async () => {
  const prefix = uniquePrefix();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100' };
  const common = { HERALD_NATS_URL: nats.url, HERALD_SUBJECT_PREFIX: prefix, HERALD_STREAM_NAME: `S_${prefix}`, HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: TEST_SECRET, HERALD_JWT_ISSUER: TEST_ISSUER, ...otel };
  const [pubPort, pubInternal, edgePort, edgeInternal] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const publisher = new ServiceProcess('services/publisher/src/main.ts', {
    ...common,
    HERALD_PORT: String(pubPort),
    HERALD_INTERNAL_PORT: String(pubInternal),
    HERALD_STREAM_MAX_BYTES: String(16 * 1024 * 1024),
  });
  procs.push(publisher);
  await waitFor(ready(pubInternal), { timeoutMs: 45_000, what: 'publisher ready' });
  const edge = new ServiceProcess('services/edge/src/main.ts', {
    ...common,
    HERALD_JWT_AUDIENCE: TEST_AUDIENCE,
    HERALD_PORT: String(edgePort),
    HERALD_INTERNAL_PORT: String(edgeInternal),
  });
  procs.push(edge);
  await waitFor(ready(edgeInternal), { timeoutMs: 45_000, what: 'edge ready' });

  const client = new TestClient(`ws://127.0.0.1:${edgePort}/ws`);
  await client.auth(await mintToken({ sub: 'traced', tid: 'acme' }));
  const res = await fetch(`http://127.0.0.1:${pubPort}/v1/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await mintServiceToken({ tenants: ['acme'] })}` },
    body: JSON.stringify({ tenant: 'acme', room: 'user:traced', event: 'trace.me', data: {} }),
  });
  expect(res.status).toBe(202);
  const { seq } = (await res.json()) as { seq: number };
  await client.waitNotifications(1);
  client.close();

  const publish = await waitFor(() => otlp.spans.find((s) => s.name === 'herald.publish' && s.service === 'herald-publisher'), { timeoutMs: 15_000, what: 'publisher span' });
  const deliver = await waitFor(() => otlp.spans.find((s) => s.name === 'herald.deliver' && s.service === 'herald-edge'), { timeoutMs: 15_000, what: 'edge span' });
  expect(deliver.traceId).toBe(publish.traceId);
  expect(deliver.parentSpanId).toBe(publish.spanId);
  expect(deliver.attributes).toMatchObject({ 'messaging.message.sequence': seq, 'herald.recipients': 1, 'messaging.destination.name': 'live.t.acme.u.traced' });
}, 120_000);
