import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { HeraldClient, type NotificationEnvelope, type WebSocketConstructor } from '@herald/client';
import { freePort, ServiceProcess, waitFor } from '@herald/testkit';
import { devTokens, loadStandaloneConfig, startStandalone, type Standalone, type StandaloneConfig } from '../src/index.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function start(env: Record<string, string> = {}): Promise<{ s: Standalone; config: StandaloneConfig; user: string; service: string }> {
  const config = loadStandaloneConfig({
    HERALD_PORT: '0',
    HERALD_INTERNAL_PORT: '0',
    HERALD_PUBLISHER_PORT: '0',
    HERALD_PUBLISHER_INTERNAL_PORT: '0',
    HERALD_LOG_LEVEL: 'warn',
    ...env,
  });
  const s = await startStandalone(config);
  cleanup.push(() => s.stop('test'));
  const t = (await devTokens(config))!;
  return { s, config, user: t.user, service: t.service };
}

async function publish(s: Standalone, token: string, body: Record<string, unknown>, key?: string): Promise<{ status: number; body: { id: string; seq: number; duplicate: boolean } }> {
  const r = await fetch(`${s.publisherUrl}/v1/notifications`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}) },
    body: JSON.stringify({ tenant: 'acme', room: 'user:alice', event: 'standalone.test', data: {}, ...body }),
  });
  return { status: r.status, body: (await r.json()) as { id: string; seq: number; duplicate: boolean } };
}

function client(s: Standalone, token: string, extra: { resume?: number; transports?: Array<'ws' | 'sse'> } = {}) {
  const got: NotificationEnvelope[] = [];
  const gaps: unknown[] = [];
  const c = new HeraldClient({ url: s.edgeUrl, getToken: () => token, WebSocket: WS as unknown as WebSocketConstructor, backoff: { baseMs: 50, capMs: 400 }, ...extra });
  c.on('notification', (n) => got.push(n));
  c.on('gap', (g) => gaps.push(g));
  cleanup.push(() => c.close());
  return { c, got, gaps };
}

describe('herald standalone (edge + publisher, one process, no NATS)', () => {
  it.each(['ws', 'sse'] as const)('delivers what the publisher API accepts, with stream sequences (%s)', async (transport) => {
    const { s, user, service } = await start();
    const { c, got } = client(s, user, { transports: [transport] });
    await waitFor(() => c.state === 'connected', { what: 'connected' });
    const a = await publish(s, service, { data: { n: 1 } });
    const b = await publish(s, service, { room: 'tenant', data: { n: 2 } });
    expect([a.status, b.status]).toEqual([202, 202]);
    await waitFor(() => got.length === 2, { what: 'two notifications' });
    expect(got.map((n) => [n.id, n.seq, n.room])).toEqual([[a.body.id, a.body.seq, 'user:alice'], [b.body.id, b.body.seq, 'tenant']]);
    expect(b.body.seq).toBe(a.body.seq + 1);
  });

  it('honours idempotency keys like the JetStream duplicate window', async () => {
    const { s, service } = await start();
    const first = await publish(s, service, {}, 'order-1');
    const again = await publish(s, service, {}, 'order-1');
    expect(first.body.duplicate).toBe(false);
    expect(again.body).toMatchObject({ duplicate: true, seq: first.body.seq, id: first.body.id });
  });

  it('resumes within the process: a client that was away gets exactly what it missed', async () => {
    const { s, user, service } = await start();
    const first = client(s, user);
    await waitFor(() => first.c.state === 'connected', { what: 'connected' });
    const s1 = (await publish(s, service, { data: { n: 1 } })).body.seq;
    await waitFor(() => first.c.cursor === s1, { what: 'first' });
    first.c.close();
    const missed = [(await publish(s, service, { data: { n: 2 } })).body.seq, (await publish(s, service, { data: { n: 3 } })).body.seq];
    await publish(s, service, { room: 'user:bob', data: { not: 'mine' } });
    const second = client(s, user, { resume: first.c.cursor });
    await waitFor(() => second.got.length === 2, { what: 'replayed' });
    const s4 = (await publish(s, service, { data: { n: 4 } })).body.seq;
    await waitFor(() => second.c.cursor === s4, { what: 'live after replay' });
    expect(second.got.map((n) => n.seq)).toEqual([...missed, s4]);
    expect(second.gaps).toEqual([]);
  });

  it('reports a gap when the cursor is older than the ring holds', async () => {
    // Room for about three notifications.
    const { s, user, service } = await start({ HERALD_STREAM_MAX_BYTES: '700' });
    for (let i = 0; i < 8; i++) await publish(s, service, { data: { i } });
    expect((await s.history.bounds()).first).toBeGreaterThan(2);
    const { c, gaps, got } = client(s, user, { resume: 1 });
    await waitFor(() => gaps.length === 1, { what: 'gap' });
    await waitFor(() => got.length > 0, { what: 'what the ring still holds' });
    expect(got[0]!.seq).toBe((await s.history.bounds()).first);
    expect(c.state).toBe('connected');
  });
});

describe('revocation in standalone', () => {
  it('closes the revoked user with REVOKED and refuses the token afterwards, leaving others connected', async () => {
    const { s, config, service } = await start();
    const { SignJWT } = await import('jose');
    const sign = (sub: string) =>
      new SignJWT({ tid: 'acme', roles: ['member'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuer(config.edge.jwt.issuer)
        .setAudience(config.edge.jwt.audience)
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(config.edge.jwt.secret!));
    const alice = client(s, await sign('alice'));
    const bob = client(s, await sign('bob'));
    const aliceErrors: Array<{ code: string; fatal: boolean }> = [];
    alice.c.on('error', (e) => aliceErrors.push(e));
    await waitFor(() => alice.c.state === 'connected' && bob.c.state === 'connected', { what: 'both connected' });
    const r = await fetch(`${s.publisherUrl}/v1/revocations`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${service}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ tenant: 'acme', sub: 'alice' }),
    });
    expect(r.status).toBe(202);
    await waitFor(() => alice.c.state === 'closed', { what: 'alice closed', timeoutMs: 3_000 });
    expect(aliceErrors).toMatchObject([{ code: 'REVOKED', fatal: true }]);
    alice.c.connect();
    await waitFor(() => aliceErrors.length === 2, { what: 'refused again' });
    expect(aliceErrors[1]!.code).toBe('REVOKED');
    const seq = (await publish(s, service, { room: 'user:bob' })).body.seq;
    await waitFor(() => bob.c.cursor === seq, { what: 'bob still served' });
  });
});

describe('the herald bin', () => {
  it('starts with nothing configured, serves the demo page and stops on SIGINT', async () => {
    const [p, pi, e, ei] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const proc = new ServiceProcess('services/standalone/src/main.ts', {
      HERALD_PORT: String(e),
      HERALD_INTERNAL_PORT: String(ei),
      HERALD_PUBLISHER_PORT: String(p),
      HERALD_PUBLISHER_INTERNAL_PORT: String(pi),
      HERALD_LOG_LEVEL: 'warn',
    }, ['standalone']);
    cleanup.push(() => proc.stop('SIGKILL'));
    await waitFor(() => proc.output.includes('Ctrl-C stops it.') || !proc.running, { what: 'banner', timeoutMs: 30_000 });
    expect(proc.output).toContain(`http://127.0.0.1:${e}/demo`);
    const token = /HERALD_SERVICE_TOKEN=(\S+)/.exec(proc.output)![1]!;
    expect((await fetch(`http://127.0.0.1:${ei}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${e}/demo`)).headers.get('content-type')).toContain('text/html');
    const r = await fetch(`http://127.0.0.1:${p}/v1/notifications`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ tenant: 'acme', room: 'tenant', event: 'bin.test', data: {} }),
    });
    expect(r.status).toBe(202);
    await proc.stop('SIGINT');
    expect(proc.exitCode).toBe(0);
  });

  it('refuses an unknown setting with exit code 2', async () => {
    const proc = new ServiceProcess('services/standalone/src/main.ts', { HERALD_TYPO_SETTING: '1' }, ['standalone']);
    await proc.wait();
    expect(proc.exitCode).toBe(2);
    expect(proc.output).toMatch(/HERALD_TYPO_SETTING/);
  });
});
