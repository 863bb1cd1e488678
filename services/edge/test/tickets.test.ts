import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { NatsServer, SseClient, TestClient, mintToken, uniquePrefix, waitFor } from '@herald/testkit';
import { Revoker, startEdgeProcess, type EdgeProcess } from './cluster.js';
import { TestSource } from './harness.js';

let nats: NatsServer;
let prefix: string;
let a: EdgeProcess;
let b: EdgeProcess;

beforeAll(async () => {
  nats = await NatsServer.start();
  prefix = uniquePrefix();
  [a, b] = await Promise.all([startEdgeProcess(nats, prefix), startEdgeProcess(nats, prefix)]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await nats?.dispose();
});

async function ticket(edge: EdgeProcess, token: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${edge.url}/v1/tickets`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

function ticketRefusals(e: EdgeProcess, reason: string): number {
  return e.p.logs().filter((l) => l.event === 'security' && l.kind === 'auth_failed' && l.reason === `ticket refused: ${reason}`).length;
}

describe('one-time tickets', () => {
  it('a ticket opens one SSE stream on either edge, exactly once, and is never logged', async () => {
    const r = await ticket(a, await mintToken({ sub: 'tk', tid: 'acme', roles: ['admin'] }), { Origin: 'https://app.example.com' });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(r.body.expires_in_s).toBe(30);
    const t = r.body.ticket as string;
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Both edges race for the same ticket: exactly one wins.
    const onA = new SseClient(`${a.url}/sse?ticket=${t}`);
    const onB = new SseClient(`${b.url}/sse?ticket=${t}`);
    const statuses = [await onA.response(), await onB.response()].sort();
    expect(statuses).toEqual([200, 401]);
    const winner = onA.status === 200 ? onA : onB;
    expect(JSON.parse((await winner.next('welcome')).data)).toMatchObject({ rooms: ['user:tk', 'tenant'] });
    // Reuse on the winning edge is refused too.
    const reuse = new SseClient(`${(onA.status === 200 ? a : b).url}/sse?ticket=${t}`);
    expect(await reuse.response()).toBe(401);
    await reuse.done;
    expect(JSON.parse(reuse.body)).toEqual({ type: 'error', code: 'AUTH_FAILED', message: 'Authentication failed.' });
    await waitFor(() => ticketRefusals(a, 'used') + ticketRefusals(b, 'used') >= 2, { what: 'reuse logged' });
    expect(a.p.output + b.p.output).not.toContain(t);
    winner.close();
  });

  it('a ticket opens a WebSocket without an auth message, once', async () => {
    const t = (await ticket(b, await mintToken({ sub: 'tw', tid: 'acme' }))).body.ticket as string;
    const c = new TestClient(`${a.wsUrl}?ticket=${t}`);
    expect(await c.next('welcome')).toMatchObject({ rooms: ['user:tw'] });
    const again = new TestClient(`${b.wsUrl}?ticket=${t}`);
    await expect(again.open()).rejects.toThrow(/401/);
    c.close();
  });

  it('a ticket with ?last_event_id= resumes (a browser opening a new EventSource)', async () => {
    const source = await TestSource.create(nats, prefix);
    try {
      const from = await source.publish('acme', { kind: 'user', id: 'tr' });
      const missed = await source.publish('acme', { kind: 'user', id: 'tr' }, { missed: true });
      const t = (await ticket(a, await mintToken({ sub: 'tr', tid: 'acme' }))).body.ticket as string;
      const s = new SseClient(`${b.url}/sse?ticket=${t}&last_event_id=${from}`);
      expect(await s.response()).toBe(200);
      const [n] = await s.waitEvents('notification', 1);
      expect(Number(n!.id)).toBe(missed);
      s.close();
    } finally {
      await source.close();
    }
  });

  it('forged and malformed tickets are refused and logged', async () => {
    for (const forged of [randomBytes(32).toString('base64url'), 'short', 'x'.repeat(43)]) {
      const s = new SseClient(`${a.url}/sse?ticket=${encodeURIComponent(forged)}`);
      expect(await s.response()).toBe(401);
    }
    await waitFor(() => ticketRefusals(a, 'unknown') >= 2 && ticketRefusals(a, 'malformed') >= 1, { what: 'forgeries logged' });
  });

  it('a ticket request needs a valid, unrevoked token and an allowed origin', async () => {
    expect((await ticket(a, 'not.a.token')).status).toBe(401);
    expect((await fetch(`${a.url}/v1/tickets`, { method: 'POST' })).status).toBe(401);
    expect((await ticket(a, await mintToken({ sub: 'o', tid: 'acme' }), { Origin: 'https://evil.example.com' })).status).toBe(403);
    const revoker = await Revoker.create(nats, prefix);
    try {
      const token = await mintToken({ sub: 'gone', tid: 'acme' }, { jti: 'tix-revoked' });
      await revoker.revoke({ kind: 'jti', jti: 'tix-revoked' });
      await waitFor(async () => (await ticket(b, token)).status === 401, { timeoutMs: 2_000, what: 'revoked token refused a ticket' });
      expect((await ticket(b, token)).body).toMatchObject({ code: 'REVOKED' });
    } finally {
      await revoker.close();
    }
  });

  it('an expired ticket is refused', async () => {
    const short = uniquePrefix();
    const e = await startEdgeProcess(nats, short, { HERALD_TICKET_TTL_S: '1' });
    try {
      const r = await ticket(e, await mintToken({ sub: 'slow', tid: 'acme' }));
      expect(r.body.expires_in_s).toBe(1);
      const issued = Date.now();
      await waitFor(() => Date.now() - issued > 1_200, { timeoutMs: 3_000, what: 'ticket lifetime over' });
      const s = new SseClient(`${e.url}/sse?ticket=${r.body.ticket as string}`);
      expect(await s.response()).toBe(401);
      const refusal = await waitFor(
        () => e.p.logs().find((l) => l.event === 'security' && typeof l.reason === 'string' && l.reason.startsWith('ticket refused:')),
        { timeoutMs: 15_000, what: 'ticket refusal logged' },
      );
      // Before the bucket's TTL removes it the ticket reads as expired; after, as unknown.
      expect(['ticket refused: expired', 'ticket refused: unknown']).toContain(refusal.reason);
    } finally {
      await e.stop();
    }
  });
});
