import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { NatsServer, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, TestClient, mintToken, rsaKeys, unsignedToken, waitFor } from '@herald/testkit';
import { startTestEdge, TestSource, metricValue, type TestEdge, Neighbour } from './harness.js';

let nats: NatsServer;
let edge: TestEdge;
let source: TestSource;
let neighbour: Neighbour;

beforeAll(async () => {
  nats = await NatsServer.start();
  edge = await startTestEdge(nats.url, { HERALD_AUTH_TIMEOUT_MS: '300' });
  source = await TestSource.create(nats, edge.prefix);
  neighbour = await Neighbour.start(edge, source);
});

afterAll(async () => {
  neighbour?.close();
  await source?.close();
  await edge?.close();
  await nats?.dispose();
});


const rsa = await rsaKeys();
const now = () => Math.floor(Date.now() / 1000);

const badTokens: Array<[string, () => Promise<string> | string]> = [
  ['alg none', () => unsignedToken({ sub: 'x', tid: 'acme' })],
  ['wrong HS key', () => mintToken({ sub: 'x', tid: 'acme' }, { secret: 'another-secret-that-is-32-bytes-long!!!' })],
  ['RS256 token on an HS256 edge (alg confusion)', () => rsa.sign({ sub: 'x', tid: 'acme' })],
  ['expired', () => mintToken({ sub: 'x', tid: 'acme' }, { expiresIn: -120 })],
  ['wrong iss', () => mintToken({ sub: 'x', tid: 'acme' }, { iss: 'https://evil.example' })],
  ['wrong aud', () => mintToken({ sub: 'x', tid: 'acme' }, { aud: 'someone-else' })],
  ['missing sub', () => new SignJWT({ tid: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setExpirationTime(now() + 60).sign(new TextEncoder().encode(TEST_SECRET))],
  ['missing exp', () => new SignJWT({ sub: 'x', tid: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).sign(new TextEncoder().encode(TEST_SECRET))],
  ['sub with a dot', () => mintToken({ sub: 'a.b', tid: 'acme' })],
  ['sub with *', () => mintToken({ sub: '*', tid: 'acme' })],
  ['tenant with >', () => mintToken({ sub: 'x', tid: '>' })],
  ['tenant with a space', () => mintToken({ sub: 'x', tid: 'ac me' })],
  ['room claim with a dot', () => mintToken({ sub: 'x', tid: 'acme', rooms: ['ok', 'bad.room'] })],
  ['missing tenant', () => mintToken({ sub: 'x' })],
  ['garbage', () => 'not.a.jwt'],
];

describe('bad tokens', () => {
  it.each(badTokens)('%s → 4500 with a generic text and a security event', async (_name, make) => {
    const token = await make();
    const before = edge.logs.security('auth_failed').length;
    const c = new TestClient(edge.wsUrl);
    await c.open();
    c.send({ type: 'auth', token });
    expect(await c.closed()).toBe(4500);
    expect(c.closeReason).toBe('Authentication failed.');
    expect(c.messages).toEqual([]);
    await waitFor(() => edge.logs.security('auth_failed').length > before);
    const event = edge.logs.security('auth_failed').at(-1)!;
    expect(event).toMatchObject({ event: 'security', kind: 'auth_failed', ip: '127.0.0.1' });
    expect(typeof event.reason).toBe('string');
    // The token itself never reaches the log.
    expect(edge.logs.text).not.toContain(token);
    await neighbour.stillReceives();
  });

  it('refuses a bad token on the upgrade with 401 and never upgrades', async () => {
    const c = new TestClient(edge.wsUrl, { headers: { Authorization: `Bearer ${await mintToken({ sub: 'x', tid: 'acme' }, { expiresIn: -120 })}` } });
    await expect(c.open()).rejects.toThrow(/401/);
    expect(c.unexpectedStatus).toBe(401);
  });

  it('accepts a good token on the upgrade (non-browser clients)', async () => {
    const c = new TestClient(edge.wsUrl, { headers: { Authorization: `Bearer ${await mintToken({ sub: 'hdr', tid: 'acme' })}` } });
    const welcome = await c.next('welcome');
    expect(welcome.rooms).toEqual(['user:hdr']);
    c.close();
  });
});

describe('RS256 through a PEM key and a JWKS URL', () => {
  it('verifies RS256 with a PEM key and refuses an HS256 token signed with the PEM text (confusion)', async () => {
    const pemEdge = await startTestEdge(nats.url, { HERALD_JWT_SECRET: '', HERALD_JWT_PUBLIC_KEY: rsa.publicPem }, { prefix: edge.prefix });
    try {
      const ok = new TestClient(pemEdge.wsUrl);
      expect((await ok.auth(await rsa.sign({ sub: 'rs', tid: 'acme' }))).rooms).toEqual(['user:rs']);
      ok.close();
      const forged = new TestClient(pemEdge.wsUrl);
      await forged.open();
      forged.send({ type: 'auth', token: await mintToken({ sub: 'rs', tid: 'acme' }, { secret: rsa.publicPem }) });
      expect(await forged.closed()).toBe(4500);
    } finally {
      await pemEdge.close();
    }
  });

  it('fetches keys from a JWKS URL and picks up a rotated key', async () => {
    const { createServer } = await import('node:http');
    const second = await rsaKeys('k2');
    let keys = [rsa.jwk];
    const jwks = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys })));
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
    const port = (jwks.address() as { port: number }).port;
    const jwksEdge = await startTestEdge(nats.url, { HERALD_JWT_SECRET: '', HERALD_JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, HERALD_JWT_JWKS_COOLDOWN_S: '0' }, { prefix: edge.prefix });
    try {
      const a = new TestClient(jwksEdge.wsUrl);
      expect((await a.auth(await rsa.sign({ sub: 'j1', tid: 'acme' }))).type).toBe('welcome');
      a.close();
      keys = [rsa.jwk, second.jwk];
      const b = new TestClient(jwksEdge.wsUrl);
      expect((await b.auth(await second.sign({ sub: 'j2', tid: 'acme' }))).type).toBe('welcome');
      b.close();
    } finally {
      await jwksEdge.close();
      jwks.close();
    }
  });
});

describe('auth timeout and message rules', () => {
  it('closes a connection that never authenticates with 4501', async () => {
    const c = new TestClient(edge.wsUrl);
    await c.open();
    expect(await c.closed(3000)).toBe(4501);
    expect(c.closeReason).toBe('Authentication timed out.');
    await waitFor(() => edge.logs.security('auth_timeout').length > 0);
    expect(await metricValue(edge.internalUrl, 'herald_edge_connection_failures_total', { reason: 'auth_timeout' })).toBeGreaterThan(0);
  });

  it('closes on a malformed message with 4504', async () => {
    const c = new TestClient(edge.wsUrl);
    await c.auth(await mintToken({ sub: 'm1', tid: 'acme' }));
    c.send('{"type":"launch-missiles"}');
    expect(await c.closed()).toBe(4504);
    expect(c.closeReason).toBe('Malformed or unknown message.');
    await neighbour.stillReceives();
  });

  it('refuses a subscribe before auth with 4500', async () => {
    const c = new TestClient(edge.wsUrl);
    await c.open();
    c.send({ type: 'subscribe', room: 'room:x' });
    expect(await c.closed()).toBe(4500);
  });

  it('re-authenticates with a fresh token for the same user and refuses another user', async () => {
    const c = new TestClient(edge.wsUrl);
    const w1 = await c.auth(await mintToken({ sub: 're', tid: 'acme' }, { expiresIn: 600 }));
    c.send({ type: 'auth', token: await mintToken({ sub: 're', tid: 'acme' }, { expiresIn: 3600 }) });
    await waitFor(() => c.of('welcome').length === 2);
    expect(c.of('welcome')[1]!.expires_at).toBeGreaterThan(w1.expires_at as number);
    c.send({ type: 'auth', token: await mintToken({ sub: 'other', tid: 'acme' }) });
    expect(await c.closed()).toBe(4502);
  });

  it('closes with 4003 when the token expires', async () => {
    const c = new TestClient(edge.wsUrl);
    // Clock tolerance lets a token live 30 s past exp at verification; expiry closing uses exp itself.
    await c.auth(await mintToken({ sub: 'exp', tid: 'acme' }, { expiresIn: 1 }));
    expect(await c.closed(5000)).toBe(4003);
    expect(await metricValue(edge.internalUrl, 'herald_edge_connections_closed_total', { reason: 'token_expired' })).toBeGreaterThan(0);
  });
});
