import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { NatsServer, SseClient, TestClient, mintToken, uniquePrefix, waitFor } from '@herald/testkit';
import { metricValue, startTestEdge, TestSource, type TestEdge } from './harness.js';
import { startEdgeProcess, type EdgeProcess } from './cluster.js';

let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start();
});
afterAll(async () => {
  await nats?.dispose();
});

/** Publish `n` notifications to one user, one every `everyMs`, in the background; resolves with their sequences. */
function steadyStream(source: TestSource, sub: string, n: number, everyMs: number): Promise<number[]> {
  return (async () => {
    const seqs: number[] = [];
    for (let i = 0; i < n; i++) {
      seqs.push(await source.publish('acme', { kind: 'user', id: sub }, { i }));
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return seqs;
  })();
}

const wsSeqs = (c: TestClient) => c.notifications().map((m) => m.seq as number);

describe('resume across pods after SIGKILL', () => {
  let prefix: string;
  let source: TestSource;
  let a: EdgeProcess;
  let b: EdgeProcess;

  beforeAll(async () => {
    prefix = uniquePrefix();
    source = await TestSource.create(nats, prefix);
    [a, b] = await Promise.all([startEdgeProcess(nats, prefix), startEdgeProcess(nats, prefix)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await source?.close();
  });

  it('WebSocket: the received sequence is gap-free and duplicate-free', async () => {
    const token = await mintToken({ sub: 'kw', tid: 'acme' });
    const first = new TestClient(a.wsUrl);
    await first.auth(token);
    const publishing = steadyStream(source, 'kw', 300, 3);
    await waitFor(() => first.notifications().length >= 60, { what: 'first 60 on edge A' });
    await a.stop('SIGKILL');
    await first.closed();
    const seen = wsSeqs(first);
    const second = new TestClient(b.wsUrl);
    await second.auth(token, seen[seen.length - 1]);
    const published = await publishing;
    await waitFor(() => seen.length + second.notifications().length >= published.length, { timeoutMs: 15_000, what: 'all notifications' });
    const all = [...seen, ...wsSeqs(second)];
    expect(all).toEqual(published);
    second.close();
    expect(await metricValue(b.internalUrl, 'herald_edge_resumes_total', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    a = await startEdgeProcess(nats, prefix);
  });

  it('SSE: Last-Event-ID on another pod continues exactly where the stream stopped', async () => {
    const token = await mintToken({ sub: 'ks', tid: 'acme' });
    const first = new SseClient(`${a.url}/sse`, { Authorization: `Bearer ${token}` });
    await first.next('welcome');
    const publishing = steadyStream(source, 'ks', 300, 3);
    await waitFor(() => first.of('notification').length >= 60, { what: 'first 60 on edge A' });
    await a.stop('SIGKILL');
    await waitFor(() => first.closed, { what: 'stream cut' });
    const seen = first.of('notification').map((e) => Number(e.id));
    const second = new SseClient(`${b.url}/sse`, { Authorization: `Bearer ${token}`, 'Last-Event-ID': String(seen[seen.length - 1]) });
    expect(await second.response()).toBe(200);
    const published = await publishing;
    await waitFor(() => seen.length + second.of('notification').length >= published.length, { timeoutMs: 15_000, what: 'all notifications' });
    const resumed = second.of('notification');
    expect([...seen, ...resumed.map((e) => Number(e.id))]).toEqual(published);
    // The id field and the envelope's seq agree.
    expect(resumed.every((e) => (JSON.parse(e.data) as { seq: number }).seq === Number(e.id))).toBe(true);
    second.close();
  });
});

describe.each([
  ['direct get', true],
  ['consumer fallback', false],
])('resume edge cases (%s)', (_name, direct) => {
  let edge: TestEdge;
  let source: TestSource;
  let bounded: TestEdge;

  beforeAll(async () => {
    const prefix = uniquePrefix();
    source = await TestSource.create(nats, prefix, { direct });
    edge = await startTestEdge(nats.url, { HERALD_STREAM_NAME: `S_${prefix}` }, { prefix });
    bounded = await startTestEdge(nats.url, { HERALD_STREAM_NAME: `S_${prefix}`, HERALD_RESUME_MAX_MESSAGES: '5' }, { prefix });
  });
  afterAll(async () => {
    await edge?.close();
    await bounded?.close();
    await source?.close();
  });

  it('replays only the connection\'s own subjects, in order, then continues live', async () => {
    const token = await mintToken({ sub: 'mix', tid: 'acme', roles: ['admin'] });
    const s0 = await source.publish('acme', { kind: 'user', id: 'mix' }, { n: 0 });
    const mine = [
      await source.publish('acme', { kind: 'user', id: 'mix' }, { n: 1 }),
      await source.publish('acme', { kind: 'tenant' }, { n: 2 }),
    ];
    await source.publish('acme', { kind: 'user', id: 'someone-else' }, { n: 3 });
    await source.publish('beta', { kind: 'tenant' }, { n: 4 });
    mine.push(await source.publish('acme', { kind: 'user', id: 'mix' }, { n: 5 }));
    const c = new TestClient(edge.wsUrl);
    await c.auth(token, s0);
    await c.waitNotifications(3);
    mine.push(await source.publish('acme', { kind: 'user', id: 'mix' }, { n: 6 }));
    await c.waitNotifications(4);
    await new Promise((r) => setTimeout(r, 100));
    expect(wsSeqs(c)).toEqual(mine);
    expect(c.of('gap')).toHaveLength(0);
    c.close();
  });

  it('named rooms given on the upgrade (?rooms=) are covered by the resume', async () => {
    const token = await mintToken({ sub: 'nr', tid: 'acme', rooms: ['ops'] });
    const from = await source.publish('acme', { kind: 'user', id: 'nr' });
    const missed = [await source.publish('acme', { kind: 'room', id: 'ops' }, { ops: 1 }), await source.publish('acme', { kind: 'user', id: 'nr' })];
    const c = new TestClient(`${edge.wsUrl}?rooms=room:ops`);
    const w = await c.auth(token, from);
    expect(w.rooms).toEqual(['user:nr', 'room:ops']);
    await c.waitNotifications(2);
    missed.push(await source.publish('acme', { kind: 'room', id: 'ops' }, { ops: 2 }));
    await c.waitNotifications(3);
    expect(wsSeqs(c)).toEqual(missed);
    c.close();
    const refused = new TestClient(`${edge.wsUrl}?rooms=room:finance`);
    await refused.open();
    refused.send({ type: 'auth', token });
    expect(await refused.closed()).toBe(4502);
  });

  it('a room with nothing after the cursor does not break the resume of the others', async () => {
    const token = await mintToken({ sub: 'boss', tid: 'acme', roles: ['admin', 'super_admin'] });
    const from = await source.publish('acme', { kind: 'user', id: 'boss' });
    const missed = [await source.publish('acme', { kind: 'user', id: 'boss' }, { n: 1 })];
    const c = new TestClient(edge.wsUrl);
    expect((await c.auth(token, from)).rooms).toEqual(['user:boss', 'tenant', 'global']);
    await c.waitNotifications(1);
    expect(wsSeqs(c)).toEqual(missed);
    expect(c.closeCode).toBeUndefined();
    c.close();
  });

  it('a non-browser client resumes with Authorization and Last-Event-ID on the upgrade', async () => {
    const from = await source.publish('acme', { kind: 'user', id: 'hdr' });
    const missed = await source.publish('acme', { kind: 'user', id: 'hdr' });
    const c = new TestClient(edge.wsUrl, { headers: { Authorization: `Bearer ${await mintToken({ sub: 'hdr', tid: 'acme' })}`, 'Last-Event-ID': String(from) } });
    await c.next('welcome');
    await c.waitNotifications(1);
    expect(wsSeqs(c)).toEqual([missed]);
    c.close();
  });

  it('a cursor at the end replays nothing and goes live', async () => {
    const last = await source.publish('acme', { kind: 'user', id: 'end' });
    const c = new TestClient(edge.wsUrl);
    await c.auth(await mintToken({ sub: 'end', tid: 'acme' }), last);
    const next = await source.publish('acme', { kind: 'user', id: 'end' });
    await c.waitNotifications(1);
    expect(wsSeqs(c)).toEqual([next]);
    c.close();
  });

  it('a cursor older than the stream holds gets gap first, then the oldest held', async () => {
    const seqs: number[] = [];
    for (let i = 0; i < 4; i++) seqs.push(await source.publish('acme', { kind: 'user', id: 'old' }, { i }));
    const jsm = await jetstreamManager(source.nc);
    // Drop everything before seqs[2]: the stream now starts after the client's cursor.
    await jsm.streams.purge(`S_${source.prefix}`, { seq: seqs[2]! });
    const c = new TestClient(edge.wsUrl);
    await c.auth(await mintToken({ sub: 'old', tid: 'acme' }), seqs[0]);
    await c.waitNotifications(2);
    const types = c.messages.map((m) => m.type);
    expect(types.slice(0, 2)).toEqual(['welcome', 'gap']);
    expect(wsSeqs(c)).toEqual(seqs.slice(2));
    expect(await metricValue(edge.internalUrl, 'herald_edge_resumes_total', { result: 'gap' })).toBeGreaterThanOrEqual(1);
    // SSE: event: gap before the notifications.
    const s = new SseClient(`${edge.url}/sse`, { Authorization: `Bearer ${await mintToken({ sub: 'old', tid: 'acme' })}`, 'Last-Event-ID': String(seqs[0]) });
    await s.waitEvents('notification', 2);
    expect(s.events.map((e) => e.event).slice(0, 2)).toEqual(['welcome', 'gap']);
    expect(s.of('notification').map((e) => Number(e.id))).toEqual(seqs.slice(2));
    c.close();
    s.close();
  });

  it('more than RESUME_MAX_MESSAGES missed → gap, then live (no partial replay)', async () => {
    const from = await source.publish('acme', { kind: 'user', id: 'many' });
    for (let i = 0; i < 8; i++) await source.publish('acme', { kind: 'user', id: 'many' }, { i });
    const c = new TestClient(bounded.wsUrl);
    await c.auth(await mintToken({ sub: 'many', tid: 'acme' }), from);
    await c.next('gap');
    const live = await source.publish('acme', { kind: 'user', id: 'many' }, { live: true });
    await c.waitNotifications(1);
    expect(wsSeqs(c)).toEqual([live]);
    expect(await metricValue(bounded.internalUrl, 'herald_edge_resumes_total', { result: 'limit' })).toBe(1);
    c.close();
  });

  it('a malformed or future cursor is refused (WS 4504, SSE 400) and logged', async () => {
    const token = await mintToken({ sub: 'bad', tid: 'acme' });
    for (const resume of [-1, 1.5, '7', 1e20]) {
      const c = new TestClient(edge.wsUrl);
      await c.open();
      c.send({ type: 'auth', token, resume });
      expect(await c.closed()).toBe(4504);
    }
    const future = new TestClient(edge.wsUrl);
    await future.open();
    future.send({ type: 'auth', token, resume: 1_000_000_000 });
    expect(await future.closed()).toBe(4504);
    expect(future.closeReason).toBe('Malformed or unknown message.');
    await waitFor(() => edge.logs.security('bad_message').some((l) => String(l.reason).includes('beyond the last stream sequence')));
    for (const id of ['abc', '-3', '1000000000']) {
      const s = new SseClient(`${edge.url}/sse`, { Authorization: `Bearer ${token}`, 'Last-Event-ID': id });
      expect(await s.response()).toBe(400);
      await s.done;
      expect(JSON.parse(s.body)).toMatchObject({ code: 'BAD_MESSAGE' });
    }
    expect(edge.logs.security('bad_message').some((l) => l.reason === 'malformed Last-Event-ID')).toBe(true);
    expect(await metricValue(edge.internalUrl, 'herald_edge_resumes_total', { result: 'bad_cursor' })).toBeGreaterThanOrEqual(2);
  });

  it('a resume queue beyond RESUME_QUEUE_MAX is refused with RATE_LIMITED', async () => {
    const prefix = edge.prefix;
    const tight = await startTestEdge(nats.url, { HERALD_STREAM_NAME: `S_${prefix}`, HERALD_RESUME_CONCURRENCY: '1', HERALD_RESUME_QUEUE_MAX: '0', HERALD_CONNECT_BURST_PER_IP: '500' }, { prefix });
    try {
      const token = await mintToken({ sub: 'q', tid: 'acme' });
      const clients = Array.from({ length: 20 }, () => new TestClient(tight.wsUrl));
      await Promise.all(clients.map((c) => c.open()));
      for (const c of clients) c.send({ type: 'auth', token, resume: 1 });
      await waitFor(() => clients.every((c) => c.of('welcome').length === 1 || c.closeCode !== undefined), { what: 'all settled' });
      const limited = clients.filter((c) => c.closeCode === 4002);
      expect(limited.length).toBeGreaterThan(0);
      expect(clients.some((c) => c.of('welcome').length === 1)).toBe(true);
      expect(await metricValue(tight.internalUrl, 'herald_edge_resumes_total', { result: 'rejected' })).toBe(limited.length);
      clients.forEach((c) => c.close());
    } finally {
      await tight.close();
    }
  });
});

describe('resume without a stream', () => {
  it('answers gap and goes live (nothing to replay from), instead of failing the connection', async () => {
    const edge = await startTestEdge(nats.url, { HERALD_STREAM_NAME: 'NO_SUCH_STREAM' });
    try {
      const c = new TestClient(edge.wsUrl);
      await c.auth(await mintToken({ sub: 'nostream', tid: 'acme' }), 42);
      await c.next('gap');
      expect(c.closeCode).toBeUndefined();
      expect(await metricValue(edge.internalUrl, 'herald_edge_resumes_total', { result: 'gap' })).toBe(1);
      c.close();
    } finally {
      await edge.close();
    }
  });
});
