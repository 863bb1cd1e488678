import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, TestClient, freePort, mintToken, uniquePrefix, waitFor } from '@herald/testkit';
import { startEdgeProcess, type EdgeProcess } from './cluster.js';
import { startTestEdge, TestSource, metricValue, type TestEdge } from './harness.js';

let nats: NatsServer;

beforeAll(async () => {
  nats = await NatsServer.start();
});
afterAll(async () => {
  await nats?.dispose();
});

/** Subscriptions the nats-server itself reports, for the truth rather than the edge's gauge. */
async function serverSubs(monitorPort: number, prefix: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/connz?subs=1`);
  const body = (await res.json()) as { connections: Array<{ subscriptions_list?: string[] }> };
  return body.connections.flatMap((c) => c.subscriptions_list ?? []).filter((s) => s.startsWith(`${prefix}.live.`)).length;
}

describe('one NATS subscription per room per pod', () => {
  it('1,000 clients in one room make one subscription, removed after the last leaves', async () => {
    const monitor = await freePort();
    const server = await NatsServer.start({ extraConfig: `http: 127.0.0.1:${monitor}` });
    const edge = await startTestEdge(server.url, { HERALD_UNSUBSCRIBE_DELAY_MS: '300', HERALD_CONNECT_BURST_PER_IP: '5000', HERALD_MAX_CONNECTIONS_PER_USER: '2000' });
    const source = await TestSource.create(server, edge.prefix);
    const clients: TestClient[] = [];
    try {
      const token = await mintToken({ sub: 'crowd', tid: 'acme' });
      for (let i = 0; i < 1000; i += 100) {
        const batch = Array.from({ length: 100 }, () => new TestClient(edge.wsUrl));
        clients.push(...batch);
        await Promise.all(batch.map((c) => c.auth(token)));
      }
      expect(edge.edge.hub.members(`${edge.prefix}.live.t.acme.u.crowd`)).toBe(1000);
      await waitFor(async () => (await serverSubs(monitor, edge.prefix)) === 1, { what: 'one server-side subscription' });
      expect(await metricValue(edge.internalUrl, 'herald_edge_nats_subscriptions')).toBe(1);

      const seq = await source.publish('acme', { kind: 'user', id: 'crowd' }, { hello: 'all' });
      await waitFor(() => clients.every((c) => c.notifications().length === 1), { timeoutMs: 10_000, what: 'all 1,000 delivered' });
      expect(clients.every((c) => c.notifications()[0]!.seq === seq)).toBe(true);
      expect(await metricValue(edge.internalUrl, 'herald_edge_messages_delivered_total', { transport: 'ws' })).toBe(1000);

      // All but one leave: still subscribed. The last leaves: unsubscribed after the delay.
      for (const c of clients.slice(1)) c.close();
      await waitFor(() => edge.edge.hub.members(`${edge.prefix}.live.t.acme.u.crowd`) === 1, { timeoutMs: 10_000 });
      expect(await serverSubs(monitor, edge.prefix)).toBe(1);
      clients[0]!.close();
      await waitFor(async () => (await serverSubs(monitor, edge.prefix)) === 0, { what: 'subscription removed' });
      expect(await metricValue(edge.internalUrl, 'herald_edge_nats_subscriptions')).toBe(0);
    } finally {
      clients.forEach((c) => c.close());
      await source.close();
      await edge.close();
      await server.dispose();
    }
  });

  it('a rejoin within the unsubscribe delay keeps the subscription (no churn)', async () => {
    const edge = await startTestEdge(nats.url, { HERALD_UNSUBSCRIBE_DELAY_MS: '2000' });
    try {
      const token = await mintToken({ sub: 'churn', tid: 'acme' });
      const a = new TestClient(edge.wsUrl);
      await a.auth(token);
      const sub = edge.edge.hub.subscriptionCount;
      a.close();
      await waitFor(() => edge.edge.hub.members(`${edge.prefix}.live.t.acme.u.churn`) === 0);
      expect(edge.edge.hub.subscriptionCount).toBe(sub);
      const b = new TestClient(edge.wsUrl);
      await b.auth(token);
      expect(edge.edge.hub.subscriptionCount).toBe(sub);
      b.close();
    } finally {
      await edge.close();
    }
  });
});

describe('several edge processes', () => {
  it('a notification published once reaches clients on two edge processes', async () => {
    const prefix = uniquePrefix();
    const source = await TestSource.create(nats, prefix);
    const edges: EdgeProcess[] = [];
    const clients: TestClient[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const e = await startEdgeProcess(nats, prefix);
        edges.push(e);
        const c = new TestClient(e.wsUrl);
        await c.auth(await mintToken({ sub: `u${i}`, tid: 'acme', roles: ['admin'] }));
        clients.push(c);
      }
      const seq = await source.publish('acme', { kind: 'tenant' }, { once: true });
      for (const c of clients) {
        const [n] = await c.waitNotifications(1);
        expect(n).toMatchObject({ seq, data: { once: true } });
      }
      await source.publish('acme', { kind: 'user', id: 'u0' }, { marker: true });
      await clients[0]!.waitNotifications(2);
      expect(clients[1]!.notifications()).toHaveLength(1);
    } finally {
      clients.forEach((c) => c.close());
      await Promise.all(edges.map((e) => e.stop()));
      await source.close();
    }
  });
});

describe('malformed bus messages', () => {
  it('drops a message that is not a stored envelope and counts it', async () => {
    const edge: TestEdge = await startTestEdge(nats.url);
    const source = await TestSource.create(nats, edge.prefix);
    try {
      const c = new TestClient(edge.wsUrl);
      await c.auth(await mintToken({ sub: 'mb', tid: 'acme' }));
      source.publishLive(`${edge.prefix}.live.t.acme.u.mb`, '<script>not json</script>');
      await source.publish('acme', { kind: 'user', id: 'mb' }, { ok: true });
      await c.waitNotifications(1);
      expect(c.messages.filter((m) => m.type !== 'welcome')).toHaveLength(1);
      expect(await metricValue(edge.internalUrl, 'herald_edge_messages_dropped_total', { reason: 'malformed' })).toBe(1);
      c.close();
    } finally {
      await source.close();
      await edge.close();
    }
  });
});
