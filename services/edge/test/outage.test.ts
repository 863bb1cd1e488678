import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, SseClient, TestClient, mintToken, uniquePrefix, waitFor } from '@herald/testkit';
import { metricValue, startTestEdge, TestSource, type TestEdge } from './harness.js';

/**
 * Publish `n` notifications like the publisher does through an outage: each one retried
 * with the same Nats-Msg-Id until the stream acknowledges it. Resolves with the
 * distinct sequences stored, in order.
 */
async function publishThroughOutage(source: TestSource, sub: string, n: number, everyMs: number, onProgress: (i: number) => void): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    for (;;) {
      try {
        const seq = await source.publish('acme', { kind: 'user', id: sub }, { i }, 'test.event', { msgID: `${sub}-${i}`, timeout: 500 });
        if (!seqs.includes(seq)) seqs.push(seq);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    onProgress(i);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return seqs;
}

describe.each([
  ['few rooms: replay per room', 0],
  ['many rooms: one scan of the stream', 20],
])('NATS restarted while clients stay connected (%s)', (_name, extraRooms) => {
  let nats: NatsServer;
  let source: TestSource;
  let edge: TestEdge;

  beforeAll(async () => {
    nats = await NatsServer.start();
    const prefix = uniquePrefix();
    source = await TestSource.create(nats, prefix, { storage: 'file' });
    edge = await startTestEdge(nats.url, { HERALD_STREAM_NAME: `S_${prefix}` }, { prefix });
  });
  afterAll(async () => {
    await edge?.close();
    await source?.close();
    await nats?.dispose();
  });

  it('loses no notification: the edge replays what it missed, sockets stay open', async () => {
    const bystanders: TestClient[] = [];
    for (let i = 0; i < extraRooms; i++) {
      const b = new TestClient(edge.wsUrl);
      await b.auth(await mintToken({ sub: `idle${i}`, tid: 'acme' }));
      bystanders.push(b);
    }
    const ws = new TestClient(edge.wsUrl);
    await ws.auth(await mintToken({ sub: 'out', tid: 'acme' }));
    const sse = new SseClient(`${edge.url}/sse`, { Authorization: `Bearer ${await mintToken({ sub: 'out', tid: 'acme' })}` });
    await sse.next('welcome');
    let progress = 0;
    const publishing = publishThroughOutage(source, 'out', 150, 5, (i) => (progress = i));
    await waitFor(() => progress >= 40, { what: 'publishing under way' });
    await nats.stop();
    await waitFor(() => edge.logs.lines.some((l) => l.msg === 'NATS disconnected'), { what: 'edge saw the outage' });
    await nats.restart();
    const published = await publishing;
    await waitFor(() => ws.notifications().length >= published.length && sse.of('notification').length >= published.length, {
      timeoutMs: 20_000,
      what: `all ${published.length} notifications on both transports (ws ${ws.notifications().length}, sse ${sse.of('notification').length})`,
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(ws.notifications().map((m) => m.seq)).toEqual(published);
    expect(sse.of('notification').map((e) => Number(e.id))).toEqual(published);
    expect(ws.closeCode).toBeUndefined();
    expect(sse.closed).toBe(false);
    // The edge reconnects later than the publisher: what was stored in between came from the replay.
    const replay = edge.logs.lines.find((l) => l.msg === 'replayed notifications missed during the NATS outage');
    expect(replay).toBeDefined();
    console.log(`replayed after outage: ${String(replay?.replayed)}`);
    expect(await metricValue(edge.internalUrl, 'herald_edge_nats_connected')).toBe(1);
    expect(bystanders.every((b) => b.notifications().length === 0 && b.closeCode === undefined)).toBe(true);
    ws.close();
    sse.close();
    bystanders.forEach((b) => b.close());
  });
});

/** A TCP proxy between the edge and NATS that can cut the edge off while the publisher keeps going. */
class CutProxy {
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: number): Promise<CutProxy> {
    let proxy: CutProxy | undefined;
    const server = createServer((client) => {
      if (proxy!.cutOff) return void client.destroy();
      const upstream = tcpConnect(target, '127.0.0.1');
      for (const s of [client, upstream]) {
        proxy!.sockets.add(s);
        s.on('close', () => proxy!.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    proxy = new CutProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.cutOff = false;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe.each([
  ['few rooms: replay per room', 0],
  ['many rooms: one scan of the stream', 20],
])('edge cut off from NATS while the stream keeps filling (%s)', (_name, extraRooms) => {
  it('replays exactly what its rooms missed, in order, before going live; sockets stay open', async () => {
    const nats = await NatsServer.start();
    const prefix = uniquePrefix();
    const source = await TestSource.create(nats, prefix);
    const proxy = await CutProxy.start(nats.port);
    const edge = await startTestEdge(`nats://127.0.0.1:${proxy.port}`, { HERALD_STREAM_NAME: `S_${prefix}` }, { prefix });
    try {
      const bystanders: TestClient[] = [];
      for (let i = 0; i < extraRooms; i++) {
        const b = new TestClient(edge.wsUrl);
        await b.auth(await mintToken({ sub: `idle${i}`, tid: 'acme' }));
        bystanders.push(b);
      }
      const ws = new TestClient(edge.wsUrl);
      await ws.auth(await mintToken({ sub: 'cut', tid: 'acme', roles: ['admin'] }));
      const expected = [await source.publish('acme', { kind: 'user', id: 'cut' }, { before: true })];
      await ws.waitNotifications(1);
      proxy.cut();
      await waitFor(() => edge.logs.lines.some((l) => l.msg === 'NATS disconnected'), { what: 'edge cut off' });
      // Stored while the edge cannot hear: its rooms' messages, and others' it must not deliver.
      for (let i = 0; i < 5; i++) {
        expected.push(await source.publish('acme', { kind: 'user', id: 'cut' }, { during: i }));
        await source.publish('acme', { kind: 'user', id: 'someone-else' }, { during: i });
        expected.push(await source.publish('acme', { kind: 'tenant' }, { during: i }));
        await source.publish('beta', { kind: 'tenant' }, { during: i });
      }
      expect(ws.notifications()).toHaveLength(1);
      proxy.restore();
      const replay = await waitFor(() => edge.logs.lines.find((l) => l.msg === 'replayed notifications missed during the NATS outage'), { timeoutMs: 10_000, what: 'replay' });
      expect(replay.replayed).toBe(10);
      expected.push(await source.publish('acme', { kind: 'user', id: 'cut' }, { after: true }));
      await ws.waitNotifications(expected.length);
      await new Promise((r) => setTimeout(r, 100));
      expect(ws.notifications().map((m) => m.seq)).toEqual(expected);
      expect(ws.closeCode).toBeUndefined();
      expect(bystanders.every((b) => b.notifications().length === 0 && b.closeCode === undefined)).toBe(true);
      ws.close();
      bystanders.forEach((b) => b.close());
    } finally {
      await edge.close();
      await proxy.close();
      await source.close();
      await nats.dispose();
    }
  });
});

describe('NATS outage past HERALD_NATS_OUTAGE_MAX_S', () => {
  it('closes affected connections with 4000 on reconnect, and they resume without loss', async () => {
    const nats = await NatsServer.start();
    const prefix = uniquePrefix();
    const source = await TestSource.create(nats, prefix, { storage: 'file' });
    const edge = await startTestEdge(nats.url, { HERALD_STREAM_NAME: `S_${prefix}`, HERALD_NATS_OUTAGE_MAX_S: '0' }, { prefix });
    try {
      const token = await mintToken({ sub: 'long', tid: 'acme' });
      const c = new TestClient(edge.wsUrl);
      await c.auth(token);
      const before = await source.publish('acme', { kind: 'user', id: 'long' });
      await c.waitNotifications(1);
      await nats.stop();
      await waitFor(() => edge.logs.lines.some((l) => l.msg === 'NATS disconnected'), { what: 'edge saw the outage' });
      await nats.restart();
      expect(await c.closed(15_000)).toBe(4000);
      expect(edge.logs.lines.some((l) => l.msg === 'closing connections so that they resume')).toBe(true);
      const missed = await waitFor(() => source.publish('acme', { kind: 'user', id: 'long' }, {}, 'test.event', { msgID: 'after' }).catch(() => undefined), { what: 'publish after restart' });
      const again = new TestClient(edge.wsUrl);
      await again.auth(token, before);
      await again.waitNotifications(1);
      expect(again.notifications().map((m) => m.seq)).toEqual([missed]);
      expect(await metricValue(edge.internalUrl, 'herald_edge_connections_closed_total', { reason: 'nats_outage' })).toBe(1);
      again.close();
    } finally {
      await edge.close();
      await source.close();
      await nats.dispose();
    }
  });
});
