import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, SseClient, mintToken, waitFor } from '@herald/testkit';
import { startTestEdge, TestSource, metricValue, type TestEdge } from './harness.js';

let nats: NatsServer;
let edge: TestEdge;
let source: TestSource;

beforeAll(async () => {
  nats = await NatsServer.start();
  edge = await startTestEdge(nats.url, { HERALD_SSE_HEARTBEAT_S: '1' });
  source = await TestSource.create(nats, edge.prefix);
});

afterAll(async () => {
  await source?.close();
  await edge?.close();
  await nats?.dispose();
});

const sseUrl = (q = '') => `${edge.url}/sse${q}`;

describe('SSE', () => {
  it('delivers notifications with id = stream sequence and proxy-safe headers', async () => {
    const c = new SseClient(sseUrl(), { Authorization: `Bearer ${await mintToken({ sub: 's1', tid: 'acme', roles: ['admin'] })}` });
    expect(await c.response()).toBe(200);
    expect(c.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(c.headers['cache-control']).toBe('no-store');
    expect(c.headers['x-accel-buffering']).toBe('no');
    const welcome = JSON.parse((await c.next('welcome')).data);
    expect(welcome).toMatchObject({ type: 'welcome', rooms: ['user:s1', 'tenant'] });
    const s1 = await source.publish('acme', { kind: 'user', id: 's1' }, { a: 1 });
    const s2 = await source.publish('acme', { kind: 'tenant' }, { a: 2 });
    const events = await c.waitEvents('notification', 2);
    expect(events.map((e) => e.id)).toEqual([String(s1), String(s2)]);
    expect(JSON.parse(events[0]!.data)).toMatchObject({ type: 'notification', room: 'user:s1', seq: s1, data: { a: 1 } });
    expect(await metricValue(edge.internalUrl, 'herald_edge_messages_delivered_total', { transport: 'sse' })).toBeGreaterThanOrEqual(2);
    c.close();
  });

  it('sends comment heartbeats', async () => {
    const c = new SseClient(sseUrl(), { Authorization: `Bearer ${await mintToken({ sub: 'hb', tid: 'acme' })}` });
    await c.next('welcome');
    await waitFor(() => c.comments >= 2, { timeoutMs: 5_000, what: 'two heartbeats' });
    c.close();
  });

  it('joins granted named rooms from ?rooms= and refuses others with 403', async () => {
    const token = await mintToken({ sub: 'r', tid: 'acme', rooms: ['ops'] });
    const ok = new SseClient(sseUrl('?rooms=room:ops'), { Authorization: `Bearer ${token}` });
    expect(JSON.parse((await ok.next('welcome')).data).rooms).toEqual(['user:r', 'room:ops']);
    await source.publish('acme', { kind: 'room', id: 'ops' }, { ops: true });
    await ok.waitEvents('notification', 1);
    ok.close();
    const bad = new SseClient(sseUrl('?rooms=room:finance'), { Authorization: `Bearer ${token}` });
    expect(await bad.response()).toBe(403);
    await bad.done;
    expect(JSON.parse(bad.body)).toEqual({ type: 'error', code: 'FORBIDDEN', message: 'Not allowed.' });
  });

  it('refuses missing or bad credentials with 401 and a generic body', async () => {
    const none = new SseClient(sseUrl());
    expect(await none.response()).toBe(401);
    await none.done;
    expect(JSON.parse(none.body)).toEqual({ type: 'error', code: 'AUTH_FAILED', message: 'Authentication failed.' });
    const expired = new SseClient(sseUrl(), { Authorization: `Bearer ${await mintToken({ sub: 'x', tid: 'acme' }, { expiresIn: -100 })}` });
    expect(await expired.response()).toBe(401);
    await waitFor(() => edge.logs.security('auth_failed').some((l) => l.transport === 'sse'));
  });

  it('refuses a disallowed Origin with 403 and answers CORS preflight for an allowed one', async () => {
    const bad = new SseClient(sseUrl(), { Origin: 'https://evil.example.com', Authorization: `Bearer ${await mintToken({ sub: 'x', tid: 'acme' })}` });
    expect(await bad.response()).toBe(403);
    const pre = await fetch(sseUrl(), { method: 'OPTIONS', headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Headers': 'authorization' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const good = new SseClient(sseUrl(), { Origin: 'https://app.example.com', Authorization: `Bearer ${await mintToken({ sub: 'x', tid: 'acme' })}` });
    expect(await good.response()).toBe(200);
    expect(good.headers['access-control-allow-origin']).toBe('https://app.example.com');
    good.close();
  });

  it('ends the stream with event: reauth when the token expires', async () => {
    const c = new SseClient(sseUrl(), { Authorization: `Bearer ${await mintToken({ sub: 'e', tid: 'acme' }, { expiresIn: 1 })}` });
    await c.next('welcome');
    await c.next('reauth', 5_000);
    await waitFor(() => c.ended, { what: 'stream end' });
  });
});
