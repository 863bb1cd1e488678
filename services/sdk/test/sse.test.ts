import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@herald/testkit';
import { freePort, NodeWebSocket, observe, Stack, tokenFor, type Observed, type RunningEdge } from './harness.js';
import { NoWebSocketProxy } from './proxy.js';

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

function start(opts: Partial<Parameters<typeof observe>[0]> & { url: string }): Observed {
  const o = observe({ WebSocket: NodeWebSocket, getToken: tokenFor(alice), backoff: fast, ...opts });
  if (process.env.SDK_DEBUG) for (const k of ['connected', 'disconnected', 'error', 'state'] as const) o.client.on(k, (p) => console.log(Date.now() % 100000, k, JSON.stringify(p)));
  cleanup.push(() => o.client.close());
  return o;
}

describe.each(['header', 'auto'] as const)('SSE fallback (sseAuth=%s)', (sseAuth) => {
  it('falls back to SSE when /ws is refused, resumes with Last-Event-ID after the edge restarts', async () => {
    const port = await freePort();
    let edge: RunningEdge = await stack.edge({ port });
    cleanup.push(() => edge.stop());
    const proxy = await NoWebSocketProxy.start(() => port);
    cleanup.push(() => proxy.close());

    const { client, events } = start({ url: proxy.url, sseAuth });
    await waitFor(() => events.connected.length === 1, { what: 'connected over SSE' });
    const story = () => JSON.stringify({ disconnected: events.disconnected, errors: events.error, requests: proxy.requests.map((r) => [r.method, r.url.replace(/ticket=[^&]+/, 'ticket=…'), r.status]) });
    // Two refusals in a row (one could be a restarting server), then SSE at once.
    expect(proxy.upgradesRefused, story()).toBe(2);
    expect(events.disconnected, story()).toHaveLength(1);
    expect(events.disconnected[0], story()).toMatchObject({ code: 1006, transport: 'ws', willRetry: true });
    expect(events.connected[0], story()).toMatchObject({ transport: 'sse', rooms: ['user:alice'] });
    expect(client.transportKind).toBe('sse');

    const s1 = await stack.publish('acme', { kind: 'user', id: 'alice' }, { n: 1 });
    await waitFor(() => client.cursor === s1, { what: 'notification over SSE' });
    expect(events.notification[0], story()).toMatchObject({ seq: s1, data: { n: 1 }, room: 'user:alice' });

    await edge.stop();
    await waitFor(() => events.disconnected.length >= 2, { what: 'stream ended' });
    expect(events.disconnected[1], story()).toMatchObject({ code: 4000, name: 'SHUTDOWN', willRetry: true, transport: 'sse' });
    // Published while the client has no edge: resume must bring it.
    const s2 = await stack.publish('acme', { kind: 'user', id: 'alice' }, { n: 2 });
    edge = await stack.edge({ port });
    await waitFor(() => events.connected.length === 2, { what: 'reconnected', timeoutMs: 10_000 });
    await waitFor(() => client.cursor === s2, { what: 'missed notification replayed' });
    expect(events.notification.map((n) => n.seq), story()).toEqual([s1, s2]);

    // Every reconnect tried WebSocket once more (refused: straight to SSE, no backoff): one
    // refusal per SSE request, plus the first cycle's second refusal. The cursor went as
    // Last-Event-ID.
    // A cycle's first SSE request is the ticket (auto) or the stream itself (header).
    const cycles = proxy.requests.filter((r) => (sseAuth === 'auto' ? r.url === '/v1/tickets' : r.url.startsWith('/sse'))).length;
    expect(proxy.upgradesRefused, story()).toBe(cycles + 1);
    expect(proxy.upgradesRefused, story()).toBeGreaterThanOrEqual(3);
    const last = proxy.sse().at(-1)!;
    expect(last.headers['last-event-id']).toBe(String(s1));
    if (sseAuth === 'header') {
      expect(last.headers.authorization).toMatch(/^Bearer /);
      expect(last.url).not.toContain('ticket=');
    } else {
      // The edge has POST /v1/tickets: the token stays out of the URL and off the stream request.
      for (const r of proxy.sse()) {
        expect(r.url).toMatch(/[?&]ticket=/);
        expect(r.headers.authorization).toBeUndefined();
      }
      // One fresh ticket per stream (single use): at least one per connection, plus failed attempts.
      expect(proxy.requests.filter((r) => r.url === '/v1/tickets').length).toBeGreaterThanOrEqual(proxy.sse().length);
    }
  });
});

describe('Node 20 without a WebSocket constructor', () => {
  it('uses SSE on its own (there is no global WebSocket)', async () => {
    expect((globalThis as { WebSocket?: unknown }).WebSocket).toBeUndefined();
    const edge = await stack.edge();
    cleanup.push(() => edge.stop());
    const { client, events } = start({ url: edge.url, WebSocket: undefined });
    await waitFor(() => events.connected.length === 1, { what: 'connected' });
    expect(events.connected[0]!.transport).toBe('sse');
    const seq = await stack.publish('acme', { kind: 'user', id: 'alice' });
    await waitFor(() => client.cursor === seq, { what: 'notification' });
  });
});

describe('SSE-only client', () => {
  it('stops on a refused token (401 → 4500 class) without retrying', async () => {
    const edge = await stack.edge();
    cleanup.push(() => edge.stop());
    const { client, events } = start({ url: edge.url, transports: ['sse'], sseAuth: 'header', getToken: () => 'not-a-jwt' });
    await waitFor(() => client.state === 'closed', { what: 'closed' });
    expect(events.disconnected).toMatchObject([{ code: 4500, willRetry: false, transport: 'sse' }]);
    expect(events.error).toMatchObject([{ code: 'AUTH_FAILED', fatal: true }]);
  });

  it('reopens the stream with the new room list when subscribing (SSE rooms are per request)', async () => {
    const edge = await stack.edge();
    cleanup.push(() => edge.stop());
    const { client, events } = start({ url: edge.url, transports: ['sse'], sseAuth: 'header', getToken: tokenFor({ ...alice, rooms: ['ops'] }) });
    await waitFor(() => events.connected.length === 1, { what: 'connected' });
    client.subscribe('room:ops');
    await waitFor(() => events.connected.length === 2, { what: 'reopened' });
    expect(events.connected[1]!.rooms).toEqual(['user:alice', 'room:ops']);
    const seq = await stack.publish('acme', { kind: 'room', id: 'ops' });
    await waitFor(() => client.cursor === seq, { what: 'room notification' });
  });
});
