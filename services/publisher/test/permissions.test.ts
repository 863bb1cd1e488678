import { afterAll, beforeAll, expect, it } from 'vitest';
import { NatsServer, uniquePrefix, waitFor } from '@herald/testkit';
import { startHarness } from './harness.js';

// Least privilege (DESIGN.md security rule 7): the publisher works with only what it needs.
const prefix = uniquePrefix();
let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start({
    jetstream: true,
    extraConfig: `authorization {
  users: [
    { user: pub, password: pub-pw, permissions: {
        publish: { allow: ["${prefix}.n.>", "$JS.API.>"] },
        subscribe: { allow: ["_INBOX.>"] } } }
  ]
}`,
  });
});
afterAll(async () => {
  await nats?.dispose();
});

it('publishes, dedupes and reads back with publisher-only NATS permissions', async () => {
  const h = await startHarness(nats, {
    HERALD_SUBJECT_PREFIX: prefix,
    HERALD_NATS_USER: 'pub',
    HERALD_NATS_PASSWORD: 'pub-pw',
  });
  try {
    const body = { tenant: 'acme', room: 'user:1', event: 'e', data: {} };
    const a = await h.post('/v1/notifications', body, { headers: { 'idempotency-key': 'k' } });
    const b = await h.post('/v1/notifications', body, { headers: { 'idempotency-key': 'k' } });
    expect(a.status, a.text).toBe(202);
    expect(b.body).toMatchObject({ id: a.body.id, seq: a.body.seq, duplicate: true });
  } finally {
    await h.close();
  }
});

it('with a wrong password the publisher stays unready (503), never 202', async () => {
  const h = await startHarness(nats, { HERALD_SUBJECT_PREFIX: uniquePrefix(), HERALD_NATS_USER: 'pub', HERALD_NATS_PASSWORD: 'wrong' }, { waitReady: false });
  try {
    await waitFor(async () => (await fetch(`${h.internalUrl}/readyz`)).status === 503, { what: 'readyz 503' });
    expect((await h.post('/v1/notifications', { tenant: 'acme', room: 'user:1', event: 'e', data: {} })).status).toBe(503);
    await waitFor(() => h.logs.filter((l) => l.msg === 'cannot connect to NATS; retrying').length >= 2, { what: 'connect retried' });
    expect(JSON.stringify(h.logs)).not.toContain('wrong');
  } finally {
    await h.close();
  }
});
