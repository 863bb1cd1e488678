import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { NatsServer, uniquePrefix, waitFor } from '@herald/testkit';
import { ensureStream } from '../src/index.js';
import { LiveTap, startHarness, type Harness } from './harness.js';

let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
});
afterAll(async () => {
  await nats?.dispose();
});

async function withHarness(fn: (h: Harness, tap: LiveTap) => Promise<void>, env: Record<string, string> = {}) {
  const h = await startHarness(nats, env);
  const tap = await LiveTap.start(nats.url, h.prefix);
  try {
    await fn(h, tap);
  } finally {
    await tap.close();
    await h.close();
  }
}

describe('POST /v1/notifications', () => {
  it('stores the notification and the republished live copy carries the same seq and exact body', () =>
    withHarness(async (h, tap) => {
      const res = await h.post('/v1/notifications', { tenant: 'acme', room: 'user:42', event: 'order.shipped', data: { order: 'A-1', n: 3 } });
      expect(res.status).toBe(202);
      const { id, seq } = res.body as { id: string; seq: number };
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(seq).toBeGreaterThan(0);
      await waitFor(() => tap.msgs.length === 1, { what: 'live copy' });
      const live = tap.msgs[0]!;
      expect(live.subject).toBe(`${h.prefix}.live.t.acme.u.42`);
      expect(live.seq).toBe(seq);
      const stored = JSON.parse(live.body) as Record<string, unknown>;
      expect(Object.keys(stored)).toEqual(['type', 'id', 'room', 'event', 'data', 'ts']);
      expect(stored).toMatchObject({ type: 'notification', id, room: 'user:42', event: 'order.shipped', data: { order: 'A-1', n: 3 } });
      // Exactly JSON.stringify(StoredNotification): the edge appends `,"seq":n}` to it.
      expect(live.body).toBe(JSON.stringify(stored));
      expect(Math.abs((stored.ts as number) - Date.now())).toBeLessThan(5_000);
    }));

  it('maps every room kind to its subject and ids are time-ordered like seqs', () =>
    withHarness(async (h, tap) => {
      const token = await h.token({ scopes: ['notify:publish', 'notify:global'] });
      const rooms = ['user:u1', 'tenant', 'room:lobby', 'global'];
      const out: Array<{ id: string; seq: number }> = [];
      for (const room of rooms) {
        const r = await h.post('/v1/notifications', { tenant: 'acme', room, event: 'e', data: {} }, { token });
        expect(r.status, r.text).toBe(202);
        out.push(r.body as { id: string; seq: number });
      }
      await waitFor(() => tap.msgs.length === 4, { what: '4 live copies' });
      expect(tap.msgs.map((m) => m.subject)).toEqual([
        `${h.prefix}.live.t.acme.u.u1`,
        `${h.prefix}.live.t.acme.all`,
        `${h.prefix}.live.t.acme.r.lobby`,
        `${h.prefix}.live.global`,
      ]);
      expect(tap.msgs.map((m) => m.seq)).toEqual(out.map((o) => o.seq));
      const ids = out.map((o) => o.id);
      expect([...ids].sort()).toEqual(ids);
    }));

  it('global needs notify:global', () =>
    withHarness(async (h) => {
      const r = await h.post('/v1/notifications', { tenant: 'acme', room: 'global', event: 'e', data: {} });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('missing_scope');
    }));
});

describe('idempotency', () => {
  it('a retry with the same key returns the original {id, seq} and is delivered once', () =>
    withHarness(async (h, tap) => {
      const body = { tenant: 'acme', room: 'user:7', event: 'invoice.paid', data: { v: 1 } };
      const headers = { 'idempotency-key': 'pay-123' };
      const first = await h.post('/v1/notifications', body, { headers });
      const second = await h.post('/v1/notifications', { ...body, data: { v: 2 } }, { headers });
      expect(first.status).toBe(202);
      expect(second.status).toBe(202);
      expect(second.body.id).toBe(first.body.id);
      expect(second.body.seq).toBe(first.body.seq);
      expect(second.body.duplicate).toBe(true);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      // A marker published after the retry proves the retry would have arrived by now.
      const marker = await h.post('/v1/notifications', { ...body, event: 'marker' });
      await waitFor(() => tap.msgs.some((m) => m.seq === marker.body.seq), { what: 'marker' });
      const stored = tap.msgs.filter((m) => m.body.includes('invoice.paid'));
      expect(stored).toHaveLength(1);
      expect(stored[0]!.headers['Nats-Msg-Id']).toBe('acme:s:pay-123');
      expect(await h.metric('herald_publisher_notifications_total', { result: 'duplicate' })).toBe(1);
    }));

  it('keys are scoped per tenant: the same key in two tenants stores two messages', () =>
    withHarness(async (h) => {
      const headers = { 'idempotency-key': 'same' };
      const a = await h.post('/v1/notifications', { tenant: 'acme', room: 'tenant', event: 'e', data: {} }, { headers });
      const b = await h.post('/v1/notifications', { tenant: 'beta', room: 'tenant', event: 'e', data: {} }, { headers });
      expect(a.status).toBe(202);
      expect(b.status).toBe(202);
      expect(b.body.seq).not.toBe(a.body.seq);
      expect(b.body.duplicate).toBe(false);
    }));
});

describe('POST /v1/notifications/batch', () => {
  it('publishes good items and reports bad ones without failing the batch', () =>
    withHarness(async (h, tap) => {
      const notifications = [
        { tenant: 'acme', room: 'user:1', event: 'ok.one', data: { a: 1 } },
        { tenant: 'acme', room: 'user:2', event: 'BAD EVENT', data: {} },
        { tenant: 'other', room: 'user:3', event: 'e', data: {} },
        { tenant: 'acme', room: 'global', event: 'e', data: {} },
        { tenant: 'beta', room: 'room:r1', event: 'ok.two', data: { s: '<b>x</b>' } },
        { tenant: 'acme', room: 'user:4', event: 'e', data: {}, extra: true },
      ];
      const r = await h.post('/v1/notifications/batch', { notifications }, { headers: { 'idempotency-key': 'batch-1' } });
      expect(r.status, r.text).toBe(200);
      const results = r.body.results as Array<Record<string, unknown>>;
      expect(r.body.accepted).toBe(2);
      expect(r.body.rejected).toBe(4);
      expect(results.map((x) => x.status)).toEqual([202, 422, 403, 403, 202, 422]);
      expect(results.map((x) => (x.problem as { code?: string } | undefined)?.code)).toEqual([
        undefined,
        'validation_failed',
        'tenant_not_allowed',
        'missing_scope',
        undefined,
        'validation_failed',
      ]);
      expect((results[1]!.problem as { pointer: string }).pointer).toBe('/body/notifications/1/event');
      expect(results[4]!.sanitized).toBe(1);
      await waitFor(() => tap.msgs.length === 2, { what: 'two live copies' });
      expect(tap.msgs.map((m) => m.seq)).toEqual([results[0]!.seq, results[4]!.seq]);
      // Retrying the batch with the same key answers with the originals and delivers nothing new.
      const again = await h.post('/v1/notifications/batch', { notifications }, { headers: { 'idempotency-key': 'batch-1' } });
      const r2 = again.body.results as Array<Record<string, unknown>>;
      expect([r2[0]!.id, r2[0]!.seq, r2[4]!.id, r2[4]!.seq]).toEqual([results[0]!.id, results[0]!.seq, results[4]!.id, results[4]!.seq]);
      expect(r2[0]!.duplicate).toBe(true);
      expect(await h.metric('herald_publisher_rejected_total', { reason: 'validation_failed' })).toBe(4);
      expect(h.security().filter((e) => e.reason === 'validation_failed').map((e) => e.count)).toEqual([2, 2]);
    }));

  it('refuses a batch over the configured maximum with 422', () =>
    withHarness(
      async (h) => {
        const item = { tenant: 'acme', room: 'user:1', event: 'e', data: {} };
        const r = await h.post('/v1/notifications/batch', { notifications: [item, item, item, item] });
        expect(r.status).toBe(422);
        expect(r.body.code).toBe('validation_failed');
        expect(r.body.pointer).toBe('/body/notifications');
      },
      { HERALD_BATCH_MAX: '3' },
    ));
});

describe('ensureStream', () => {
  it('creates, leaves alone, then updates the stream idempotently', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const prefix = uniquePrefix();
      const opts = { name: `E_${prefix}`, prefix, maxAgeS: 3600, duplicateWindowS: 60, maxBytes: 1024 * 1024 };
      expect((await ensureStream(jsm, opts)).action).toBe('created');
      expect((await ensureStream(jsm, opts)).action).toBe('unchanged');
      const updated = await ensureStream(jsm, { ...opts, maxAgeS: 7200, maxMsgsPerSubject: 50 });
      expect(updated.action).toBe('updated');
      const c = updated.info.config;
      expect(c.subjects).toEqual([`${prefix}.n.>`]);
      expect(c.republish).toMatchObject({ src: `${prefix}.n.>`, dest: `${prefix}.live.>` });
      expect(c.max_age).toBe(7200 * 1e9);
      expect(c.max_msgs_per_subject).toBe(50);
      expect(c.duplicate_window).toBe(60 * 1e9);
      expect(c.allow_direct).toBe(true);
      expect(c.storage).toBe('file');
      await jsm.streams.delete(opts.name);
    } finally {
      await nc.close();
    }
  });
});
