import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, waitFor } from '@herald/testkit';
import { LiveTap, startHarness, type Harness } from './harness.js';

let nats: NatsServer;
let h: Harness;
let tap: LiveTap;
beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
  h = await startHarness(nats, { HERALD_STREAM_MAX_AGE_S: '3600' });
  tap = await LiveTap.start(nats.url, h.prefix);
});
afterAll(async () => {
  await tap?.close();
  await h?.close();
  await nats?.dispose();
});

const good = { tenant: 'acme', room: 'user:1', event: 'order.shipped', data: {} };

function nest(depth: number): Record<string, unknown> {
  let o: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) o = { d: o };
  return o;
}

/** Assert a refusal: status, problem code, problem+json, no internals, a security event. */
async function refused(send: Promise<Awaited<ReturnType<Harness['post']>>>, status: number, code: string) {
  const before = h.security().filter((e) => e.reason === code).length;
  const r = await send;
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body.code).toBe(code);
  expect(Object.keys(r.body).sort()).toEqual(expect.arrayContaining(['code', 'detail', 'status', 'title', 'type']));
  expect(r.text).not.toMatch(/at .*\(|node_modules|nats|Error:|FST_|stack/i);
  await waitFor(() => h.security().filter((e) => e.reason === code).length === before + 1, { what: `security event ${code}` });
  return r;
}

describe('request validation', () => {
  it.each([
    ['bad event name', { ...good, event: 'Order Shipped' }, '/body/event'],
    ['event too long', { ...good, event: 'e'.repeat(65) }, '/body/event'],
    ['bad room', { ...good, room: 'tenant:acme' }, '/body/room'],
    ['subject injection in room', { ...good, room: 'user:1.>' }, '/body/room'],
    ['subject injection in tenant', { ...good, tenant: 'acme.*' }, '/body/tenant'],
    ['missing data', { tenant: 'acme', room: 'user:1', event: 'e' }, '/body'],
    ['data is an array', { ...good, data: [1, 2] }, '/body/data'],
    ['unknown field', { ...good, extra: 1 }, '/body'],
    ['ttl not an integer', { ...good, ttl_s: 1.5 }, '/body/ttl_s'],
  ])('%s → 422 validation_failed', async (_name, body, pointer) => {
    const r = await refused(h.post('/v1/notifications', body), 422, 'validation_failed');
    expect(r.body.pointer).toBe(pointer);
  });

  it('data deeper than 16 → 422 data_too_deep; 16 is fine', async () => {
    expect((await h.post('/v1/notifications', { ...good, data: nest(16) })).status).toBe(202);
    await refused(h.post('/v1/notifications', { ...good, data: nest(17) }), 422, 'data_too_deep');
  });

  it('too many keys → 422 data_too_many_keys', async () => {
    const data = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]));
    await refused(h.post('/v1/notifications', { ...good, data }), 422, 'data_too_many_keys');
  });

  it('data over 32 KiB serialised → 422 data_too_large', async () => {
    await refused(h.post('/v1/notifications', { ...good, data: { s: 'x'.repeat(33 * 1024) } }), 422, 'data_too_large');
  });

  it('ttl_s beyond the stream retention → 422 ttl_too_long; within it → 202', async () => {
    await refused(h.post('/v1/notifications', { ...good, ttl_s: 3601 }), 422, 'ttl_too_long');
    expect((await h.post('/v1/notifications', { ...good, ttl_s: 60 })).status).toBe(202);
  });

  it('body over 64 KiB → 413', async () => {
    await refused(h.post('/v1/notifications', { ...good, data: { s: 'x'.repeat(70 * 1024) } }), 413, 'payload_too_large');
  });

  it('non-JSON content type → 415', async () => {
    await refused(h.post('/v1/notifications', null, { raw: 'hello', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    await refused(h.post('/v1/notifications', null, { raw: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
  });

  it('malformed JSON and prototype poisoning → 400 malformed_json', async () => {
    await refused(h.post('/v1/notifications', null, { raw: '{"tenant":' }), 400, 'malformed_json');
    await refused(h.post('/v1/notifications', null, { raw: '{"tenant":"acme","room":"user:1","event":"e","data":{"__proto__":{"x":1}}}' }), 400, 'malformed_json');
  });

  it('bad Idempotency-Key → 400', async () => {
    await refused(h.post('/v1/notifications', good, { headers: { 'idempotency-key': 'x'.repeat(129) } }), 400, 'invalid_idempotency_key');
  });

  it('unknown route → 404 problem', async () => {
    const r = await h.post('/v1/nope', good);
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('not_found');
  });
});

describe('sanitisation', () => {
  it('XSS in values, arrays and keys arrives sanitised, and the response counts the changes', async () => {
    const data = {
      title: '  <script>alert(1)</script>Order shipped  ',
      img: '<img src=x onerror=alert(1)>',
      list: ['<b>bold</b>', 'plain', { deep: ['<a href="javascript:alert(1)">link</a>'] }],
      '<img src=x onerror=alert(2)>key': 'v',
      n: 5,
      ok: true,
      none: null,
    };
    const r = await h.post('/v1/notifications', { ...good, event: 'xss.test', data });
    expect(r.status, r.text).toBe(202);
    expect(r.body.sanitized).toBe(5);
    await waitFor(() => tap.msgs.find((m) => m.seq === r.body.seq), { what: 'live copy' });
    const live = tap.msgs.find((m) => m.seq === r.body.seq)!;
    expect(live.body).not.toMatch(/<script|onerror|javascript:|<img|<b>/i);
    expect(JSON.parse(live.body).data).toEqual({
      title: 'Order shipped',
      img: '',
      list: ['bold', 'plain', { deep: ['link'] }],
      key: 'v',
      n: 5,
      ok: true,
      none: null,
    });
    expect(await h.metric('herald_publisher_sanitized_values_total')).toBeGreaterThanOrEqual(5);
  });

  it('keys that collide after sanitisation → 422 invalid_data_key', async () => {
    await refused(h.post('/v1/notifications', { ...good, data: { a: 1, '<b>a</b>': 2 } }), 422, 'invalid_data_key');
  });
});
