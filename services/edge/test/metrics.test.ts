import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, TestClient, mintToken, waitFor } from '@herald/testkit';
import { startTestEdge, TestSource, metricValue } from './harness.js';

let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start();
});
afterAll(async () => {
  await nats?.dispose();
});

describe('metrics', () => {
  it('exposes every labelled failure, close, drop and security series at 0 from the start', async () => {
    const edge = await startTestEdge(nats.url);
    try {
      const text = await (await fetch(`${edge.internalUrl}/metrics`)).text();
      for (const line of [
        'herald_edge_connections{transport="ws"} 0',
        'herald_edge_connections{transport="sse"} 0',
        'herald_edge_connection_failures_total{transport="ws",reason="auth_failed"} 0',
        'herald_edge_connection_failures_total{transport="sse",reason="origin"} 0',
        'herald_edge_connections_closed_total{transport="ws",reason="slow_consumer"} 0',
        'herald_edge_messages_dropped_total{reason="slow_consumer"} 0',
        'herald_edge_security_events_total{kind="auth_failed"} 0',
        'herald_edge_resumes_total{result="gap"} 0',
      ]) {
        expect(text, line).toContain(line);
      }
      // Per-tenant series only behind the flag.
      expect(text).not.toContain('herald_edge_tenant_');
    } finally {
      await edge.close();
    }
  });

  it('HERALD_TENANT_METRICS adds per-tenant series for at most N tenants, the rest as "other"', async () => {
    const edge = await startTestEdge(nats.url, { HERALD_TENANT_METRICS: 'true', HERALD_TENANT_METRICS_MAX: '2' });
    const source = await TestSource.create(nats, edge.prefix);
    const clients: TestClient[] = [];
    try {
      for (const tid of ['ta', 'tb', 'tc', 'td']) {
        const c = new TestClient(edge.wsUrl);
        await c.auth(await mintToken({ sub: 'u', tid }));
        clients.push(c);
      }
      for (const tid of ['ta', 'tb', 'tc', 'td']) await source.publish(tid, { kind: 'user', id: 'u' }, {});
      await Promise.all(clients.map((c) => c.waitNotifications(1)));
      const at = (name: string, tenant: string) => metricValue(edge.internalUrl, name, { tenant });
      expect(await at('herald_edge_tenant_connections', 'ta')).toBe(1);
      expect(await at('herald_edge_tenant_connections', 'tb')).toBe(1);
      expect(await at('herald_edge_tenant_connections', 'other')).toBe(2);
      await waitFor(async () => (await at('herald_edge_tenant_messages_delivered_total', 'other')) === 2);
      expect(await at('herald_edge_tenant_messages_delivered_total', 'ta')).toBe(1);
      const text = await (await fetch(`${edge.internalUrl}/metrics`)).text();
      expect(text).not.toMatch(/tenant="t[cd]"/);
      clients[2]!.ws.close(1000);
      await waitFor(async () => (await at('herald_edge_tenant_connections', 'other')) === 1);
    } finally {
      clients.forEach((c) => c.close());
      await source.close();
      await edge.close();
    }
  });
});
