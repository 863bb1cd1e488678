import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { NatsServer, TestClient, mintToken, waitFor } from '@herald/testkit';
import { startTestEdge, TestSource, metricValue, type TestEdge, Neighbour } from './harness.js';

let nats: NatsServer;
let edge: TestEdge;
let source: TestSource;
let neighbour: Neighbour;

beforeAll(async () => {
  nats = await NatsServer.start();
  edge = await startTestEdge(nats.url, {
    HERALD_MAX_PAYLOAD: '1024',
    HERALD_MSG_RATE: '5',
    HERALD_MSG_BURST: '10',
    HERALD_MAX_BACKPRESSURE: '65536',
    HERALD_SLOW_CONSUMER_CHECK_MS: '50',
    HERALD_MAX_CONNECTIONS_PER_USER: '2',
    HERALD_MAX_CONNECTIONS_PER_TENANT: '5',
  });
  source = await TestSource.create(nats, edge.prefix);
  neighbour = await Neighbour.start(edge, source);
});

afterAll(async () => {
  neighbour?.close();
  await source?.close();
  await edge?.close();
  await nats?.dispose();
});


describe('origin allow-list', () => {
  it('refuses a browser Origin not on the list with 403 before the upgrade', async () => {
    const c = new TestClient(edge.wsUrl, { origin: 'https://evil.example.com' });
    await expect(c.open()).rejects.toThrow(/403/);
    await waitFor(() => edge.logs.security('origin_rejected').length > 0);
    expect(edge.logs.security('origin_rejected')[0]).toMatchObject({ ip: '127.0.0.1', reason: expect.stringContaining('evil.example.com') });
    expect(await metricValue(edge.internalUrl, 'herald_edge_connection_failures_total', { reason: 'origin' })).toBeGreaterThan(0);
  });

  it('accepts an allowed Origin and, by default, none', async () => {
    const a = new TestClient(edge.wsUrl, { origin: 'https://app.example.com' });
    await a.auth(await mintToken({ sub: 'o1', tid: 'origins' }));
    a.close();
  });

  it('refuses requests without Origin when REQUIRE_ORIGIN=true', async () => {
    const strict = await startTestEdge(nats.url, { HERALD_REQUIRE_ORIGIN: 'true' }, { prefix: edge.prefix });
    try {
      const c = new TestClient(strict.wsUrl);
      await expect(c.open()).rejects.toThrow(/403/);
      const ok = new TestClient(strict.wsUrl, { origin: 'https://app.example.com' });
      await ok.open();
      ok.close();
    } finally {
      await strict.close();
    }
  });
});

describe('inbound limits', () => {
  it('closes a frame over MAX_PAYLOAD with 4505', async () => {
    const c = new TestClient(edge.wsUrl);
    await c.auth(await mintToken({ sub: 'big', tid: 'acme' }));
    c.send(JSON.stringify({ type: 'subscribe', room: 'room:x', pad: 'x'.repeat(1500) }));
    expect(await c.closed()).toBe(4505);
    expect(c.closeReason).toBe('Message too large.');
    await waitFor(() => edge.logs.security('message_too_big').length > 0);
    await neighbour.stillReceives();
  });

  it('closes a message flood with 4002', async () => {
    const c = new TestClient(edge.wsUrl);
    await c.auth(await mintToken({ sub: 'flood', tid: 'acme', rooms: ['a'] }));
    for (let i = 0; i < 50; i++) c.send({ type: 'subscribe', room: 'room:a' });
    expect(await c.closed()).toBe(4002);
    await waitFor(() => edge.logs.security('rate_limited').some((l) => l.sub === 'flood'));
    expect(await metricValue(edge.internalUrl, 'herald_edge_connections_closed_total', { reason: 'rate_limited' })).toBeGreaterThan(0);
    await neighbour.stillReceives();
  });

  it('limits connections per user and per tenant with 4004', async () => {
    const token = await mintToken({ sub: 'multi', tid: 'small' });
    const a = new TestClient(edge.wsUrl);
    const b = new TestClient(edge.wsUrl);
    await a.auth(token);
    await b.auth(token);
    const c = new TestClient(edge.wsUrl);
    await c.open();
    c.send({ type: 'auth', token });
    expect(await c.closed()).toBe(4004);
    const others: TestClient[] = [];
    for (const sub of ['t1', 't2', 't3']) {
      const o = new TestClient(edge.wsUrl);
      await o.auth(await mintToken({ sub, tid: 'small' }));
      others.push(o);
    }
    // Tenant "small" now has 5 connections, its ceiling.
    const over = new TestClient(edge.wsUrl);
    await over.open();
    over.send({ type: 'auth', token: await mintToken({ sub: 't4', tid: 'small' }) });
    expect(await over.closed()).toBe(4004);
    // Another tenant is unaffected.
    const fine = new TestClient(edge.wsUrl);
    await fine.auth(await mintToken({ sub: 't4', tid: 'other-tenant' }));
    for (const x of [a, b, fine, ...others]) x.close();
    await neighbour.stillReceives();
  });

  it('limits connection attempts per IP with 429, and per pod with 503', async () => {
    const tight = await startTestEdge(nats.url, { HERALD_CONNECT_RATE_PER_IP: '0.1', HERALD_CONNECT_BURST_PER_IP: '3', HERALD_MAX_CONNECTIONS: '100' }, { prefix: edge.prefix });
    const cap = await startTestEdge(nats.url, { HERALD_MAX_CONNECTIONS: '2' }, { prefix: edge.prefix });
    try {
      const statuses: Array<number | undefined> = [];
      for (let i = 0; i < 5; i++) {
        const c = new TestClient(tight.wsUrl);
        await c.open().catch(() => undefined);
        statuses.push(c.unexpectedStatus);
        c.close();
      }
      expect(statuses).toEqual([undefined, undefined, undefined, 429, 429]);
      const held = [new TestClient(cap.wsUrl), new TestClient(cap.wsUrl)];
      await Promise.all(held.map((h) => h.open()));
      const third = new TestClient(cap.wsUrl);
      await expect(third.open()).rejects.toThrow(/503/);
      held.forEach((h) => h.close());
    } finally {
      await tight.close();
      await cap.close();
    }
  });
});

describe('backpressure', () => {
  it('closes a paused reader with 4001 while its neighbour keeps receiving', async () => {
    const slow = new TestClient(edge.wsUrl);
    await slow.auth(await mintToken({ sub: 'slow', tid: 'bp', roles: ['admin'] }));
    const fast = new TestClient(edge.wsUrl);
    await fast.auth(await mintToken({ sub: 'fast', tid: 'bp', roles: ['admin'] }));
    // Stop reading: the kernel buffers fill, then uWS's send buffer grows.
    const sock = (slow.ws as unknown as { _socket: Socket })._socket;
    sock.pause();
    const pad = 'y'.repeat(16_000);
    let sent = 0;
    await waitFor(
      async () => {
        for (let i = 0; i < 2; i++) await source.publish('bp', { kind: 'tenant' }, { pad, i: sent++ });
        return (await metricValue(edge.internalUrl, 'herald_edge_connections_closed_total', { reason: 'slow_consumer' })) > 0;
      },
      { timeoutMs: 20_000, what: 'slow consumer close' },
    );
    await fast.waitNotifications(sent, 10_000);
    expect(fast.closeCode).toBeUndefined();
    sock.resume();
    expect(await slow.closed(10_000)).toBe(4001);
    expect(edge.logs.security('slow_consumer').some((l) => l.sub === 'slow')).toBe(true);
    fast.close();
  });
});
