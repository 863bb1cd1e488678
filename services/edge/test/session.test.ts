import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, SseClient, TestClient, mintToken, waitFor } from '@herald/testkit';
import { metricValue, startTestEdge, TestSource, type TestEdge } from './harness.js';

let nats: NatsServer;
let edge: TestEdge;
let source: TestSource;

beforeAll(async () => {
  nats = await NatsServer.start();
  edge = await startTestEdge(nats.url);
  source = await TestSource.create(nats, edge.prefix);
});
afterAll(async () => {
  await source?.close();
  await edge?.close();
  await nats?.dispose();
});

describe('token lifetime on an open connection', () => {
  it('sends reauth before expiry; a fresh token keeps the connection past the old expiry', async () => {
    const kept = new TestClient(edge.wsUrl);
    const w = await kept.auth(await mintToken({ sub: 'life', tid: 'acme' }, { expiresIn: 3 }));
    const dropped = new TestClient(edge.wsUrl);
    await dropped.auth(await mintToken({ sub: 'life2', tid: 'acme' }, { expiresIn: 3 }));
    const notice = await kept.next('reauth', 5_000);
    expect(notice.expires_in_s).toBeGreaterThan(0);
    expect(notice.expires_in_s).toBeLessThanOrEqual(2);
    // Arrives before expiry, not at it.
    expect(kept.closeCode).toBeUndefined();
    kept.send({ type: 'auth', token: await mintToken({ sub: 'life', tid: 'acme' }, { expiresIn: 3600 }) });
    await waitFor(() => kept.of('welcome').length === 2, { what: 'second welcome' });
    expect(await dropped.closed(5_000)).toBe(4003);
    // Past the first token's expiry the re-authenticated connection still receives.
    await waitFor(() => Date.now() / 1000 > (w.expires_at as number) + 1.1, { timeoutMs: 5_000, what: 'old expiry passed' });
    await source.publish('acme', { kind: 'user', id: 'life' }, { still: 'here' });
    await kept.waitNotifications(1);
    expect(kept.closeCode).toBeUndefined();
    expect(await metricValue(edge.internalUrl, 'herald_edge_connections_closed_total', { reason: 'token_expired' })).toBeGreaterThanOrEqual(1);
    kept.close();
  });

  it('re-auth with another sub closes with FORBIDDEN (4502)', async () => {
    const c = new TestClient(edge.wsUrl);
    await c.auth(await mintToken({ sub: 'me', tid: 'acme' }));
    c.send({ type: 'auth', token: await mintToken({ sub: 'me', tid: 'other-tenant' }) });
    expect(await c.closed()).toBe(4502);
    await waitFor(() => edge.logs.security('forbidden').some((l) => l.reason === 're-auth with another sub or tenant'));
  });

  it('SSE gets event: reauth before expiry, then the stream ends with event: reauth at expiry', async () => {
    const s = new SseClient(`${edge.url}/sse`, { Authorization: `Bearer ${await mintToken({ sub: 'sl', tid: 'acme' }, { expiresIn: 3 })}` });
    await s.next('welcome');
    await waitFor(() => s.of('reauth').length >= 1, { timeoutMs: 5_000, what: 'early reauth' });
    expect(s.closed).toBe(false);
    expect((JSON.parse(s.of('reauth')[0]!.data) as { expires_in_s: number }).expires_in_s).toBeGreaterThan(0);
    await waitFor(() => s.closed, { timeoutMs: 5_000, what: 'stream end at expiry' });
    const last = s.of('reauth').at(-1)!;
    expect(JSON.parse(last.data)).toEqual({ type: 'reauth', expires_in_s: 0 });
  });
});
