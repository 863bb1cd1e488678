import { describe, expect, it } from 'vitest';
import { MemoryBus, type BusMessage } from '@herald/edge';
import { MemoryHistory } from './history.js';

const body = (n: number) => JSON.stringify({ type: 'notification', id: `n${n}`, room: 'user:a', event: 'e', data: { n }, ts: 1 });

function ring(over: Partial<ConstructorParameters<typeof MemoryHistory>[1]> = {}, now = { t: 1_000_000 }) {
  const bus = new MemoryBus();
  const h = new MemoryHistory(bus, { prefix: 'hx', maxAgeS: 60, maxBytes: 1 << 20, maxMsgs: 1000, duplicateWindowS: 120, now: () => now.t, ...over });
  return { bus, h, now };
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('memory history ring', () => {
  it('assigns sequences and republishes from n to live with Nats-Sequence', async () => {
    const { bus, h } = ring();
    const got: BusMessage[] = [];
    bus.subscribe('hx.live.t.acme.u.a', (m) => got.push(m));
    expect(await h.store('hx.n.t.acme.u.a', body(1), { headers: new Map([['traceparent', 'tp']]) })).toEqual({ seq: 1, duplicate: false });
    expect(await h.store('hx.n.t.acme.u.b', body(2))).toEqual({ seq: 2, duplicate: false });
    await bus.flush();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ subject: 'hx.live.t.acme.u.a', seq: 1 });
    expect(got[0]!.headers?.get('traceparent')).toBe('tp');
    expect(new TextDecoder().decode(got[0]!.data)).toBe(body(1));
    expect(h.stored(2)).toMatchObject({ id: 'n2' });
    expect(await h.bounds()).toEqual({ first: 1, last: 2 });
  });

  it('de-duplicates idempotency keys within the window only', async () => {
    const { h, now } = ring();
    expect(await h.store('hx.n.global', body(1), { msgId: 'k' })).toEqual({ seq: 1, duplicate: false });
    expect(await h.store('hx.n.global', body(1), { msgId: 'k' })).toEqual({ seq: 1, duplicate: true });
    now.t += 121_000;
    expect(await h.store('hx.n.global', body(1), { msgId: 'k' })).toEqual({ seq: 2, duplicate: false });
  });

  it('replays only the given subjects after the cursor, in order, with seq appended', async () => {
    const { h } = ring();
    for (let i = 1; i <= 6; i++) await h.store(i % 2 ? 'hx.n.t.acme.u.a' : 'hx.n.t.acme.all', body(i));
    await h.store('hx.n.t.other.u.a', body(7));
    const plan = await h.replay(['hx.live.t.acme.u.a', 'hx.live.global'], 1, 100);
    expect(plan.kind).toBe('messages');
    if (plan.kind !== 'messages') return;
    const msgs = await all(plan.messages);
    expect(msgs.map((m) => m.seq)).toEqual([3, 5]);
    expect(plan.count).toBe(2);
    expect(JSON.parse(msgs[0]!.text)).toMatchObject({ id: 'n3', seq: 3 });
    expect(await h.replay(['hx.live.t.acme.u.a', 'hx.live.t.acme.all'], 0, 5)).toEqual({ kind: 'overflow', pending: 6 });
    const upTo = await h.replay(['hx.live.t.acme.u.a'], 0, 100, 4);
    expect(upTo.kind === 'messages' ? (await all(upTo.messages)).map((m) => m.seq) : upTo).toEqual([1, 3]);
  });

  it('forgets by age, size and count; bounds move so resume can report a gap', async () => {
    const { h, now } = ring({ maxMsgs: 3 });
    for (let i = 1; i <= 5; i++) await h.store('hx.n.global', body(i));
    expect(await h.bounds()).toEqual({ first: 3, last: 5 });
    expect(h.stored(2)).toBeUndefined();
    now.t += 61_000;
    expect(await h.bounds()).toEqual({ first: 6, last: 5 });
    const small = ring({ maxBytes: 3 * (body(1).length + 'hx.n.global'.length) });
    for (let i = 1; i <= 5; i++) await small.h.store('hx.n.global', body(i));
    expect(await small.h.bounds()).toEqual({ first: 3, last: 5 });
  });

  it('hides a message past its own ttl', async () => {
    const { h, now } = ring();
    await h.store('hx.n.global', body(1), { ttlS: 1 });
    await h.store('hx.n.global', body(2));
    now.t += 1_500;
    const plan = await h.replay(['hx.live.global'], 0, 10);
    expect(plan.kind === 'messages' ? (await all(plan.messages)).map((m) => m.seq) : plan).toEqual([2]);
    expect(h.stored(1)).toBeUndefined();
  });
});
