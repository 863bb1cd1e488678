import { afterAll, beforeAll, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { NatsServer } from '@herald/testkit';
import { startHarness, type Harness } from './harness.js';

let nats: NatsServer;
let h: Harness;
let doc: Record<string, any>;
beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
  h = await startHarness(nats);
  const res = await fetch(`${h.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Record<string, any>;
});
afterAll(async () => {
  await h?.close();
  await nats?.dispose();
});

it('is a valid OpenAPI 3.1 document', async () => {
  expect(doc.openapi).toBe('3.1.0');
  const result = await new Validator().validate(doc);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
});

it('documents exactly the API routes, and each documented operation exists', () => {
  const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
  );
  expect(documented.sort()).toEqual(['POST /v1/notifications', 'POST /v1/notifications/batch', 'POST /v1/revocations']);
  for (const op of documented) {
    const [method, url] = op.split(' ') as [string, string];
    expect(h.p.app.hasRoute({ method: method as 'POST', url }), op).toBe(true);
  }
  expect(doc.components.securitySchemes.serviceToken).toMatchObject({ type: 'http', scheme: 'bearer' });
  expect(Object.keys(doc.paths['/v1/notifications'].post.responses)).toEqual(
    expect.arrayContaining(['202', '400', '401', '403', '413', '415', '422', '429', '503']),
  );
});

it('its request schemas accept and refuse the same bodies as the routes', async () => {
  const ajv = new Ajv2020({ strict: false });
  const single = ajv.compile(doc.paths['/v1/notifications'].post.requestBody.content['application/json'].schema);
  const batch = ajv.compile(doc.paths['/v1/notifications/batch'].post.requestBody.content['application/json'].schema);
  const good = { tenant: 'acme', room: 'user:1', event: 'a.b', data: { x: 1 } };
  const bodies: unknown[] = [
    good,
    { ...good, event: 'A B' },
    { ...good, room: 'user:a.b' },
    { ...good, tenant: 'x*' },
    { ...good, data: [] },
    { ...good, more: 1 },
    { ...good, ttl_s: 10 },
    { ...good, ttl_s: 0 },
  ];
  for (const body of bodies) {
    const r = await h.post('/v1/notifications', body);
    expect([202, 422], JSON.stringify(body)).toContain(r.status);
    expect(single(body), JSON.stringify(body)).toBe(r.status === 202);
    const b = await h.post('/v1/notifications/batch', { notifications: [body] });
    const itemOk = (b.body.results as Array<{ status: number }>)[0]!.status === 202;
    expect(batch({ notifications: [body] }), JSON.stringify(body)).toBe(itemOk);
  }
  expect(batch({ notifications: Array(501).fill(good) })).toBe(false);
});
