import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, SseClient, TestClient, mintToken, uniquePrefix, waitFor } from '@herald/testkit';
import { metricValue, TestSource } from './harness.js';
import { Revoker, startEdgeProcess, type EdgeProcess } from './cluster.js';

let nats: NatsServer;
let prefix: string;
let a: EdgeProcess;
let b: EdgeProcess;
let revoker: Revoker;

beforeAll(async () => {
  nats = await NatsServer.start();
  prefix = uniquePrefix();
  [a, b] = await Promise.all([startEdgeProcess(nats, prefix), startEdgeProcess(nats, prefix)]);
  revoker = await Revoker.create(nats, prefix);
});
afterAll(async () => {
  await revoker?.close();
  await Promise.all([a?.stop(), b?.stop()]);
  await nats?.dispose();
});

async function connected(url: string, token: string): Promise<TestClient> {
  const c = new TestClient(url);
  await c.auth(token);
  return c;
}

/** Time from the revocation until every client in `hit` saw 4503. */
async function closedWithin(hit: TestClient[], since: number): Promise<number> {
  await waitFor(() => hit.every((c) => c.closeCode !== undefined), { timeoutMs: 3_000, what: 'revoked connections closed' });
  expect(hit.map((c) => c.closeCode)).toEqual(hit.map(() => 4503));
  expect(hit[0]!.closeReason).toBe('Session revoked.');
  return Date.now() - since;
}

describe('revocation across edges', () => {
  it('by sub: that user\'s connections on every edge close within 1 s; others untouched; the token cannot reconnect', async () => {
    const t1 = await mintToken({ sub: 'rs', tid: 'acme' });
    const t2 = await mintToken({ sub: 'rs', tid: 'acme' });
    const hit = [await connected(a.wsUrl, t1), await connected(b.wsUrl, t2)];
    const sseHit = new SseClient(`${b.url}/sse`, { Authorization: `Bearer ${t1}` });
    await sseHit.next('welcome');
    const bystanders = [await connected(a.wsUrl, await mintToken({ sub: 'rs', tid: 'beta' })), await connected(b.wsUrl, await mintToken({ sub: 'other', tid: 'acme' }))];
    const t0 = Date.now();
    const r = await revoker.revoke({ kind: 'sub', tenant: 'acme', sub: 'rs' });
    expect(await closedWithin(hit, t0)).toBeLessThan(1_000);
    await waitFor(() => sseHit.closed, { timeoutMs: 1_000, what: 'SSE stream revoked' });
    expect(sseHit.events.at(-1)).toMatchObject({ event: 'error' });
    expect(JSON.parse(sseHit.events.at(-1)!.data)).toMatchObject({ code: 'REVOKED' });
    expect(bystanders.every((c) => c.closeCode === undefined)).toBe(true);
    // ... and keep receiving.
    const source = await TestSource.create(nats, prefix);
    try {
      await source.publish('acme', { kind: 'user', id: 'other' }, { still: true });
      await bystanders[1]!.waitNotifications(1);
    } finally {
      await source.close();
    }

    // The same tokens are refused at connect, on both edges and both transports.
    for (const e of [a, b]) {
      const again = new TestClient(e.wsUrl);
      await again.open();
      again.send({ type: 'auth', token: t1 });
      expect(await again.closed()).toBe(4503);
      const s = new SseClient(`${e.url}/sse`, { Authorization: `Bearer ${t2}` });
      expect(await s.response()).toBe(401);
      await s.done;
      expect(JSON.parse(s.body)).toMatchObject({ code: 'REVOKED' });
    }
    await waitFor(() => a.p.logs().some((l) => l.event === 'security' && l.kind === 'revoked' && l.sub === 'rs'));
    expect(await metricValue(a.internalUrl, 'herald_edge_connections_closed_total', { reason: 'revoked' })).toBeGreaterThanOrEqual(1);
    // A token issued after the revocation (a fresh login) is accepted.
    await waitFor(() => Math.floor(Date.now() / 1000) > r.at, { timeoutMs: 2_000, what: 'next second' });
    const fresh = await connected(a.wsUrl, await mintToken({ sub: 'rs', tid: 'acme' }));
    expect(fresh.closeCode).toBeUndefined();
    [fresh, ...bystanders].forEach((c) => c.close());
  });

  it('by jti: only that token\'s connection closes', async () => {
    const jti = 'session-123';
    const hit = await connected(b.wsUrl, await mintToken({ sub: 'rj', tid: 'acme' }, { jti }));
    const sameUser = await connected(a.wsUrl, await mintToken({ sub: 'rj', tid: 'acme' }, { jti: 'session-456' }));
    const t0 = Date.now();
    await revoker.revoke({ kind: 'jti', jti });
    expect(await closedWithin([hit], t0)).toBeLessThan(1_000);
    expect(sameUser.closeCode).toBeUndefined();
    sameUser.close();
  });

  it('by tenant: every connection of the tenant on every edge closes; another tenant is untouched', async () => {
    const hit = [
      await connected(a.wsUrl, await mintToken({ sub: 'x1', tid: 'gone' })),
      await connected(b.wsUrl, await mintToken({ sub: 'x2', tid: 'gone', roles: ['admin'] })),
    ];
    const other = await connected(a.wsUrl, await mintToken({ sub: 'x1', tid: 'stays' }));
    const t0 = Date.now();
    await revoker.revoke({ kind: 'tenant', tenant: 'gone' });
    expect(await closedWithin(hit, t0)).toBeLessThan(1_000);
    expect(other.closeCode).toBeUndefined();
    other.close();
  });

  it('an edge started after the revocations refuses the revoked tokens', async () => {
    const old = await mintToken({ sub: 'late', tid: 'acme' }, { jti: 'late-jti' });
    await revoker.revoke({ kind: 'jti', jti: 'late-jti' });
    const c = await startEdgeProcess(nats, prefix);
    try {
      const t = new TestClient(c.wsUrl);
      await t.open();
      t.send({ type: 'auth', token: old });
      expect(await t.closed()).toBe(4503);
      // Everything revoked so far was loaded from the KV bucket before the edge listened.
      expect(c.p.logs().some((l) => l.msg === 'revocations loaded' && l.loaded === 4)).toBe(true);
    } finally {
      await c.stop();
    }
  });
});
