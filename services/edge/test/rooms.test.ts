import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, TestClient, mintToken, waitFor } from '@herald/testkit';
import { startTestEdge, TestSource, type TestEdge } from './harness.js';

let nats: NatsServer;
let edge: TestEdge;
let source: TestSource;

beforeAll(async () => {
  nats = await NatsServer.start();
  edge = await startTestEdge(nats.url);
  source = await TestSource.create(nats, edge.prefix);
});

afterAll(async () => {
  await source?.close();
  await edge?.close();
  await nats?.dispose();
});

async function client(claims: Parameters<typeof mintToken>[0]) {
  const c = new TestClient(edge.wsUrl);
  const welcome = await c.auth(await mintToken(claims));
  return { c, welcome };
}

describe('rooms from claims', () => {
  it('joins the user room, and the tenant room only with an admin role', async () => {
    const member = await client({ sub: 'u1', tid: 'acme' });
    const admin = await client({ sub: 'u2', tid: 'acme', roles: ['admin'] });
    expect(member.welcome.rooms).toEqual(['user:u1']);
    expect(admin.welcome.rooms).toEqual(['user:u2', 'tenant']);
    expect(member.welcome.conn).toMatch(/^[a-f0-9]+-[a-z0-9]+$/);
    expect(member.welcome.heartbeat_s).toBe(60);

    const seqTenant = await source.publish('acme', { kind: 'tenant' }, { n: 1 });
    const seqUser = await source.publish('acme', { kind: 'user', id: 'u1' }, { n: 2 });
    const [adminMsg] = await admin.c.waitNotifications(1);
    const [userMsg] = await member.c.waitNotifications(1);
    expect(adminMsg).toMatchObject({ type: 'notification', room: 'tenant', data: { n: 1 }, seq: seqTenant });
    expect(userMsg).toMatchObject({ type: 'notification', room: 'user:u1', data: { n: 2 }, seq: seqUser });
    // The plain member never got the tenant notification; the admin never got u1's.
    await source.publish('acme', { kind: 'user', id: 'u1' }, { n: 3 });
    await member.c.waitNotifications(2);
    expect(member.c.notifications().map((m) => (m.data as { n: number }).n)).toEqual([2, 3]);
    expect(admin.c.notifications().map((m) => (m.data as { n: number }).n)).toEqual([1]);
    member.c.close();
    admin.c.close();
  });

  it('never delivers tenant B messages to tenant A, even for the same user id', async () => {
    const a = await client({ sub: 'same', tid: 'tenantA', roles: ['admin'] });
    const b = await client({ sub: 'same', tid: 'tenantB', roles: ['admin'] });
    await source.publish('tenantB', { kind: 'user', id: 'same' }, { to: 'B-user' });
    await source.publish('tenantB', { kind: 'tenant' }, { to: 'B-tenant' });
    await source.publish('tenantA', { kind: 'user', id: 'same' }, { to: 'A-user' });
    await b.c.waitNotifications(2);
    await a.c.waitNotifications(1);
    // A's own message arrived after B's were published: B's would have arrived first.
    expect(a.c.notifications().map((m) => (m.data as { to: string }).to)).toEqual(['A-user']);
    expect(b.c.notifications().map((m) => (m.data as { to: string }).to).sort()).toEqual(['B-tenant', 'B-user']);
    a.c.close();
    b.c.close();
  });

  it('gives the global room to super admins only', async () => {
    const sa = await client({ sub: 'root', tid: 'ops', roles: ['super_admin'] });
    const admin = await client({ sub: 'adm', tid: 'acme', roles: ['admin'] });
    expect(sa.welcome.rooms).toEqual(['user:root', 'global']);
    await source.publish('ignored', { kind: 'global' }, { g: true });
    await source.publish('acme', { kind: 'user', id: 'adm' }, { marker: true });
    await sa.c.waitNotifications(1);
    await admin.c.waitNotifications(1);
    expect(sa.c.notifications()[0]).toMatchObject({ room: 'global', data: { g: true } });
    expect(admin.c.notifications().map((m) => m.room)).toEqual(['user:adm']);
    sa.c.close();
    admin.c.close();
  });

  it('lets a client subscribe to a room its token grants, and refuses others', async () => {
    const { c } = await client({ sub: 'r1', tid: 'acme', rooms: ['ops'] });
    c.send({ type: 'subscribe', room: 'room:ops' });
    await c.next('subscribed');
    c.send({ type: 'subscribe', room: 'room:finance' });
    const err = await c.next('error');
    expect(err).toEqual({ type: 'error', code: 'FORBIDDEN', message: 'Not allowed.' });
    c.send({ type: 'subscribe', room: 'user:someone-else' });
    await waitFor(() => c.of('error').length === 2);
    expect(edge.logs.security('forbidden').length).toBeGreaterThanOrEqual(2);

    await source.publish('acme', { kind: 'room', id: 'finance' }, { secret: 1 });
    await source.publish('acme', { kind: 'room', id: 'ops' }, { ops: 1 });
    await c.waitNotifications(1);
    expect(c.notifications()).toHaveLength(1);
    expect(c.notifications()[0]).toMatchObject({ room: 'room:ops', data: { ops: 1 } });

    c.send({ type: 'unsubscribe', room: 'room:ops' });
    await c.next('unsubscribed');
    await source.publish('acme', { kind: 'room', id: 'ops' }, { ops: 2 });
    await source.publish('acme', { kind: 'user', id: 'r1' }, { marker: 1 });
    await c.waitNotifications(2);
    expect(c.notifications().map((m) => m.room)).toEqual(['room:ops', 'user:r1']);
    expect(c.closeCode).toBeUndefined();
    c.close();
  });

  it('lets TENANT_ROOM_ROLES=* put every member in the tenant room', async () => {
    const open = await startTestEdge(nats.url, { HERALD_TENANT_ROOM_ROLES: '*' }, { prefix: edge.prefix });
    try {
      const c = new TestClient(open.wsUrl);
      const w = await c.auth(await mintToken({ sub: 'm', tid: 'acme' }));
      expect(w.rooms).toEqual(['user:m', 'tenant']);
      c.close();
    } finally {
      await open.close();
    }
  });
});
