import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NatsServer, mintServiceToken, mintToken, rsaKeys, unsignedToken, TEST_SECRET } from '@herald/testkit';
import { startHarness, type Harness } from './harness.js';

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

const good = { tenant: 'acme', room: 'user:1', event: 'e', data: {} };

async function expectProblem(token: string | null, status: number, code: string, body: unknown = good) {
  const before = h.security().length;
  const r = await h.post('/v1/notifications', body, { token });
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status, code, type: expect.stringMatching(/^urn:herald:problem:[a-z-]+$/) as unknown, title: expect.any(String) as unknown });
  if (status === 401) expect(r.headers.get('www-authenticate')).toBe('Bearer');
  const ev = h.security().slice(before);
  expect(ev).toHaveLength(1);
  expect(ev[0]).toMatchObject({ event: 'security', reason: code, kind: status === 401 ? 'auth' : 'authz', ip: '127.0.0.1' });
  // The token never reaches the log.
  if (token) expect(JSON.stringify(h.logs)).not.toContain(token);
  return r;
}

describe('service token authentication', () => {
  it('no token → 401', () => expectProblem(null, 401, 'invalid_token'));
  it('garbage → 401', () => expectProblem('abc.def.ghi', 401, 'invalid_token'));
  it('wrong secret → 401', async () => expectProblem(await mintServiceToken({ tenants: '*' }, { secret: 'x'.repeat(40) }), 401, 'invalid_token'));
  it('expired → 401', async () => expectProblem(await mintServiceToken({ tenants: '*' }, { expiresIn: -120 }), 401, 'invalid_token'));
  it('wrong issuer → 401', async () => expectProblem(await mintServiceToken({ tenants: '*' }, { iss: 'https://evil' }), 401, 'invalid_token'));
  it('alg none → 401', () => expectProblem(unsignedToken({ sub: 's', scope: 'notify:publish', tenants: '*', aud: 'herald-publisher' } as never), 401, 'invalid_token'));
  it('a client (end-user) token is never accepted, even with the same key', async () => {
    // A normal edge token: audience `herald`, tenant and roles, no scopes.
    await expectProblem(await mintToken({ sub: 'u1', tid: 'acme', roles: ['super_admin'] }), 401, 'invalid_token');
    // Even forged with the publisher audience, no notify:* scope means not a service token.
    await expectProblem(await mintToken({ sub: 'u1', tid: 'acme', tenants: '*' }, { aud: 'herald-publisher' }), 401, 'invalid_token');
    // And a client token that carries scopes but the client audience is still refused.
    await expectProblem(await mintToken({ sub: 'u1', scope: 'notify:publish', tenants: '*' }), 401, 'invalid_token');
  });
  it('a malformed tenants claim → 401', async () => expectProblem(await mintServiceToken({ tenants: ['a.b'] }), 401, 'invalid_token'));
  it('a token without sub → 401', async () => {
    const { SignJWT } = await import('jose');
    const t = await new SignJWT({ scope: 'notify:publish', tenants: '*' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://auth.test.herald')
      .setAudience('herald-publisher')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET));
    await expectProblem(t, 401, 'invalid_token');
  });
});

describe('scopes and tenants', () => {
  it('missing notify:publish → 403 missing_scope', async () => expectProblem(await mintServiceToken({ scopes: ['notify:revoke'], tenants: '*' }), 403, 'missing_scope'));
  it('tenant not in the token → 403 tenant_not_allowed', async () =>
    expectProblem(await mintServiceToken({ tenants: ['beta'] }), 403, 'tenant_not_allowed'));
  it('no tenants claim → 403', async () => expectProblem(await mintServiceToken({}), 403, 'tenant_not_allowed'));
  it('tenants "*" and the `scopes` array form are accepted', async () => {
    const t = await mintServiceToken({ scopes: ['notify:publish'], scopesArray: true, tenants: '*' });
    const r = await h.post('/v1/notifications', { ...good, tenant: 'anyone' }, { token: t });
    expect(r.status, r.text).toBe(202);
  });
  it('counts refusals by reason', async () => {
    expect(await h.metric('herald_publisher_rejected_total', { reason: 'invalid_token' })).toBeGreaterThan(5);
    expect(await h.metric('herald_publisher_security_events_total', { kind: 'auth' })).toBeGreaterThan(5);
    expect(await h.metric('herald_publisher_requests_total', { route: '/v1/notifications', status: '401' })).toBeGreaterThan(5);
  });
});

describe('asymmetric keys', () => {
  it('PEM: RS256 accepted, an HS256 token signed with the PEM text refused (no algorithm confusion)', async () => {
    const keys = await rsaKeys();
    const hp = await startHarness(nats, { HERALD_JWT_SECRET: '', HERALD_JWT_PUBLIC_KEY: keys.publicPem, HERALD_JWT_ALGORITHMS: 'RS256' });
    try {
      const ok = await keys.sign({ sub: 'svc', scope: 'notify:publish', tenants: '*' } as never, { aud: 'herald-publisher' });
      expect((await hp.post('/v1/notifications', good, { token: ok })).status).toBe(202);
      const confused = await mintServiceToken({ tenants: '*' }, { secret: keys.publicPem });
      const r = await hp.post('/v1/notifications', good, { token: confused });
      expect(r.status).toBe(401);
      expect((await hp.post('/v1/notifications', good, { token: await mintServiceToken({ tenants: '*' }) })).status).toBe(401);
    } finally {
      await hp.close();
    }
  });

  it('JWKS URL: keys fetched from the endpoint', async () => {
    const keys = await rsaKeys('kid-1');
    const jwks: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [keys.jwk] })));
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
    const hp = await startHarness(nats, {
      HERALD_JWT_SECRET: '',
      HERALD_JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
    });
    try {
      const ok = await keys.sign({ sub: 'svc', scope: 'notify:publish', tenants: ['acme'] } as never, { aud: 'herald-publisher' });
      expect((await hp.post('/v1/notifications', good, { token: ok })).status).toBe(202);
      const other = await rsaKeys('kid-2');
      const bad = await other.sign({ sub: 'svc', scope: 'notify:publish', tenants: ['acme'] } as never, { aud: 'herald-publisher' });
      expect((await hp.post('/v1/notifications', good, { token: bad })).status).toBe(401);
    } finally {
      await hp.close();
      jwks.closeAllConnections();
      await new Promise((r) => jwks.close(r));
    }
  });
});
