import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { NatsServer, ServiceProcess, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, TestClient, freePort, mintToken, waitFor } from '@herald/testkit';
import { startHarness, type Harness } from './harness.js';

let nats: NatsServer;
let h: Harness;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
  h = await startHarness(nats);
  nc = await connect({ servers: nats.url });
});
afterAll(async () => {
  await nc?.drain();
  await h?.close();
  await nats?.dispose();
});

const revoker = () => h.token({ scopes: ['notify:revoke'] });

async function startEdge(): Promise<{ p: ServiceProcess; wsUrl: string }> {
  const port = await freePort();
  const p = new ServiceProcess('services/edge/src/main.ts', {
    HERALD_NATS_URL: nats.url,
    HERALD_SUBJECT_PREFIX: h.prefix,
    HERALD_STREAM_NAME: `S_${h.prefix}`,
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: String(port),
    HERALD_INTERNAL_PORT: String(await freePort()),
    HERALD_JWT_SECRET: TEST_SECRET,
    HERALD_JWT_ISSUER: TEST_ISSUER,
    HERALD_JWT_AUDIENCE: TEST_AUDIENCE,
  });
  await p.waitForLog((l) => l.msg === 'edge listening', 30_000);
  return { p, wsUrl: `ws://127.0.0.1:${port}/ws` };
}

describe('POST /v1/revocations', () => {
  it('needs a service token with notify:revoke and an allowed tenant', async () => {
    expect((await h.post('/v1/revocations', { tenant: 'acme', sub: 'u1' }, { token: null })).status).toBe(401);
    const publishOnly = await h.post('/v1/revocations', { tenant: 'acme', sub: 'u1' });
    expect(publishOnly.status).toBe(403);
    expect(publishOnly.body.code).toBe('missing_scope');
    const otherTenant = await h.post('/v1/revocations', { tenant: 'zeta', sub: 'u1' }, { token: await revoker() });
    expect(otherTenant.status).toBe(403);
    expect(otherTenant.body.code).toBe('tenant_not_allowed');
    // A jti alone could hit any tenant: only a service allowed every tenant may do that.
    expect((await h.post('/v1/revocations', { jti: 'abc' }, { token: await revoker() })).body.code).toBe('tenant_not_allowed');
    expect(h.security().some((l) => l.kind === 'authz' && l.route === '/v1/revocations')).toBe(true);
  });

  it('refuses malformed bodies with 422 problem+json', async () => {
    const token = await revoker();
    for (const body of [{}, { sub: 'u1' }, { tenant: 'a.b' }, { tenant: 'acme', sub: 'u1', jti: 'x' }, { tenant: 'acme', expires_in_s: 0 }, { tenant: 'acme', extra: 1 }]) {
      const r = await h.post('/v1/revocations', body, { token });
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it('stores the revocation in the KV bucket and broadcasts it', async () => {
    const heard: string[] = [];
    const sub = nc.subscribe(`${h.prefix}.ctl.revocations`, { callback: (_e, m) => void heard.push(m.string()) });
    await nc.flush();
    const r = await h.post('/v1/revocations', { tenant: 'acme', sub: 'u1', expires_in_s: 600 }, { token: await revoker() });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ kind: 'sub' });
    expect((r.body.until as number) - (r.body.at as number)).toBe(600);
    await waitFor(() => heard.length === 1, { what: 'broadcast' });
    expect(JSON.parse(heard[0]!)).toEqual({ kind: 'sub', tenant: 'acme', sub: 'u1', at: r.body.at, until: r.body.until });
    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage('KV_HERALD_REVOCATIONS', { last_by_subj: '$KV.HERALD_REVOCATIONS.sub.acme.u1' });
    expect(JSON.parse(stored!.string())).toEqual(JSON.parse(heard[0]!));
    sub.unsubscribe();
  });

  it('end to end: an edge closes the revoked session within 1 s, and an edge started later refuses the token', async () => {
    const edge = await startEdge();
    let later: { p: ServiceProcess } | undefined;
    try {
      const token = await mintToken({ sub: 'e2e', tid: 'beta' }, { jti: 'e2e-session' });
      const c = new TestClient(edge.wsUrl);
      await c.auth(token);
      const bystander = new TestClient(edge.wsUrl);
      await bystander.auth(await mintToken({ sub: 'e2e', tid: 'beta' }, { jti: 'another-session' }));
      const t0 = Date.now();
      const r = await h.post('/v1/revocations', { tenant: 'beta', jti: 'e2e-session' }, { token: await revoker() });
      expect(r.status).toBe(202);
      expect(await c.closed(2_000)).toBe(4503);
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(bystander.closeCode).toBeUndefined();
      const l = await startEdge();
      later = l;
      const again = new TestClient(l.wsUrl);
      await again.open();
      again.send({ type: 'auth', token });
      expect(await again.closed()).toBe(4503);
      bystander.close();
    } finally {
      await edge.p.stop('SIGKILL');
      await later?.p.stop('SIGKILL');
    }
  });
});
