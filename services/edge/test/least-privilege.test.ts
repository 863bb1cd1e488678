import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { NatsServer, TestClient, mintToken, waitFor } from '@herald/testkit';
import { startTestEdge, type TestEdge } from './harness.js';
import { revocationKey } from '../src/revocations.js';

/**
 * Edges with credentials that may not create streams (least privilege: the KV buckets
 * are created by the publisher or the installation) still start, refuse tickets until
 * the bucket exists, and pick up the revocations bucket once it appears.
 */
let nats: NatsServer;
let admin: NatsConnection;
let edge: TestEdge;

beforeAll(async () => {
  nats = await NatsServer.start({
    extraConfig: `authorization { users = [
      { user: admin, password: admin-pass }
      { user: edge, password: edge-pass, permissions: { publish: { deny: ["$JS.API.STREAM.CREATE.>", "$JS.API.STREAM.UPDATE.>"] } } }
    ] }`,
  });
  admin = await connect({ servers: nats.url, user: 'admin', pass: 'admin-pass' });
  edge = await startTestEdge(nats.url, { HERALD_NATS_USER: 'edge', HERALD_NATS_PASSWORD: 'edge-pass' });
});
afterAll(async () => {
  await edge?.close();
  await admin?.drain();
  await nats?.dispose();
});

describe('edge without permission to create KV buckets', () => {
  it('starts, says so, refuses tickets, and loads revocations once the bucket exists', async () => {
    expect(edge.logs.lines.some((l) => l.msg === 'revocations bucket missing and cannot be created; retrying every 5 s')).toBe(true);
    const token = await mintToken({ sub: 'lp', tid: 'acme' }, { jti: 'lp-1' });
    const res = await fetch(`${edge.url}/v1/tickets`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(503);

    // The publisher creates the bucket with its first revocation; no broadcast reaches this edge here.
    const kv = await new Kvm(admin).create('HERALD_REVOCATIONS', { history: 1, ttl: 3600_000 });
    const now = Math.floor(Date.now() / 1000);
    const r = { kind: 'jti' as const, jti: 'lp-1', at: now, until: now + 600 };
    await kv.put(revocationKey(r), JSON.stringify(r));
    await waitFor(() => edge.logs.lines.some((l) => l.msg === 'revocations loaded'), { timeoutMs: 8_000, what: 'revocations loaded after retry' });
    const c = new TestClient(edge.wsUrl);
    await c.open();
    c.send({ type: 'auth', token });
    expect(await c.closed()).toBe(4503);
  });
});
