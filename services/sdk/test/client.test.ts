import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, waitFor } from '@herald/testkit';
import { backoffCeiling } from '../src/index.js';
import { freePort, NodeWebSocket, observe, recordingWebSocket, Stack, tokenFor, type Observed, type RunningEdge } from './harness.js';

const alice = { sub: 'alice', tid: 'acme', roles: ['member'] };
const fast = { baseMs: 50, capMs: 400 };

let stack: Stack;
const cleanup: Array<() => unknown> = [];

beforeAll(async () => {
  stack = await Stack.start();
});
afterAll(async () => {
  await stack.close();
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function edgeOn(port?: number): Promise<RunningEdge> {
  const e = await stack.edge(port === undefined ? {} : { port });
  cleanup.push(() => e.stop());
  return e;
}

function start(opts: Partial<Parameters<typeof observe>[0]> & { url: string }): Observed {
  const o = observe({ WebSocket: NodeWebSocket, getToken: tokenFor(alice), backoff: fast, ...opts });
  if (process.env.SDK_DEBUG) for (const k of ['connected', 'disconnected', 'error', 'state'] as const) o.client.on(k, (p) => console.log(Date.now() % 100000, k, JSON.stringify(p)));
  cleanup.push(() => o.client.close());
  return o;
}

async function attempts(e: RunningEdge, transport: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${e.edge.internalPort}/metrics`)).text();
  const m = new RegExp(`^herald_edge_connection_attempts_total\\{transport="${transport}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('HeraldClient against a real edge and nats-server', () => {
  it('connects over WebSocket, receives its notifications and tracks the cursor', async () => {
    const e = await edgeOn();
    const { client, events } = start({ url: e.url });
    await waitFor(() => events.connected.length === 1, { what: 'connected' });
    expect(events.connected[0]).toMatchObject({ transport: 'ws', rooms: ['user:alice'], resumedFrom: undefined });
    const s1 = await stack.publish('acme', { kind: 'user', id: 'alice' }, { n: 1 });
    await stack.publish('acme', { kind: 'user', id: 'bob' }, { n: 'not for alice' });
    const s3 = await stack.publish('acme', { kind: 'user', id: 'alice' }, { n: 3 });
    await waitFor(() => events.notification.length === 2, { what: 'two notifications' });
    expect(events.notification.map((n) => [n.seq, n.data])).toEqual([[s1, { n: 1 }], [s3, { n: 3 }]]);
    expect(client.cursor).toBe(s3);
    expect(client.state).toBe('connected');
  });

  it('reconnects after the edge restarts and keeps the cursor (resume sent in the auth message)', async () => {
    const port = await freePort();
    let e = await edgeOn(port);
    const sent: string[] = [];
    const { client, events } = start({ url: `http://127.0.0.1:${port}`, WebSocket: recordingWebSocket(sent) });
    await waitFor(() => events.connected.length === 1, { what: 'connected' });
    const seq = await stack.publish('acme', { kind: 'user', id: 'alice' });
    await waitFor(() => client.cursor === seq, { what: 'first notification' });

    await e.stop();
    await waitFor(() => events.disconnected.length >= 1, { what: 'disconnected' });
    expect(events.disconnected[0]).toMatchObject({ code: 4000, name: 'SHUTDOWN', willRetry: true, transport: 'ws' });
    // While the edge is down the client keeps trying, with growing (bounded) delays.
    await waitFor(() => events.disconnected.length >= 3, { what: 'failed retries while the edge is down' });
    events.disconnected.forEach((d, i) => expect(d.retryInMs!).toBeLessThanOrEqual(backoffCeiling(i, fast.baseMs, fast.capMs)));

    // Stored while the client has no edge: resume brings it, exactly once, in order.
    const missed = await stack.publish('acme', { kind: 'user', id: 'alice' }, { while: 'down' });
    e = await edgeOn(port);
    await waitFor(() => events.connected.length === 2, { what: 'reconnected', timeoutMs: 10_000 });
    expect(events.connected[1]).toMatchObject({ transport: 'ws', resumedFrom: seq });
    await waitFor(() => client.cursor === missed, { what: 'missed notification replayed' });
    const auths = sent.map((s) => JSON.parse(s) as { type: string; resume?: number }).filter((m) => m.type === 'auth');
    expect(auths[0]!.resume).toBeUndefined();
    expect(auths.at(-1)!.resume).toBe(seq);

    const next = await stack.publish('acme', { kind: 'user', id: 'alice' }, { after: 'restart' });
    await waitFor(() => client.cursor === next, { what: 'notification after the restart' });
    expect(events.notification.map((n) => n.seq)).toEqual([seq, missed, next]);
    expect(events.notification.at(-1)!.data).toEqual({ after: 'restart' });
    expect(events.error).toEqual([]);
  });

  it('resumes a super admin whose tenant and global rooms had nothing new (only some rooms missed messages)', async () => {
    const port = await freePort();
    let e = await edgeOn(port);
    const { client, events } = start({ url: `http://127.0.0.1:${port}`, getToken: tokenFor({ sub: 'sara', tid: 'acme', roles: ['admin', 'super_admin'] }) });
    await waitFor(() => events.connected.length === 1, { what: 'connected' });
    expect(events.connected[0]!.rooms).toEqual(['user:sara', 'tenant', 'global']);
    const first = await stack.publish('acme', { kind: 'user', id: 'sara' });
    await waitFor(() => client.cursor === first, { what: 'first' });
    await e.stop();
    const missed = await stack.publish('acme', { kind: 'user', id: 'sara' }, { while: 'down' });
    e = await edgeOn(port);
    await waitFor(() => client.cursor === missed, { what: 'missed notification replayed', timeoutMs: 10_000 });
    expect(events.connected).toHaveLength(2);
    expect(client.state).toBe('connected');
  });

  it('does not reconnect after a 4500-class close (bad token) and reports a fatal error', async () => {
    const e = await edgeOn();
    const { client, events } = start({ url: e.url, getToken: () => mintToken(alice, { secret: 'another-secret-of-at-least-32-bytes!!!' }) });
    await waitFor(() => client.state === 'closed', { what: 'closed' });
    expect(events.disconnected).toMatchObject([{ code: 4500, name: 'AUTH_FAILED', willRetry: false }]);
    expect(events.error).toMatchObject([{ code: 'AUTH_FAILED', fatal: true }]);
    expect(events.connected).toEqual([]);
    // Prove the absence of retries: give the client far longer than its largest delay
    // (and far longer than the first retry, at most 50 ms), then count attempts at the edge.
    const until = Date.now() + 8 * fast.capMs;
    await waitFor(() => Date.now() > until, { what: 'retry window', timeoutMs: 10_000 });
    expect(await attempts(e, 'ws')).toBe(1);
    expect(await attempts(e, 'sse')).toBe(0);
    expect(events.disconnected).toHaveLength(1);
  });

  it('refreshes the token in place before it expires (reauth on the open socket, no reconnect)', async () => {
    const e = await edgeOn();
    const reasons: string[] = [];
    const sent: string[] = [];
    const { client, events } = start({
      url: e.url,
      WebSocket: recordingWebSocket(sent),
      refreshBeforeMs: 2_500,
      getToken: async (reason) => {
        reasons.push(reason);
        // The first token lives 3 s; refreshed ones an hour.
        return mintToken(alice, { expiresIn: reasons.length === 1 ? 3 : 3600 });
      },
    });
    await waitFor(() => events.connected.length === 1, { what: 'connected' });
    const firstExp = events.connected[0]!.expiresAt;
    await waitFor(() => reasons.length >= 2, { what: 'refresh', timeoutMs: 5_000 });
    // Our own timer (2.5 s before expiry) or the edge's reauth notice, whichever comes first.
    expect(reasons[0]).toBe('connect');
    expect(reasons.slice(1).every((r) => r === 'reauth')).toBe(true);
    // Past the first token's expiry (plus the edge's 1 s expiry tick) the same connection is still up.
    await waitFor(() => Date.now() > firstExp * 1000 + 1_500, { what: 'past expiry', timeoutMs: 8_000 });
    const seq = await stack.publish('acme', { kind: 'user', id: 'alice' });
    await waitFor(() => client.cursor === seq, { what: 'delivery after the first token expired' });
    expect(events.disconnected).toEqual([]);
    expect(events.connected).toHaveLength(1);
    expect(sent.filter((s) => s.includes('"auth"')).length).toBe(reasons.length);
  });

  it('asks getToken for a fresh token after TOKEN_EXPIRED and reconnects with it', async () => {
    const e = await edgeOn();
    const reasons: string[] = [];
    let short: string | undefined;
    const { client, events } = start({
      url: e.url,
      refreshBeforeMs: 0,
      // An identity provider that only has short-lived tokens until the session is renewed:
      // answers to the edge's `reauth` do not extend the connection, so the edge closes it.
      getToken: async (reason) => {
        reasons.push(reason);
        if (reason === 'expired') return mintToken(alice, { expiresIn: 3600 });
        return (short ??= await mintToken(alice, { expiresIn: 2 }));
      },
    });
    await waitFor(() => events.connected.length === 2, { what: 'reconnected after expiry', timeoutMs: 10_000 });
    expect(events.disconnected[0]).toMatchObject({ code: 4003, name: 'TOKEN_EXPIRED', willRetry: true });
    expect(reasons[0]).toBe('connect');
    expect(reasons.at(-1)).toBe('expired');
    expect(reasons.filter((r) => r === 'expired')).toHaveLength(1);
    const seq = await stack.publish('acme', { kind: 'user', id: 'alice' });
    await waitFor(() => client.cursor === seq, { what: 'delivery with the new token' });
  });

  it('re-sends room subscriptions after a reconnect', async () => {
    const port = await freePort();
    let e = await edgeOn(port);
    const sent: string[] = [];
    const { client, events } = start({
      url: `http://127.0.0.1:${port}`,
      WebSocket: recordingWebSocket(sent),
      getToken: tokenFor({ ...alice, rooms: ['ops'] }),
    });
    await waitFor(() => events.connected.length === 1, { what: 'connected' });
    client.subscribe('room:ops');
    const s1 = await waitFor(async () => {
      const s = await stack.publish('acme', { kind: 'room', id: 'ops' });
      return events.notification.some((n) => n.room === 'room:ops') ? s : undefined;
    }, { what: 'room delivery' });
    expect(s1).toBeGreaterThan(0);
    await e.stop();
    e = await edgeOn(port);
    await waitFor(() => events.connected.length === 2, { what: 'reconnected', timeoutMs: 10_000 });
    await waitFor(() => sent.filter((s) => s === '{"type":"subscribe","room":"room:ops"}').length === 2, { what: 'subscribe re-sent' });
    const before = events.notification.length;
    await waitFor(async () => {
      await stack.publish('acme', { kind: 'room', id: 'ops' }, { again: true });
      return events.notification.length > before;
    }, { what: 'room delivery after reconnect' });
    client.unsubscribe('room:ops');
    expect(sent.at(-1)).toBe('{"type":"unsubscribe","room":"room:ops"}');
  });

  it('reports a forbidden room as a non-fatal error and stays connected', async () => {
    const e = await edgeOn();
    const { client, events } = start({ url: e.url });
    await waitFor(() => events.connected.length === 1, { what: 'connected' });
    client.subscribe('room:secret');
    await waitFor(() => events.error.length === 1, { what: 'forbidden' });
    expect(events.error[0]).toMatchObject({ code: 'FORBIDDEN', fatal: false });
    expect(client.state).toBe('connected');
  });

  it('stops when close() is called and says so', async () => {
    const e = await edgeOn();
    const { client, events } = start({ url: e.url });
    await waitFor(() => events.connected.length === 1, { what: 'connected' });
    client.close();
    expect(client.state).toBe('closed');
    expect(events.disconnected).toMatchObject([{ code: 1000, willRetry: false }]);
    await waitFor(() => e.edge.gateway.conns.size === 0, { what: 'server saw the close' });
  });
});
