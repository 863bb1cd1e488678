import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, TestClient, mintToken, uniquePrefix, waitFor } from '@herald/testkit';
import { MemoryBus } from '../src/bus/memory.js';
import { metricValue, startTestEdge } from './harness.js';
import { startEdgeProcess } from './cluster.js';

let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start();
});
afterAll(async () => {
  await nats?.dispose();
});

/** An edge in its own process (signals are the point here) with this file's overrides. */
async function edgeProcess(env: Record<string, string>) {
  const e = await startEdgeProcess(nats, uniquePrefix(), env);
  return { p: e.p, wsUrl: e.wsUrl, internalUrl: e.internalUrl };
}

describe('SIGTERM drain', () => {
  it('turns not-ready, waits the drain delay, closes every connection with 4000 in paced batches, exits 0 before the deadline', async () => {
    const { p, wsUrl, internalUrl } = await edgeProcess({ HERALD_DRAIN_DELAY_S: '1', HERALD_DRAIN_WINDOW_S: '2', HERALD_SHUTDOWN_TIMEOUT_S: '10' });
    const clients: TestClient[] = [];
    for (let i = 0; i < 40; i++) {
      const c = new TestClient(wsUrl);
      await c.auth(await mintToken({ sub: `d${i}`, tid: 'acme' }));
      clients.push(c);
    }
    expect((await fetch(`${internalUrl}/readyz`)).status).toBe(200);
    const t0 = Date.now();
    p.proc.kill('SIGTERM');
    p.proc.kill('SIGTERM'); // idempotent: a second signal changes nothing
    await waitFor(async () => (await fetch(`${internalUrl}/readyz`)).status === 503, { what: 'readyz 503' });
    expect(await metricValue(internalUrl, 'herald_edge_draining')).toBe(1);
    // During the drain delay connections stay open.
    expect(clients.every((c) => c.closeCode === undefined)).toBe(true);
    await p.wait();
    const elapsed = Date.now() - t0;
    expect(p.exitCode).toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(10_000);
    await waitFor(() => clients.every((c) => c.closeCode !== undefined));
    expect(new Set(clients.map((c) => c.closeCode))).toEqual(new Set([4000]));
    expect(clients[0]!.closeReason).toBe('Server is restarting; reconnect.');
    // Paced: closes spread over the window, not all at once.
    const closeTimes = p.logs().filter((l) => l.msg === 'drain complete');
    expect(closeTimes).toHaveLength(1);
    expect(p.output).toContain('drain started');
  });

  it('exits with 1 when the watchdog fires before the drain completes', async () => {
    // A bus whose drain never finishes: only the watchdog can end the shutdown.
    const stuck = new MemoryBus();
    stuck.drain = () => new Promise<void>(() => undefined);
    const edge = await startTestEdge(undefined, { HERALD_DRAIN_DELAY_S: '0', HERALD_DRAIN_WINDOW_S: '0', HERALD_SHUTDOWN_TIMEOUT_S: '1' }, { bus: stuck });
    void edge.shutdown('test');
    await waitFor(() => edge.exitCode !== undefined, { timeoutMs: 3_000, what: 'watchdog exit' });
    expect(edge.exitCode).toBe(1);
    expect(edge.logs.lines.some((l) => l.msg === 'shutdown watchdog fired; exiting')).toBe(true);
  });
});

describe('readiness and metrics', () => {
  it('is not ready while NATS is down, and ready again after it returns', async () => {
    const own = await NatsServer.start();
    const { p, wsUrl, internalUrl } = await startEdgeProcess(own, uniquePrefix());
    const readyz = async () => (await fetch(`${internalUrl}/readyz`).catch(() => undefined))?.status;
    try {
      expect(await readyz()).toBe(200);
      expect((await fetch(`${internalUrl}/livez`)).status).toBe(200);
      expect(await metricValue(internalUrl, 'herald_edge_nats_connected')).toBe(1);
      const c = new TestClient(wsUrl);
      await c.auth(await mintToken({ sub: 'stay', tid: 'acme' }));
      await own.stop();
      await waitFor(async () => (await readyz()) === 503, { what: 'not ready without NATS' });
      expect(await metricValue(internalUrl, 'herald_edge_nats_connected')).toBe(0);
      // Client sockets are kept while NATS is away.
      expect(c.closeCode).toBeUndefined();
      await own.restart();
      await waitFor(async () => (await readyz()) === 200, { timeoutMs: 15_000, what: 'ready again' });
      expect(c.closeCode).toBeUndefined();
      c.close();
    } finally {
      await p.stop('SIGKILL');
      await own.dispose();
    }
  });

  it('counts connections, opens, closes and failures', async () => {
    const { p, wsUrl, internalUrl } = await edgeProcess({});
    try {
      const c = new TestClient(wsUrl);
      await c.auth(await mintToken({ sub: 'm', tid: 'acme' }));
      expect(await metricValue(internalUrl, 'herald_edge_connections', { transport: 'ws' })).toBe(1);
      expect(await metricValue(internalUrl, 'herald_edge_connections_opened_total', { transport: 'ws' })).toBe(1);
      const bad = new TestClient(wsUrl);
      await bad.open();
      bad.send({ type: 'auth', token: 'x.y.z' });
      await bad.closed();
      c.ws.close(1000);
      await waitFor(async () => (await metricValue(internalUrl, 'herald_edge_connections', { transport: 'ws' })) === 0);
      expect(await metricValue(internalUrl, 'herald_edge_connections_closed_total', { transport: 'ws', reason: 'client' })).toBe(1);
      expect(await metricValue(internalUrl, 'herald_edge_connection_failures_total', { reason: 'auth_failed' })).toBe(1);
      expect(await metricValue(internalUrl, 'herald_edge_connection_attempts_total', { transport: 'ws' })).toBe(2);
      expect(await metricValue(internalUrl, 'herald_edge_security_events_total', { kind: 'auth_failed' })).toBe(1);
      const text = await (await fetch(`${internalUrl}/metrics`)).text();
      expect(text).toContain('herald_edge_delivery_latency_seconds_bucket{le="0.001"}');
      expect(text).toContain('process_resident_memory_bytes');
      // No per-user labels anywhere.
      expect(text).not.toMatch(/sub="/);
    } finally {
      await p.stop('SIGKILL');
    }
  });
});
