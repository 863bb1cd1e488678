import { afterAll, beforeAll, expect, it } from 'vitest';
import { NatsServer, waitFor } from '@herald/testkit';
import { LiveTap, startHarness, type Harness } from './harness.js';

let nats: NatsServer;
let h: Harness;
beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
  h = await startHarness(nats);
});
afterAll(async () => {
  await h?.close();
  await nats?.dispose();
});

const body = { tenant: 'acme', room: 'user:1', event: 'e', data: {} };
const readyz = async () => (await fetch(`${h.internalUrl}/readyz`)).status;

it('answers 503 with Retry-After while NATS is down, then recovers after a restart', async () => {
  const before = await h.post('/v1/notifications', body);
  expect(before.status).toBe(202);
  expect(await readyz()).toBe(200);

  await nats.stop();
  await waitFor(async () => (await readyz()) === 503, { what: 'readyz 503' });
  expect(await h.metric('herald_publisher_nats_connected')).toBe(0);
  expect(await h.metric('herald_publisher_ready')).toBe(0);
  const down = await h.post('/v1/notifications', body, { headers: { 'idempotency-key': 'k-down' } });
  expect(down.status).toBe(503);
  expect(down.headers.get('retry-after')).toBe('2');
  expect(down.body).toMatchObject({ code: 'unavailable', status: 503 });
  expect(down.text).not.toMatch(/nats|ECONNREFUSED|Error/i);
  const batch = await h.post('/v1/notifications/batch', { notifications: [body] });
  expect(batch.status).toBe(503);
  expect(await fetch(`${h.internalUrl}/livez`).then((r) => r.status)).toBe(200);

  await nats.restart();
  await waitFor(async () => (await readyz()) === 200, { timeoutMs: 20_000, what: 'readyz 200 after restart' });
  const tap = await LiveTap.start(nats.url, h.prefix);
  try {
    const after = await h.post('/v1/notifications', body, { headers: { 'idempotency-key': 'k-down' } });
    expect(after.status, after.text).toBe(202);
    // The refused request was not stored: the retry with its key is new, stored after the first one.
    expect(after.body.duplicate).toBe(false);
    expect(after.body.seq).toBe((before.body.seq as number) + 1);
    await waitFor(() => tap.msgs.some((m) => m.seq === after.body.seq), { what: 'live copy after restart' });
  } finally {
    await tap.close();
  }
  expect(await h.metric('herald_publisher_ready')).toBe(1);
});

it('stays unready and answers 503 when the server has no JetStream, logging why', async () => {
  const plain = await NatsServer.start({ jetstream: false });
  const hp = await startHarness(plain, {}, { waitReady: false });
  try {
    await waitFor(() => hp.logs.some((l) => l.msg === 'cannot ensure stream; retrying'), { what: 'ensure failure logged' });
    expect((await fetch(`${hp.internalUrl}/readyz`)).status).toBe(503);
    const r = await hp.post('/v1/notifications', body);
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('unavailable');
  } finally {
    await hp.close();
    await plain.dispose();
  }
});

it('recreates the stream when it is deleted under a running publisher', async () => {
  const hs = await startHarness(nats);
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: nats.url });
  try {
    expect((await hs.post('/v1/notifications', body)).status).toBe(202);
    await (await jetstreamManager(nc)).streams.delete(hs.config.stream.name);
    const lost = await hs.post('/v1/notifications', body);
    expect(lost.status).toBe(503);
    await waitFor(async () => (await hs.post('/v1/notifications', body)).status === 202, { what: 'publishing again' });
    expect(hs.logs.some((l) => l.msg === 'stream missing; recreating')).toBe(true);
  } finally {
    await nc.close();
    await hs.close();
  }
});
