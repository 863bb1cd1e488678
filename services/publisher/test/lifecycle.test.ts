import { afterAll, beforeAll, expect, it } from 'vitest';
import { NatsServer, ServiceProcess, TEST_ISSUER, TEST_SECRET, waitFor } from '@herald/testkit';
import { startHarness } from './harness.js';

let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
});
afterAll(async () => {
  await nats?.dispose();
});

it('--check-config prints the effective config with secrets masked; bad config exits 2', async () => {
  const env = { HERALD_JWT_SECRET: TEST_SECRET, HERALD_JWT_ISSUER: TEST_ISSUER, HERALD_NATS_PASSWORD: 'pw-hidden', HERALD_NATS_USER: 'u' };
  const ok = new ServiceProcess('services/publisher/src/main.ts', env, ['--check-config']);
  await ok.wait();
  expect(ok.exitCode).toBe(0);
  const printed = JSON.parse(ok.output) as { jwt: { secret: string }; nats: { password: string }; port: number };
  expect(printed).toMatchObject({ port: 8081, jwt: { secret: '***' }, nats: { password: '***' } });
  expect(ok.output).not.toContain(TEST_SECRET);
  expect(ok.output).not.toContain('pw-hidden');

  const bad = new ServiceProcess('services/publisher/src/main.ts', { ...env, HERALD_NOPE: '1' }, ['--check-config']);
  await bad.wait();
  expect(bad.exitCode).toBe(2);
  expect(bad.output).toContain('unknown setting HERALD_NOPE');
});

it('on close: /readyz turns 503 first, requests are still served during the drain delay, then it stops', async () => {
  const h = await startHarness(nats);
  const readyz = async () => (await fetch(`${h.internalUrl}/readyz`)).status;
  expect(await readyz()).toBe(200);
  const closing = h.p.close({ drainDelayS: 1 });
  await waitFor(async () => (await readyz()) === 503, { what: 'readyz 503 while draining' });
  const during = await h.post('/v1/notifications', { tenant: 'acme', room: 'tenant', event: 'e', data: {} });
  expect(during.status).toBe(202);
  await closing;
  await expect(fetch(`${h.url}/v1/notifications`, { method: 'POST' })).rejects.toThrow();
  await h.close(); // idempotent
});

it('scripts/dev-token.ts prints a service token the publisher accepts', async () => {
  const h = await startHarness(nats);
  try {
    const p = new ServiceProcess('services/publisher/scripts/dev-token.ts', { HERALD_JWT_SECRET: TEST_SECRET, HERALD_JWT_ISSUER: TEST_ISSUER }, ['--tenants', 'acme']);
    await p.wait();
    expect(p.exitCode).toBe(0);
    const token = p.output.trim();
    expect((await h.post('/v1/notifications', { tenant: 'acme', room: 'tenant', event: 'e', data: {} }, { token })).status).toBe(202);
    expect((await h.post('/v1/notifications', { tenant: 'beta', room: 'tenant', event: 'e', data: {} }, { token })).status).toBe(403);
  } finally {
    await h.close();
  }
});
