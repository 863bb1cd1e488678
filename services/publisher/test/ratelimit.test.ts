import { afterAll, beforeAll, expect, it } from 'vitest';
import { NatsServer } from '@herald/testkit';
import { startHarness, type Harness } from './harness.js';

let nats: NatsServer;
let h: Harness;
beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
  // `acme` may burst 5 then one per 100 s (no refill during the test); `beta` keeps the generous default.
  h = await startHarness(nats, { HERALD_TENANT_RATE_OVERRIDES: 'acme=0.01:5', HERALD_TENANT_RATE: '1000', HERALD_TENANT_BURST: '1000' });
});
afterAll(async () => {
  await h?.close();
  await nats?.dispose();
});

const item = (tenant: string) => ({ tenant, room: 'tenant', event: 'e', data: {} });

it('a tenant over its limit gets 429 with Retry-After while another tenant is unaffected', async () => {
  const token = await h.token();
  // Interleave: the noisy tenant exhausts its bucket while the quiet one publishes alongside.
  const noisy = await Promise.all(Array.from({ length: 8 }, () => h.post('/v1/notifications', item('acme'), { token })));
  const quiet = await Promise.all(Array.from({ length: 20 }, () => h.post('/v1/notifications', item('beta'), { token })));
  expect(noisy.filter((r) => r.status === 202)).toHaveLength(5);
  const limited = noisy.filter((r) => r.status === 429);
  expect(limited).toHaveLength(3);
  for (const r of limited) {
    expect(r.body).toMatchObject({ code: 'rate_limited', status: 429, retry_after_s: 100 });
    expect(r.headers.get('retry-after')).toBe('100');
    expect(r.headers.get('content-type')).toMatch(/problem\+json/);
  }
  expect(quiet.every((r) => r.status === 202)).toBe(true);
  expect(await h.metric('herald_publisher_rate_limited_total')).toBe(3);
  expect(await h.metric('herald_publisher_rejected_total', { reason: 'rate_limited' })).toBe(3);
  expect(h.security().filter((e) => e.kind === 'rate_limit' && e.tenant === 'acme')).toHaveLength(3);
});

it('batch items over the limit are refused one by one with a Retry-After on the response', async () => {
  const r = await h.post('/v1/notifications/batch', { notifications: [item('acme'), item('beta'), item('acme')] });
  expect(r.status).toBe(200);
  const statuses = (r.body.results as Array<{ status: number }>).map((x) => x.status);
  expect(statuses[1]).toBe(202);
  expect(statuses).toEqual([429, 202, 429]);
  expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
});
