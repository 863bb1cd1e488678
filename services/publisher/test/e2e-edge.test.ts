import { afterAll, beforeAll, expect, it } from 'vitest';
import { NatsServer, ServiceProcess, SseClient, TestClient, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, freePort, mintToken, waitFor } from '@herald/testkit';
import { startHarness, type Harness } from './harness.js';

// End to end: HTTP publish → JetStream → republish → a real edge process → WS and SSE clients.
let nats: NatsServer;
let h: Harness;
let edge: ServiceProcess;
let edgePort: number;
beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
  h = await startHarness(nats);
  edgePort = await freePort();
  const internal = await freePort();
  edge = new ServiceProcess('services/edge/src/main.ts', {
    HERALD_NATS_URL: nats.url,
    HERALD_JWT_SECRET: TEST_SECRET,
    HERALD_JWT_ISSUER: TEST_ISSUER,
    HERALD_JWT_AUDIENCE: TEST_AUDIENCE,
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: String(edgePort),
    HERALD_INTERNAL_PORT: String(internal),
    HERALD_SUBJECT_PREFIX: h.prefix,
    HERALD_STREAM_NAME: h.config.stream.name,
    HERALD_ALLOWED_ORIGINS: 'https://app.example.com',
    HERALD_DRAIN_DELAY_S: '0',
    HERALD_DRAIN_WINDOW_S: '1',
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${internal}/readyz`).catch(() => undefined))?.status === 200, {
    timeoutMs: 30_000,
    what: `edge ready: ${edge.output.slice(-800)}`,
  });
});
afterAll(async () => {
  await edge?.stop();
  await h?.close();
  await nats?.dispose();
});

it('a notification published over HTTP reaches a WS and an SSE client with the same id and seq', async () => {
  const token = await mintToken({ sub: '42', tid: 'acme' });
  const ws = new TestClient(`ws://127.0.0.1:${edgePort}/ws`);
  const sse = new SseClient(`http://127.0.0.1:${edgePort}/sse`, { authorization: `Bearer ${token}` });
  try {
    await ws.auth(token);
    await sse.waitFor('welcome');
    const r = await h.post('/v1/notifications', { tenant: 'acme', room: 'user:42', event: 'order.shipped', data: { order: '<b>A-1</b>' } });
    expect(r.status, r.text).toBe(202);
    const { id, seq } = r.body as { id: string; seq: number };
    const [viaWs] = await ws.waitNotifications(1);
    expect(viaWs).toMatchObject({ type: 'notification', id, seq, room: 'user:42', event: 'order.shipped', data: { order: 'A-1' } });
    const [viaSse] = await sse.waitFor('notification');
    expect(viaSse).toMatchObject({ type: 'notification', id, seq, room: 'user:42', data: { order: 'A-1' } });
    expect(viaSse!._sseId).toBe(String(seq));
    // Another user's notification is not delivered to user 42.
    const other = await h.post('/v1/notifications', { tenant: 'acme', room: 'user:43', event: 'x', data: {} });
    const mine = await h.post('/v1/notifications', { tenant: 'acme', room: 'user:42', event: 'second', data: {} });
    await ws.waitNotifications(2);
    await sse.waitFor('notification', 2);
    expect(ws.notifications().map((n) => n.seq)).toEqual([seq, mine.body.seq]);
    expect(ws.notifications().some((n) => n.seq === other.body.seq)).toBe(false);
  } finally {
    ws.close();
    sse.close();
  }
});
